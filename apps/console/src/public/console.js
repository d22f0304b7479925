// The Nephele console: an API token, then three panels kept live — deployables with their
// assembly and service health, autoscaling groups (desired/active), and the event stream.
// Plain browser JavaScript, no framework and no build step: src/public is embedded into
// console.assets.ts (`node apps/console/tools/embed.mjs`). Every text from the API reaches the page
// through textContent or attributes, never as HTML. The token lives in sessionStorage only.
import { createSseParser } from './sse.js';

const TOKEN_KEY = 'nephele.console.token';
const POLL_MS = 2000;
const MAX_EVENTS = 200;
const STREAM_PATH = '/v1/events/stream?type=nephele.*';
/** Events after which the lists are worth reading again at once rather than at the next poll. */
const REFRESHING = /^nephele\.(deployable|assembly|service|instance|group|dpe)\./;

/** State → colour tone; the state is always written out too (colour is never the only signal). */
const TONES = {
  running: 'ok',
  online: 'ok',
  active: 'ok',
  ACTIVE: 'ok',
  starting: 'info',
  pending: 'info',
  building: 'info',
  recovering: 'warn',
  leaving: 'warn',
  degraded: 'bad',
  failed: 'fail',
  error: 'fail',
  ERROR: 'fail',
  stopped: 'off',
  deleting: 'off',
  DELETING: 'off',
};

const session = {
  /** '' = the API is on this page's origin (all-in-one, or an ingress serving both). */
  apiUrl: '',
  token: '',
  /** Bumped on every token change: answers that belong to an older token are dropped. */
  generation: 0,
  rejected: false,
};

const $ = (selector, root = document) => root.querySelector(selector);
const panels = { deployables: $('#deployables'), groups: $('#groups'), events: $('#events') };
const form = $('#token-form');
const tokenInput = $('#token');

// ------------------------------------------------------------------ DOM helpers

/** Creates an element; children are nodes or text (text is never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function badge(state) {
  const s = state == null || state === '' ? 'unknown' : String(state);
  return h('span', { class: `badge tone-${TONES[s] ?? 'off'}`, 'data-state': s }, s);
}

const text = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

function setText(el, value, error = false) {
  if (el.textContent !== value) el.textContent = value;
  el.classList.toggle('error', error);
}

function setNote(panel, note) {
  const el = $('.note', panel);
  if (el.textContent !== note) el.textContent = note;
  el.hidden = !note;
}

const rendered = new Map();
/** Re-renders a panel only when its data changed (keeps text selection and quiet screen readers). */
function renderIfChanged(panel, data, build) {
  const key = JSON.stringify(data);
  if (rendered.get(panel) === key) return;
  rendered.set(panel, key);
  $('.content', panel).replaceChildren(...build());
}

function setConnection(message, error = false) {
  setText($('#connection'), message, error);
}

// ------------------------------------------------------------------ API access

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function problemOf(res) {
  try {
    const body = await res.json();
    return body && typeof body === 'object' ? body : null;
  } catch {
    return null;
  }
}

function authHeaders(extra) {
  return { ...extra, authorization: `Bearer ${session.token}` };
}

async function api(path) {
  let res;
  try {
    res = await fetch(session.apiUrl + path, {
      headers: authHeaders({ accept: 'application/json' }),
      cache: 'no-store',
    });
  } catch {
    throw new Error(`the API (${session.apiUrl || location.origin}) is not reachable`);
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  return res.json();
}

/** A readable rendering of an RFC 9457 problem (detail and field errors) or any other failure. */
function problemNodes(err) {
  if (!(err instanceof ApiError)) return [h('p', {}, err instanceof Error ? err.message : String(err))];
  if (err.status === 401) return [h('p', {}, 'token rejected')];
  const p = err.problem ?? {};
  const head = p.detail && p.title && p.title !== p.detail ? `${p.title}: ${p.detail}` : err.message;
  const errors = Array.isArray(p.errors) ? p.errors : [];
  return [
    h('p', {}, `${head} (HTTP ${err.status})`),
    errors.length
      ? h(
          'ul',
          {},
          errors.map((e) =>
            h('li', {}, e?.field ? [h('code', {}, text(e.field)), ': '] : null, text(e?.message ?? e)),
          ),
        )
      : null,
  ];
}

const shownProblems = new Map();
function showProblem(panel, err) {
  const box = $('.problem', panel);
  const nodes = err ? problemNodes(err) : [];
  const key = nodes.map((n) => n.textContent).join('\n');
  if (shownProblems.get(panel) === key) return;
  shownProblems.set(panel, key);
  box.replaceChildren(...nodes);
  box.hidden = !err;
}

function fail(panel, err) {
  if (err instanceof ApiError && err.status === 401) rejectToken();
  showProblem(panel, err);
}

// ------------------------------------------------------------------ deployables

function servicesList(services, assembly) {
  if (!Array.isArray(services) || !services.length) return '—';
  // Service ids are `<assembly>/<service>`; inside the assembly's row its name is enough.
  const short = (name) => (String(name).startsWith(`${assembly}/`) ? name.slice(assembly.length + 1) : name);
  return h(
    'ul',
    { class: 'services' },
    services.map((s) => h('li', { 'data-service': s.name }, h('span', {}, short(s.name)), badge(s.state))),
  );
}

function assembliesTable(d) {
  const cols = ['Assembly', 'State', 'Instance', 'Addresses', 'Services'];
  return h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, `Assemblies of ${d.name}`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        cols.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      {},
      d.assemblies.map((a) => {
        const addresses = Array.isArray(a.addresses) ? a.addresses.map(text) : [];
        return h(
          'tr',
          { 'data-assembly': a.name },
          h('th', { scope: 'row' }, a.name),
          h('td', {}, badge(a.state)),
          h('td', {}, a.instanceId ? h('code', { title: a.instanceId }, a.instanceId.slice(0, 8)) : '—'),
          h('td', {}, addresses.length ? h('span', { class: 'mono' }, addresses.join(', ')) : '—'),
          h('td', {}, servicesList(a.services, a.name)),
        );
      }),
    ),
  );
}

function deployableView(d) {
  const titleId = `deployable-${d.id}`;
  return h(
    'article',
    { class: 'deployable', 'aria-labelledby': titleId, 'data-id': d.id, 'data-name': d.name },
    h(
      'header',
      {},
      h('h3', { id: titleId }, d.name),
      badge(d.status),
      d.reason ? h('span', { class: 'reason' }, d.reason) : null,
    ),
    Array.isArray(d.assemblies) && d.assemblies.length
      ? assembliesTable(d)
      : h('p', { class: 'muted' }, 'No assembly reported yet.'),
  );
}

async function refreshDeployables(generation) {
  const panel = panels.deployables;
  try {
    const page = await api('/v1/deployables?limit=200');
    if (generation !== session.generation) return;
    const items = [...page.items].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    showProblem(panel, null);
    setNote(
      panel,
      !items.length
        ? 'No deployables yet.'
        : page.nextCursor
          ? `Showing the first ${items.length} deployables.`
          : '',
    );
    renderIfChanged(panel, items, () => items.map(deployableView));
    if (!session.rejected)
      setConnection(`Connected${session.apiUrl ? ` to ${session.apiUrl}` : ''}; lists refresh every 2 s.`);
  } catch (e) {
    if (generation === session.generation) fail(panel, e);
  }
}

// ------------------------------------------------------------------ groups

function groupRow(g, state) {
  const name = g.config?.name ?? g.name ?? g.id;
  const s = state && !(state instanceof Error) ? state : undefined;
  const n = (v) => h('td', { class: 'num' }, v ?? '—');
  return h(
    'tr',
    { 'data-id': g.id, 'data-name': name },
    h('th', { scope: 'row' }, name),
    h(
      'td',
      {},
      badge(s?.status ?? g.state?.status),
      s?.paused ? ' paused' : null,
      state instanceof Error ? h('span', { class: 'reason' }, ` state unavailable: ${state.message}`) : null,
    ),
    n(s?.desiredCapacity ?? g.state?.desiredCapacity),
    n(s?.activeCapacity),
    n(s?.pendingCapacity),
  );
}

async function refreshGroups(generation) {
  const panel = panels.groups;
  let page;
  try {
    page = await api('/v1/groups?limit=100');
  } catch (e) {
    if (generation !== session.generation) return;
    if (e instanceof ApiError && e.status === 404) {
      // The API has no /v1/groups: this installation runs without the scaler.
      showProblem(panel, null);
      setNote(panel, 'Autoscaling is not available here: no scaler serves /v1/groups behind this API.');
      renderIfChanged(panel, null, () => []);
      return;
    }
    fail(panel, e);
    return;
  }
  const states = await Promise.all(
    page.items.map((g) => api(`/v1/groups/${encodeURIComponent(g.id)}/state`).catch((e) => e)),
  );
  if (generation !== session.generation) return;
  showProblem(panel, null);
  setNote(panel, page.items.length ? '' : 'No groups yet.');
  const rows = page.items.map((g, i) => [
    g,
    states[i] instanceof Error ? { error: states[i].message } : states[i],
  ]);
  renderIfChanged(panel, rows, () =>
    page.items.length
      ? [
          h(
            'table',
            {},
            h('caption', { class: 'visually-hidden' }, 'Autoscaling groups'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Group'),
                h('th', { scope: 'col' }, 'Status'),
                h('th', { scope: 'col', class: 'num' }, 'Desired'),
                h('th', { scope: 'col', class: 'num' }, 'Active'),
                h('th', { scope: 'col', class: 'num' }, 'Pending'),
              ),
            ),
            h(
              'tbody',
              {},
              page.items.map((g, i) => groupRow(g, states[i])),
            ),
          ),
        ]
      : [],
  );
}

// ------------------------------------------------------------------ polling

let busy = false;
let queued = false;
let soon;

async function refresh() {
  if (!session.token || session.rejected) return;
  if (busy) {
    queued = true;
    return;
  }
  busy = true;
  try {
    const generation = session.generation;
    await Promise.all([refreshDeployables(generation), refreshGroups(generation)]);
  } finally {
    busy = false;
  }
  if (queued) {
    queued = false;
    void refresh();
  }
}

function refreshSoon() {
  clearTimeout(soon);
  soon = setTimeout(() => void refresh(), 250);
}

setInterval(() => void refresh(), POLL_MS);

// ------------------------------------------------------------------ live events

const seenIds = new Set();

function addEvent(message) {
  let ev;
  try {
    ev = JSON.parse(message.data);
  } catch {
    return;
  }
  if (!ev || typeof ev !== 'object') return;
  // Delivery is at least once (a resume may replay): show each CloudEvent id once.
  if (ev.id) {
    if (seenIds.has(ev.id)) return;
    seenIds.add(ev.id);
    if (seenIds.size > MAX_EVENTS * 5) seenIds.delete(seenIds.values().next().value);
  }
  const at = new Date(ev.time ?? Date.now());
  const valid = !Number.isNaN(at.getTime());
  const list = $('.event-list', panels.events);
  list.prepend(
    h(
      'li',
      { 'data-type': ev.type, 'data-id': ev.id },
      h(
        'time',
        valid ? { datetime: at.toISOString(), title: at.toISOString() } : {},
        valid ? at.toLocaleTimeString() : text(ev.time),
      ),
      h('span', { class: 'type' }, text(ev.type ?? '(no type)')),
      h('span', { class: 'subject mono' }, ev.subject != null ? text(ev.subject) : text(ev.source ?? '')),
    ),
  );
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  if (REFRESHING.test(ev.type ?? '')) refreshSoon();
}

function streamState(message) {
  setText($('.stream-state', panels.events), message);
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * The event stream read with fetch() so it can carry the Authorization header. On any failure it
 * reconnects with backoff and `Last-Event-ID`, so no event is missed across a reconnect.
 */
class EventStream {
  #controller = null;
  #lastId = '';

  start() {
    this.stop();
    this.#controller = new AbortController();
    void this.#run(this.#controller.signal);
  }

  stop() {
    this.#controller?.abort();
    this.#controller = null;
  }

  /** Stops and forgets the resume point (a new token is a new session). */
  reset() {
    this.stop();
    this.#lastId = '';
  }

  async #run(signal) {
    let retryMs = 2000;
    let failures = 0;
    while (!signal.aborted) {
      streamState(this.#lastId ? 'reconnecting…' : 'connecting…');
      try {
        const headers = authHeaders({ accept: 'text/event-stream' });
        if (this.#lastId) headers['last-event-id'] = this.#lastId;
        const res = await fetch(session.apiUrl + STREAM_PATH, { headers, signal, cache: 'no-store' });
        if (res.status === 401) {
          rejectToken();
          return;
        }
        if (!res.ok || !res.body) {
          const err = new ApiError(res.status, await problemOf(res));
          // The resume point is gone (retention, another server): start from now instead.
          if (res.status === 400 && this.#lastId) this.#lastId = '';
          throw err;
        }
        showProblem(panels.events, null);
        streamState('live');
        failures = 0;
        const parser = createSseParser(addEvent, (ms) => {
          retryMs = ms;
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
          if (parser.lastEventId) this.#lastId = parser.lastEventId;
        }
        throw new Error('the stream ended');
      } catch (e) {
        if (signal.aborted) return;
        failures += 1;
        const wait = Math.min(retryMs * 2 ** Math.min(failures - 1, 4), 30_000);
        if (e instanceof ApiError) showProblem(panels.events, e);
        streamState(
          `disconnected (${e instanceof Error ? e.message : String(e)}); retrying in ${Math.ceil(wait / 1000)} s`,
        );
        await sleep(wait, signal);
      }
    }
  }
}

const stream = new EventStream();

// ------------------------------------------------------------------ token and start-up

function clearPanels() {
  for (const panel of [panels.deployables, panels.groups]) {
    rendered.delete(panel);
    $('.content', panel).replaceChildren();
    setNote(panel, '');
  }
  for (const panel of Object.values(panels)) showProblem(panel, null);
  $('.event-list', panels.events).replaceChildren();
  seenIds.clear();
}

function rejectToken() {
  if (session.rejected) return;
  session.rejected = true;
  stream.stop();
  setConnection('token rejected: enter another token', true);
  streamState('token rejected');
  tokenInput.focus();
}

function connect(token) {
  session.token = token;
  session.generation += 1;
  session.rejected = false;
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenInput.value = '';
  tokenInput.placeholder = 'kept for this tab; enter another to switch';
  clearPanels();
  setConnection('connecting…');
  stream.reset();
  stream.start();
  void refresh();
}

function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = '';
  session.generation += 1;
  session.rejected = false;
  stream.reset();
  clearPanels();
  tokenInput.placeholder = '';
  setConnection('Enter an API token to connect.');
  streamState('not connected');
}

/** Where the API is: `console/config.json` (the standalone console's NEPHELE_API_URL). */
async function loadConfig() {
  try {
    const res = await fetch('console/config.json', { cache: 'no-store' });
    if (!res.ok) return;
    const config = await res.json();
    if (typeof config?.apiUrl === 'string') session.apiUrl = config.apiUrl.replace(/\/+$/, '');
  } catch {
    // No config: the API is on this origin.
  }
}

const ready = loadConfig();

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const token = tokenInput.value.trim();
  if (token) void ready.then(() => connect(token));
});
$('#forget').addEventListener('click', forget);

void ready.then(() => {
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) connect(saved);
});
