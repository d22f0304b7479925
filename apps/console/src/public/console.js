// The Nephele console: an API token, then every resource of the API behind a hash router
// (`#/deployables`, `#/groups/<id>`, `#/events`, …), with detail pages, actions behind a
// confirmation, an events history with filters and a live tail.
// Plain browser JavaScript, no framework and no build step: src/public is embedded into
// console.assets.ts (`node apps/console/tools/embed.mjs`). Every text from the API reaches the page
// through textContent or attributes, never as HTML. The token lives in sessionStorage only.
import { createSseParser } from './sse.js';

const TOKEN_KEY = 'nephele.console.token';
const POLL_MS = 2500;
const MAX_LIVE = 300;

/** State → colour tone; the state is always written out too (colour is never the only signal). */
const TONES = {
  running: 'ok',
  online: 'ok',
  active: 'ok',
  ACTIVE: 'ok',
  true: 'ok',
  starting: 'info',
  pending: 'info',
  building: 'info',
  creating: 'info',
  recovering: 'warn',
  leaving: 'warn',
  paused: 'warn',
  degraded: 'bad',
  failed: 'fail',
  error: 'fail',
  ERROR: 'fail',
  false: 'fail',
  stopped: 'off',
  deleting: 'off',
  DELETING: 'off',
  terminated: 'off',
};

const session = {
  /** '' = the API is on this page's origin (all-in-one, or an ingress serving both). */
  apiUrl: '',
  token: '',
  /** Bumped on every token change and every navigation: late answers of an older view are dropped. */
  generation: 0,
  rejected: false,
};

const $ = (selector, root = document) => root.querySelector(selector);
const view = $('#view');
const form = $('#token-form');
const tokenInput = $('#token');

// ------------------------------------------------------------------ DOM helpers

/** Creates an element; children are nodes or text (text is never parsed as HTML). `on*` attrs are listeners. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function badge(state) {
  const s = state == null || state === '' ? 'unknown' : String(state);
  return h('span', { class: `badge tone-${TONES[s] ?? 'off'}`, 'data-state': s }, s);
}

const text = (v) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const dash = (v) =>
  v == null || v === '' || (typeof v === 'object' && !Object.keys(v).length) ? '—' : text(Array.isArray(v) ? v.map(text).join(', ') : v);
const enc = encodeURIComponent;

function fmtTime(iso) {
  const t = new Date(iso);
  if (!iso || Number.isNaN(t.getTime())) return text(iso) || '—';
  return h('time', { datetime: t.toISOString(), title: t.toISOString() }, t.toLocaleString());
}

/** A table: columns [{label, value(row) → node|text, num?}], rows; `rowAttrs(row)` for data-* hooks. */
function table(caption, columns, rows, rowAttrs = () => ({})) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            rowAttrs(r),
            columns.map((c, i) => {
              const v = c.value(r);
              const cell = v instanceof Node ? v : dash(v);
              return i === 0 ? h('th', { scope: 'row' }, cell) : h('td', { class: c.num ? 'num' : null }, cell);
            }),
          ),
        ),
      ),
    ),
  );
}

function keyValues(pairs) {
  return h(
    'dl',
    { class: 'kv' },
    pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v instanceof Node ? v : dash(v))]),
  );
}

const link = (href, label) => h('a', { href }, label);

function setConnection(message, error = false) {
  const el = $('#connection');
  if (el.textContent !== message) el.textContent = message;
  el.classList.toggle('error', error);
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

/** One API call; JSON in and out (a string body is sent as is with its content type). */
async function api(path, { method = 'GET', body, contentType, headers = {} } = {}) {
  let res;
  const h2 = authHeaders({ accept: 'application/json', ...headers });
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h2['content-type'] = contentType ?? 'application/json';
  }
  try {
    res = await fetch(session.apiUrl + path, { method, headers: h2, body: payload, cache: 'no-store' });
  } catch {
    throw new Error(`the API (${session.apiUrl || location.origin}) is not reachable`);
  }
  if (res.status === 401) rejectToken();
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  if (res.status === 204) return { status: 204, body: null, etag: res.headers.get('etag') };
  const t = await res.text();
  let parsed = null;
  try {
    parsed = t ? JSON.parse(t) : null;
  } catch {
    parsed = t;
  }
  return { status: res.status, body: parsed, etag: res.headers.get('etag') };
}

const get = async (path) => (await api(path)).body;

/** Every item of a paged list (bounded: a console page shows at most `max`). */
async function all(path, max = 500) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=${Math.min(200, max)}${cursor ? `&cursor=${enc(cursor)}` : ''}`);
    items.push(...(page.items ?? []));
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items;
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
      ? h('ul', {}, errors.map((e) => h('li', {}, e?.field ? [h('code', {}, text(e.field)), ': '] : null, text(e?.message ?? e))))
      : null,
  ];
}

function problemBox(err) {
  return h('div', { class: 'problem', role: 'alert' }, problemNodes(err));
}

/** The outcome of the last action, shown at the top of the view for a while (`role=status`). */
let flashed = null;
const FLASH_MS = 10_000;

function flashNode() {
  if (!flashed || Date.now() - flashed.at > FLASH_MS) return null;
  return h('p', { id: 'flash', role: 'status', class: `flash${flashed.error ? ' error' : ''}` }, flashed.message);
}

function flash(message, error = false) {
  // Shown here and on the page the action leads to (a destroy goes back to the list), then gone.
  flashed = { message, error, at: Date.now(), hops: 0 };
  const node = flashNode();
  const old = $('#flash');
  if (old) old.replaceWith(node);
  else view.prepend(node);
}

// ------------------------------------------------------------------ confirmation

/** Asks before an action: resolves true on Confirm (a real <dialog>: focus trapped, Esc cancels). */
function confirmAction(title, detail, confirmLabel = 'Confirm') {
  const dialog = $('#confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = detail;
  $('#confirm-ok').textContent = confirmLabel;
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener('close', done);
      resolve(dialog.returnValue === 'ok');
    };
    dialog.returnValue = '';
    dialog.addEventListener('close', done);
    dialog.showModal();
    $('#confirm-ok').focus();
  });
}
$('#confirm-cancel').addEventListener('click', () => $('#confirm').close('cancel'));

/** Runs an action after confirmation; shows its outcome, then re-renders the view. */
async function act(title, detail, fn, { confirmLabel, success } = {}) {
  if (!(await confirmAction(title, detail, confirmLabel))) return false;
  try {
    const r = await fn();
    flash(typeof success === 'function' ? success(r) : (success ?? `${title}: done`));
    void render(false);
    return r ?? true;
  } catch (e) {
    flash(`${title} failed: ${problemNodes(e).map((n) => n.textContent).join(' ')}`, true);
    return false;
  }
}

function button(label, onclick, attrs = {}) {
  return h('button', { type: 'button', onclick, ...attrs }, label);
}

// ------------------------------------------------------------------ conditions and events

/** Conditions as a table: type, status, reason, message, since. */
function conditionsTable(caption, conditions) {
  if (!Array.isArray(conditions) || !conditions.length) return null;
  return table(
    caption,
    [
      { label: 'Condition', value: (c) => c.type },
      { label: 'Status', value: (c) => c.status },
      { label: 'Reason', value: (c) => h('span', { class: 'reason-code' }, dash(c.reason)) },
      { label: 'Message', value: (c) => c.message },
      { label: 'Since', value: (c) => fmtTime(c.lastTransitionTime) },
    ],
    conditions,
    (c) => ({ 'data-condition': c.type, class: c.status === 'True' && /fail|degrad|error/i.test(c.type) ? 'trouble' : null }),
  );
}

/** Positive conditions (`Ready`) are trouble when false; negative ones (`Failed`) when true. */
function troubles(conditions) {
  const positive = /^(ready|available|running|healthy|online|started)$/i;
  return (conditions ?? []).filter((c) => (positive.test(c.type) ? c.status !== 'True' : c.status === 'True'));
}

const conditionText = (c) => (c.message ? `${c.reason ?? c.type}: ${c.message}` : (c.reason ?? c.type));

/** Why an event happened: a DPE decision's explanation, else a reason or message in its data. */
function explanationOf(ev) {
  const d = ev?.data && typeof ev.data === 'object' ? ev.data : {};
  for (const k of ['explanation', 'reason', 'message', 'error']) if (typeof d[k] === 'string' && d[k]) return d[k];
  return '';
}

/** One event: time, type, subject, explanation; expands to its JSON. */
function eventItem(ev) {
  const why = explanationOf(ev);
  return h(
    'li',
    { 'data-type': ev.type, 'data-id': ev.id },
    h(
      'details',
      {},
      h(
        'summary',
        {},
        h('span', { class: 'when' }, fmtTime(ev.time)),
        h('span', { class: 'type' }, text(ev.type ?? '(no type)')),
        ev.subject != null ? h('span', { class: 'subject mono' }, text(ev.subject)) : null,
        why ? h('span', { class: 'why' }, why) : null,
      ),
      h('pre', { class: 'json' }, JSON.stringify(ev, null, 2)),
    ),
  );
}

function timeline(label, events) {
  if (!events.length) return h('p', { class: 'muted' }, 'No events yet.');
  return h('ol', { class: 'event-list timeline', 'aria-label': label }, [...events].reverse().map(eventItem));
}

/** The last `n` events about these subjects (oldest pages first, so read the tail). */
async function recentEvents(subjects, n = 30) {
  const out = [];
  for (const s of subjects) {
    const items = await all(`/v1/events?subject=${enc(s)}&since=${enc(new Date(Date.now() - 7 * 864e5).toISOString())}`, 2000);
    out.push(...items.slice(-n));
  }
  out.sort((a, b) => String(a.time).localeCompare(String(b.time)));
  return out.slice(-n);
}

// ------------------------------------------------------------------ views

/** Project id for creates by an admin token: the only project, else "default". */
let projectCache = null;
async function defaultProject() {
  if (projectCache) return projectCache;
  const projects = await all('/v1/projects');
  const p = projects.length === 1 ? projects[0] : projects.find((x) => x.name === 'default');
  projectCache = p?.id ?? null;
  return projectCache;
}

function section(title, ...children) {
  const id = `h-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

function pageHeader(title, ...extra) {
  return h('header', { class: 'page-head' }, h('h2', { id: 'page-title' }, title), extra);
}

const counts = (d) => {
  const as = d.assemblies ?? [];
  const ss = as.flatMap((a) => a.services ?? []);
  return `${as.filter((a) => a.state === 'online').length}/${as.length} · ${ss.filter((s) => s.state === 'running').length}/${ss.length}`;
};

const deployableReason = (d) => d.reason || troubles(d.conditions).map(conditionText).join('; ');

async function deployablesView() {
  const items = (await all('/v1/deployables')).sort((a, b) => a.name.localeCompare(b.name));
  return [
    pageHeader('Deployables', link('#/apply', 'Apply a deployable')),
    section(
      'All deployables',
      items.length
        ? table(
            'Deployables',
            [
              { label: 'Name', value: (d) => link(`#/deployables/${enc(d.id)}`, d.name) },
              { label: 'Status', value: (d) => badge(d.status) },
              { label: 'Assemblies · services up', value: counts },
              { label: 'Version', value: (d) => d.version, num: true },
              { label: 'Reason', value: (d) => h('span', { class: `reason${d.status === 'running' ? ' fine' : ''}` }, dash(deployableReason(d))) },
            ],
            items,
            (d) => ({ 'data-id': d.id, 'data-name': d.name }),
          )
        : h('p', { class: 'note' }, 'No deployables yet.'),
    ),
  ];
}

function shortService(assembly, name) {
  const s = String(name);
  return s.startsWith(`${assembly}/`) ? s.slice(assembly.length + 1) : s;
}

async function deployableView(id) {
  const d = await get(`/v1/deployables/${enc(id)}`);
  const events = await recentEvents([d.id], 40);
  const reason = deployableReason(d);
  const lifecycle = async (verb, detail) =>
    act(`${verb[0].toUpperCase()}${verb.slice(1)} ${d.name}`, detail, () => api(`/v1/deployables/${enc(d.id)}/${verb}`, { method: 'POST' }), {
      confirmLabel: verb[0].toUpperCase() + verb.slice(1),
      success: `${d.name}: ${verb} requested`,
    });
  return [
    pageHeader(
      d.name,
      badge(d.status),
      reason ? h('p', { class: `reason${d.status === 'running' ? ' fine' : ''}`, id: 'deployable-reason' }, reason) : null,
      h(
        'div',
        { class: 'actions' },
        button('Start', () => lifecycle('start', 'Start its assemblies and services.')),
        button('Stop', () => lifecycle('stop', 'Stop every service and instance; the configuration stays.')),
        d.status === 'failed' ? button('Retry', () => lifecycle('retry', 'Clear its failure budgets and let the DPE try again.')) : null,
        link(`#/apply/${enc(d.id)}`, 'Edit'),
        button(
          'Destroy',
          () =>
            act(`Destroy ${d.name}`, 'Its instances are destroyed and its configuration deleted. This cannot be undone.', () => api(`/v1/deployables/${enc(d.id)}`, { method: 'DELETE' }), {
              confirmLabel: 'Destroy',
              success: `${d.name} is being destroyed`,
            }).then((ok) => ok && (location.hash = '#/deployables')),
          { class: 'danger' },
        ),
      ),
    ),
    section(
      'Overview',
      keyValues([
        ['Id', h('code', {}, d.id)],
        ['Version', d.version],
        ['Desired', d.desired],
        ['Status', badge(d.status)],
        ['Updated', fmtTime(d.updatedAt)],
      ]),
      conditionsTable(`Conditions of ${d.name}`, d.conditions),
    ),
    section(
      'Assemblies and services',
      (d.assemblies ?? []).length
        ? (d.assemblies ?? []).map((a) =>
            h(
              'article',
              { class: 'assembly', 'data-assembly': a.name, 'aria-label': `assembly ${a.name}` },
              h('h3', {}, a.name, ' ', badge(a.state)),
              keyValues([
                ['Instance', a.instanceId ? h('code', {}, a.instanceId) : '—'],
                ['Addresses', a.addresses],
                ['Last heartbeat', a.lastHeartbeat ? fmtTime(a.lastHeartbeat) : '—'],
              ]),
              conditionsTable(`Conditions of ${a.name}`, a.conditions),
              (a.services ?? []).length
                ? table(
                    `Services of ${a.name}`,
                    [
                      { label: 'Service', value: (s) => shortService(a.name, s.name) },
                      // Group and clone columns only when some service of the deployable has one.
                      ...((d.assemblies ?? []).some((x) => (x.services ?? []).some((s) => s.group)) ? [{ label: 'Group', value: (s) => dash(s.group) }] : []),
                      ...((d.assemblies ?? []).some((x) => (x.services ?? []).some((s) => s.clone)) ? [{ label: 'Clone', value: (s) => dash(s.clone) }] : []),
                      { label: 'State', value: (s) => badge(s.state) },
                      { label: 'Reason', value: (s) => h('span', { class: 'reason' }, dash(troubles(s.conditions).map(conditionText).join('; '))) },
                    ],
                    a.services,
                    (s) => ({ 'data-service': shortService(a.name, s.name) }),
                  )
                : null,
            ),
          )
        : h('p', { class: 'muted' }, 'No assembly reported yet.'),
    ),
    section('Recent events', h('p', { class: 'muted' }, 'Newest first; each DPE decision with its explanation. Expand one to see its JSON.'), timeline(`Events of ${d.name}`, events)),
  ];
}

/** Finds the line of a problem's field (`assemblies[0].services[1].name`) in a YAML or JSON text. */
function lineOfField(source, field) {
  const lines = source.split('\n');
  const parts = String(field).match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let at = 0;
  let indent = -1;
  for (const part of parts) {
    const idx = /^\[(\d+)\]$/.exec(part);
    if (idx) {
      // The n-th list item below the current line.
      let seen = -1;
      let found = -1;
      for (let i = at + 1; i < lines.length; i++) {
        const m = /^(\s*)- /.exec(lines[i]);
        const ind = lines[i].search(/\S/);
        if (ind >= 0 && ind <= indent && !m) break;
        if (m && (found < 0 || m[1].length === lines[found].search(/\S/))) {
          seen += 1;
          if (found < 0) found = i;
          if (seen === Number(idx[1])) {
            at = i;
            indent = m[1].length;
            found = i;
            break;
          }
        }
      }
      continue;
    }
    const re = new RegExp(`^(\\s*)(- )?["']?${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:`);
    for (let i = at; i < lines.length; i++) {
      const m = re.exec(lines[i]);
      if (m) {
        at = i;
        indent = m[1].length;
        break;
      }
    }
  }
  return at;
}

async function applyView(id) {
  let existing = null;
  let source = '';
  let format = 'yaml';
  if (id) {
    existing = await get(`/v1/deployables/${enc(id)}`);
    try {
      const v = await get(`/v1/deployables/${enc(existing.id)}/versions/${existing.version}`);
      source = typeof v.source === 'string' ? v.source : JSON.stringify(v.document, null, 2);
      format = v.format === 'xml' ? 'xml' : v.format === 'json' ? 'json' : 'yaml';
    } catch {
      source = '';
    }
  }
  const editor = h('textarea', {
    id: 'document',
    name: 'document',
    rows: 22,
    spellcheck: 'false',
    'aria-describedby': 'document-help document-errors',
    value: source || 'name: hello\nassemblies:\n  - name: a1\n    image: debian-12\n    hardwareProfile: small\n    services:\n      - name: sleeper\n        class: process\n        command: ["sleep", "1000"]\n',
  });
  const formatSelect = h(
    'select',
    { id: 'format', name: 'format' },
    ['yaml', 'json', 'xml'].map((f) => h('option', { value: f, selected: f === format }, f.toUpperCase())),
  );
  const errorsBox = h('div', { id: 'document-errors', class: 'field-errors', 'aria-live': 'polite' });
  const gutter = h('ol', { class: 'gutter', 'aria-hidden': 'true' });
  const showErrors = (err) => {
    errorsBox.replaceChildren();
    gutter.replaceChildren();
    editor.removeAttribute('aria-invalid');
    if (!err) return;
    editor.setAttribute('aria-invalid', 'true');
    const problem = err instanceof ApiError ? err.problem ?? {} : {};
    const fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
    errorsBox.append(problemBox(err));
    if (!fieldErrors.length) return;
    const list = h('ul', { class: 'at-field' });
    for (const fe of fieldErrors) {
      const line = lineOfField(editor.value, fe.field ?? '');
      const go = () => {
        const lines = editor.value.split('\n');
        const start = lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0);
        editor.focus();
        editor.setSelectionRange(start, start + (lines[line]?.length ?? 0));
      };
      list.append(
        h(
          'li',
          { 'data-field': fe.field, 'data-line': line + 1 },
          h('button', { type: 'button', class: 'link', onclick: go }, `line ${line + 1}`),
          ' ',
          h('code', {}, text(fe.field)),
          `: ${text(fe.message)}`,
        ),
      );
      const mark = h('li', {}, `${line + 1}`);
      // Through the CSSOM: the CSP forbids style attributes.
      mark.style.setProperty('--line', String(line));
      gutter.append(mark);
    }
    errorsBox.append(list);
  };
  const submit = async (e) => {
    e.preventDefault();
    const body = editor.value;
    const type = { yaml: 'application/yaml', json: 'application/json', xml: 'application/xml' }[formatSelect.value];
    const target = existing ? `${existing.name} (a new version)` : 'a new deployable';
    // The stored text again stores nothing (the CLI also compares the data; here the text is enough).
    if (existing && source && body.trim() === source.trim()) {
      showErrors(null);
      location.hash = `#/deployables/${enc(existing.id)}`;
      flash(`${existing.name} unchanged (version ${existing.version})`);
      return;
    }
    if (!(await confirmAction('Apply the deployable', `Store ${target} and let its DPE act on it.`, 'Apply'))) return;
    try {
      let r;
      if (existing) {
        const cur = await api(`/v1/deployables/${enc(existing.id)}`);
        r = await api(`/v1/deployables/${enc(existing.id)}`, { method: 'PUT', body, contentType: type, headers: cur.etag ? { 'if-match': cur.etag } : {} });
      } else {
        const project = await defaultProject();
        r = await api(`/v1/deployables${project ? `?project=${enc(project)}` : ''}`, { method: 'POST', body, contentType: type });
      }
      showErrors(null);
      const unchanged = r.body?.unchanged || (existing && r.body?.version === existing.version);
      location.hash = `#/deployables/${enc(r.body.id)}`;
      flash(unchanged ? `${r.body.name} unchanged (version ${r.body.version})` : `${r.body.name} stored as version ${r.body.version}`);
    } catch (err) {
      showErrors(err);
    }
  };
  return [
    pageHeader(existing ? `Edit ${existing.name}` : 'Apply a deployable'),
    section(
      'Document',
      h(
        'form',
        { id: 'apply-form', class: 'editor', onsubmit: submit, 'data-keep': 'true' },
        h('p', { id: 'document-help', class: 'muted' }, 'Nephele YAML or JSON, or pacemaker-cloud XML. Errors point to the line of their field.'),
        h('label', { for: 'format' }, 'Format '),
        formatSelect,
        h('div', { class: 'editor-box' }, h('label', { for: 'document', class: 'visually-hidden' }, 'Deployable document'), gutter, editor),
        errorsBox,
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, existing ? 'Apply new version' : 'Apply')),
      ),
    ),
  ];
}

// Groups ----------------------------------------------------------------

const groupName = (g) => g.config?.name ?? g.name ?? g.id;

async function groupsView() {
  let items;
  try {
    items = await all('/v1/groups');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404)
      return [pageHeader('Groups'), section('Autoscaling', h('p', { class: 'note' }, 'Autoscaling is not available here: no scaler serves /v1/groups behind this API.'))];
    throw e;
  }
  const states = await Promise.all(items.map((g) => get(`/v1/groups/${enc(g.id)}/state`).catch(() => null)));
  const rows = items.map((g, i) => ({ g, s: states[i] }));
  return [
    pageHeader('Groups'),
    section(
      'Autoscaling groups',
      rows.length
        ? table(
            'Autoscaling groups',
            [
              { label: 'Group', value: (r) => link(`#/groups/${enc(r.g.id)}`, groupName(r.g)) },
              { label: 'Status', value: (r) => h('span', {}, badge(r.s?.status ?? r.g.state?.status), r.s?.paused ? h('span', { class: 'badge tone-warn' }, 'paused') : null) },
              { label: 'Min..max', value: (r) => `${r.g.config?.minEntities}..${r.g.config?.maxEntities}` },
              { label: 'Desired', value: (r) => r.s?.desiredCapacity ?? r.g.state?.desiredCapacity, num: true },
              { label: 'Active', value: (r) => r.s?.activeCapacity, num: true },
              { label: 'Pending', value: (r) => r.s?.pendingCapacity, num: true },
            ],
            rows,
            (r) => ({ 'data-id': r.g.id, 'data-name': groupName(r.g) }),
          )
        : h('p', { class: 'note' }, 'No groups yet.'),
    ),
  ];
}

/** Sets a desired capacity: a zero-cooldown policy with that capacity, executed and deleted (see the CLI's Note [Set desired]). */
async function setDesired(gid, desired) {
  const policy = (await api(`/v1/groups/${enc(gid)}/policies`, { method: 'POST', body: { name: 'nephele-set-desired', type: 'webhook', desiredCapacity: desired, cooldown: 0 } })).body;
  try {
    return (await api(`/v1/groups/${enc(gid)}/policies/${enc(policy.id)}/execute`, { method: 'POST' })).body;
  } finally {
    await api(`/v1/groups/${enc(gid)}/policies/${enc(policy.id)}`, { method: 'DELETE' }).catch(() => undefined);
  }
}

/** Capability URLs are shown once, right after creation: kept here for this page view only. */
const freshCapabilities = new Map();

async function groupView(id) {
  const [g, s] = await Promise.all([get(`/v1/groups/${enc(id)}`), get(`/v1/groups/${enc(id)}/state`)]);
  const policies = g.policies ?? (await get(`/v1/groups/${enc(id)}/policies`)).items ?? [];
  const webhooks = await Promise.all(policies.map((p) => get(`/v1/groups/${enc(id)}/policies/${enc(p.id)}/webhooks`).then((r) => r.items ?? []).catch(() => [])));
  const events = await recentEvents([g.id], 40);
  const name = groupName(g);
  const desiredInput = h('input', { id: 'desired', name: 'desired', type: 'number', min: g.config?.minEntities ?? 0, max: g.config?.maxEntities ?? 1000, value: String(s.desiredCapacity ?? 0), inputmode: 'numeric' });
  const changeText = (p) =>
    p.change != null ? `${p.change > 0 ? '+' : ''}${p.change}` : p.changePercent != null ? `${p.changePercent > 0 ? '+' : ''}${p.changePercent}%` : p.desiredCapacity != null ? `=${p.desiredCapacity}` : '—';
  return [
    pageHeader(
      name,
      badge(s.status),
      s.paused ? h('span', { class: 'badge tone-warn', 'data-paused': 'true' }, 'paused') : null,
      h(
        'div',
        { class: 'actions' },
        s.paused
          ? button('Resume', () => act(`Resume ${name}`, 'Policies execute and the group converges again.', () => api(`/v1/groups/${enc(id)}/resume`, { method: 'POST' }), { confirmLabel: 'Resume', success: `${name} resumed` }))
          : button('Pause', () => act(`Pause ${name}`, 'No policy executes and the group does not converge until it is resumed.', () => api(`/v1/groups/${enc(id)}/pause`, { method: 'POST' }), { confirmLabel: 'Pause', success: `${name} paused` })),
        button(
          'Delete',
          () =>
            act(`Delete ${name}`, `Delete the group and its ${s.servers?.length ?? 0} server(s). This cannot be undone.`, () => api(`/v1/groups/${enc(id)}?force=true`, { method: 'DELETE' }), {
              confirmLabel: 'Delete',
              success: `${name} deleted`,
            }).then((ok) => ok && (location.hash = '#/groups')),
          { class: 'danger' },
        ),
      ),
    ),
    section(
      'Capacity',
      keyValues([
        ['Entities', `${g.config?.minEntities}..${g.config?.maxEntities}`],
        ['Cooldown', `${g.config?.cooldown}s`],
        ['Desired', s.desiredCapacity],
        ['Active', s.activeCapacity],
        ['Pending', s.pendingCapacity],
        ['Launch', `image ${g.launchConfig?.image ?? '—'}, profile ${g.launchConfig?.hardwareProfile ?? '—'}${g.launchConfig?.pool ? `, pool ${g.launchConfig.pool}` : ''}`],
      ]),
      (s.errors ?? []).length ? h('ul', { class: 'problem' }, s.errors.map((e) => h('li', {}, e))) : null,
      h(
        'form',
        {
          class: 'inline',
          id: 'desired-form',
          'data-keep': 'true',
          onsubmit: (e) => {
            e.preventDefault();
            const n = Number(desiredInput.value);
            void act(`Set the desired capacity of ${name}`, `Desired ${s.desiredCapacity} → ${n} (clamped to ${g.config?.minEntities}..${g.config?.maxEntities}).`, () => setDesired(id, n), {
              confirmLabel: 'Set',
              success: (r) => (r?.changed ? `${name}: desired ${r.desiredBefore} → ${r.desiredAfter}` : `${name}: desired stays ${r?.desiredAfter}${r?.reason ? ` (${r.reason})` : ''}`),
            });
          },
        },
        h('label', { for: 'desired' }, 'Desired capacity '),
        desiredInput,
        h('button', { type: 'submit' }, 'Set'),
      ),
    ),
    section(
      'Servers',
      (s.servers ?? []).length
        ? table(
            `Servers of ${name}`,
            [
              { label: 'Server', value: (x) => h('code', { title: x.id }, String(x.id).slice(0, 8)) },
              { label: 'State', value: (x) => badge(x.state) },
              { label: 'Instance', value: (x) => (x.instanceId ? h('code', { title: x.instanceId }, String(x.instanceId).slice(0, 8)) : '—') },
              { label: 'Addresses', value: (x) => x.addresses },
              { label: 'Created', value: (x) => fmtTime(x.createdAt) },
              { label: 'Reason', value: (x) => x.reason },
            ],
            s.servers,
            (x) => ({ 'data-id': x.id }),
          )
        : h('p', { class: 'muted' }, 'No servers.'),
    ),
    section(
      'Policies and webhooks',
      policies.length
        ? policies.map((p, i) =>
            h(
              'article',
              { class: 'policy', 'data-policy': p.name },
              h('h3', {}, p.name, ' ', h('span', { class: 'muted' }, `${p.type} · ${changeText(p)} · cooldown ${p.cooldown}s`)),
              h(
                'div',
                { class: 'actions' },
                button(`Execute ${p.name}`, () =>
                  act(`Execute ${p.name}`, `Apply ${changeText(p)} to ${name} now.`, async () => (await api(`/v1/groups/${enc(id)}/policies/${enc(p.id)}/execute`, { method: 'POST' })).body, {
                    confirmLabel: 'Execute',
                    success: (r) => (r?.changed ? `${p.name}: desired ${r.desiredBefore} → ${r.desiredAfter}` : `${p.name}: desired stays ${r?.desiredAfter}${r?.reason ? ` (${r.reason})` : ''}`),
                  }),
                ),
                button('Add webhook', () =>
                  act(`Add a webhook to ${p.name}`, 'Its capability URL is shown once: copy it now.', async () => {
                    const w = (await api(`/v1/groups/${enc(id)}/policies/${enc(p.id)}/webhooks`, { method: 'POST', body: { name: `console-${Date.now().toString(36)}` } })).body;
                    freshCapabilities.set(w.id, w.capabilityUrl);
                    return w;
                  }, { confirmLabel: 'Create', success: 'webhook created: copy its URL now, it is not shown again' }),
                ),
              ),
              webhooks[i].length
                ? table(
                    `Webhooks of ${p.name}`,
                    [
                      { label: 'Webhook', value: (w) => w.name },
                      { label: 'Created', value: (w) => fmtTime(w.createdAt) },
                      {
                        label: 'Capability URL',
                        value: (w) =>
                          freshCapabilities.has(w.id)
                            ? h('code', { class: 'capability' }, `${session.apiUrl || location.origin}${freshCapabilities.get(w.id)}`)
                            : h('span', { class: 'muted' }, 'shown once, at creation'),
                      },
                    ],
                    webhooks[i],
                    (w) => ({ 'data-webhook': w.name }),
                  )
                : h('p', { class: 'muted' }, 'No webhooks.'),
            ),
          )
        : h('p', { class: 'muted' }, 'No policies.'),
    ),
    section('Activity', timeline(`Activity of ${name}`, events)),
  ];
}

// Clusters and appliances -----------------------------------------------

async function clustersView() {
  const items = (await get('/v1/clusters')).items ?? [];
  return [
    pageHeader('Clusters', link('#/appliances', 'Create one from an appliance')),
    section(
      'All clusters',
      items.length
        ? table(
            'Clusters',
            [
              { label: 'Cluster', value: (c) => link(`#/clusters/${enc(c.id)}`, c.name) },
              { label: 'Appliance', value: (c) => c.appliance?.name },
              { label: 'Status', value: (c) => badge(c.status) },
              { label: 'Reason', value: (c) => c.reason },
            ],
            items,
            (c) => ({ 'data-id': c.id, 'data-name': c.name }),
          )
        : h('p', { class: 'note' }, 'No clusters yet.'),
    ),
  ];
}

async function clusterView(id) {
  const c = await get(`/v1/clusters/${enc(id)}`);
  const values = Object.entries(c.outputs?.values ?? {});
  return [
    pageHeader(
      c.name,
      badge(c.status),
      c.reason ? h('p', { class: 'reason' }, c.reason) : null,
      h(
        'div',
        { class: 'actions' },
        c.deployableId ? link(`#/deployables/${enc(c.deployableId)}`, 'Its deployable') : null,
        button(
          'Delete',
          () =>
            act(`Delete ${c.name}`, 'Free every resource of the cluster. This cannot be undone.', () => api(`/v1/clusters/${enc(c.id)}`, { method: 'DELETE' }), {
              confirmLabel: 'Delete',
              success: `${c.name} is being deleted`,
            }).then((ok) => ok && (location.hash = '#/clusters')),
          { class: 'danger' },
        ),
      ),
    ),
    section(
      'Outputs',
      values.length
        ? table('Outputs', [{ label: 'Output', value: ([k]) => k }, { label: 'Value', value: ([, v]) => (v ? h('code', {}, v) : '—') }], values, ([k]) => ({ 'data-output': k }))
        : h('p', { class: 'muted' }, 'No outputs yet.'),
      table(
        'Assemblies',
        [
          { label: 'Assembly', value: (a) => a.name },
          { label: 'State', value: (a) => badge(a.state) },
          { label: 'Addresses', value: (a) => a.addresses },
        ],
        c.outputs?.assemblies ?? [],
      ),
    ),
    section(
      'Overview',
      keyValues([
        ['Appliance', `${c.appliance?.name} (template ${c.appliance?.templateVersion})`],
        ['Parameters', c.parameters],
        ['Users', c.users],
        ['Created', fmtTime(c.createdAt)],
      ]),
    ),
  ];
}

async function appliancesView() {
  const items = await all('/v1/appliances');
  return [
    pageHeader('Appliances'),
    section(
      'Appliance registry',
      items.length
        ? table(
            'Appliances',
            [
              { label: 'Appliance', value: (a) => link(`#/appliances/${enc(a.id)}`, a.name) },
              { label: 'Description', value: (a) => a.description },
            ],
            items,
            (a) => ({ 'data-id': a.id, 'data-name': a.name }),
          )
        : h('p', { class: 'note' }, 'No appliances yet.'),
    ),
  ];
}

async function applianceView(id) {
  const a = await get(`/v1/appliances/${enc(id)}`);
  const impls = await all(`/v1/appliances/${enc(id)}/implementations`);
  const newest = impls[impls.length - 1];
  const params = Array.isArray(newest?.parameters) ? newest.parameters : [];
  const nameInput = h('input', { id: 'cluster-name', name: 'name', required: true, pattern: '[a-z0-9]([a-z0-9_\\-]{0,61}[a-z0-9])?', autocomplete: 'off' });
  const paramInputs = params.map((p) =>
    h('input', { id: `param-${p.name}`, name: p.name, 'data-type': p.type, value: p.default != null ? String(p.default) : '', required: p.required || null }),
  );
  const errors = h('div', { 'aria-live': 'polite' });
  const submit = async (e) => {
    e.preventDefault();
    const parameters = {};
    for (const input of paramInputs) {
      if (input.value === '') continue;
      const t = input.dataset.type;
      parameters[input.name] = t === 'integer' || t === 'number' ? Number(input.value) : t === 'boolean' ? input.value === 'true' : input.value;
    }
    const body = { name: nameInput.value.trim(), appliance: a.name, parameters };
    if (!(await confirmAction(`Create cluster ${body.name}`, `From ${a.name} with ${JSON.stringify(parameters)}.`, 'Create'))) return;
    try {
      const project = await defaultProject();
      const c = (await api(`/v1/clusters${project ? `?project=${enc(project)}` : ''}`, { method: 'POST', body })).body;
      location.hash = `#/clusters/${enc(c.id)}`;
      flash(`cluster ${c.name} created`);
    } catch (err) {
      errors.replaceChildren(problemBox(err));
    }
  };
  return [
    pageHeader(a.name, a.description ? h('p', { class: 'muted' }, a.description) : null),
    section(
      'Implementations',
      table(
        `Implementations of ${a.name}`,
        [
          { label: 'Template', value: (i) => i.templateVersion },
          { label: 'Provider', value: (i) => h('code', {}, String(i.providerId ?? '').slice(0, 8)) },
          { label: 'Parameters', value: (i) => (i.parameters ?? []).map((p) => p.name) },
          { label: 'Outputs', value: (i) => (i.outputs ?? []).map((p) => p.name) },
        ],
        impls,
      ),
    ),
    newest
      ? section(
          'Create a cluster',
          h(
            'form',
            { id: 'cluster-form', class: 'stack', onsubmit: submit, 'data-keep': 'true' },
            h('label', { for: 'cluster-name' }, 'Name'),
            nameInput,
            params.map((p, i) => [h('label', { for: `param-${p.name}` }, `${p.name} (${p.type})${p.description ? ` — ${p.description}` : ''}`), paramInputs[i]]),
            errors,
            h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create cluster')),
          ),
        )
      : null,
  ];
}

// Instances and configuration ---------------------------------------------

async function instancesView(query) {
  const pools = await all('/v1/pools');
  const pool = query.get('pool') ?? '';
  const items = await all(`/v1/instances${pool ? `?pool=${enc(pool)}` : ''}`);
  const select = h(
    'select',
    {
      id: 'pool-filter',
      onchange: (e) => {
        location.hash = e.target.value ? `#/instances?pool=${enc(e.target.value)}` : '#/instances';
      },
    },
    h('option', { value: '' }, 'every pool'),
    pools.map((p) => h('option', { value: p.id, selected: p.id === pool || p.name === pool }, p.name)),
  );
  return [
    pageHeader('Instances', h('label', { for: 'pool-filter' }, 'Pool '), select),
    section(
      'Instances',
      items.length
        ? table(
            'Instances',
            [
              { label: 'Name', value: (i) => i.name ?? String(i.id).slice(0, 8) },
              { label: 'State', value: (i) => badge(i.state) },
              { label: 'Pool', value: (i) => pools.find((p) => p.id === i.pool)?.name ?? i.pool },
              { label: 'Owner', value: (i) => i.owner },
              { label: 'Addresses', value: (i) => i.addresses },
              { label: 'Last seen', value: (i) => fmtTime(i.lastSeen) },
              { label: 'Reason', value: (i) => i.reason },
            ],
            items,
            (i) => ({ 'data-id': i.id }),
          )
        : h('p', { class: 'note' }, 'No instances.'),
    ),
  ];
}

const amount = (v) => (v == null ? '—' : typeof v === 'object' ? `${v.min ?? ''}..${v.max ?? ''}` : String(v));

/** The configuration lists: a title, a path and columns. No secret is ever shown (accounts show "set"). */
const CONFIG = {
  pools: {
    title: 'Pools',
    path: '/v1/pools',
    columns: [
      { label: 'Pool', value: (r) => r.name },
      { label: 'Enabled', value: (r) => badge(String(r.enabled)) },
      { label: 'Quota', value: (r) => r.quota },
      { label: 'Instances', value: (r) => link(`#/instances?pool=${enc(r.id)}`, 'instances') },
    ],
  },
  providers: {
    title: 'Providers',
    path: '/v1/providers',
    columns: [
      { label: 'Provider', value: (r) => r.name },
      { label: 'Kind', value: (r) => r.kind },
      { label: 'Region', value: (r) => r.region },
      { label: 'Enabled', value: (r) => badge(String(r.enabled)) },
      { label: 'Endpoint', value: (r) => r.endpoint },
    ],
  },
  accounts: {
    title: 'Provider accounts',
    path: '/v1/provider-accounts',
    columns: [
      { label: 'Account', value: (r) => r.name },
      { label: 'Enabled', value: (r) => badge(String(r.enabled)) },
      { label: 'Priority', value: (r) => r.priority, num: true },
      { label: 'Weight', value: (r) => r.weight, num: true },
      { label: 'Credentials', value: (r) => (r.hasCredentials ? 'set (never shown)' : 'none') },
      { label: 'Quota', value: (r) => r.quota },
    ],
  },
  images: {
    title: 'Images',
    path: '/v1/images',
    columns: [
      { label: 'Image', value: (r) => r.name },
      { label: 'OS', value: (r) => r.os },
      { label: 'Arch', value: (r) => r.arch },
      { label: 'Description', value: (r) => r.description },
    ],
  },
  profiles: {
    title: 'Hardware profiles',
    path: '/v1/hardware-profiles',
    columns: [
      { label: 'Profile', value: (r) => r.name },
      { label: 'vCPU', value: (r) => amount(r.cpu) },
      { label: 'Memory MB', value: (r) => amount(r.memoryMb) },
      { label: 'Storage GB', value: (r) => amount(r.storageGb) },
      { label: 'Arch', value: (r) => r.arch },
    ],
  },
};

async function configView(kind) {
  const def = CONFIG[kind];
  const items = await all(def.path);
  return [
    pageHeader(def.title),
    section(`All ${def.title.toLowerCase()}`, items.length ? table(def.title, def.columns, items, (r) => ({ 'data-id': r.id, 'data-name': r.name })) : h('p', { class: 'note' }, 'None yet.')),
  ];
}

// Events -------------------------------------------------------------------

/** The live tail: the SSE stream read with fetch() (EventSource cannot send the token). */
class EventStream {
  #controller = null;
  #lastId = '';

  start(query, onEvent, onState) {
    this.stop();
    this.#controller = new AbortController();
    void this.#run(query, onEvent, onState, this.#controller.signal);
  }

  stop() {
    this.#controller?.abort();
    this.#controller = null;
    this.#lastId = '';
  }

  get running() {
    return this.#controller !== null;
  }

  async #run(query, onEvent, onState, signal) {
    let failures = 0;
    let retryMs = 2000;
    while (!signal.aborted) {
      onState(this.#lastId ? 'reconnecting…' : 'connecting…');
      try {
        const headers = authHeaders({ accept: 'text/event-stream' });
        if (this.#lastId) headers['last-event-id'] = this.#lastId;
        const res = await fetch(`${session.apiUrl}/v1/events/stream${query}`, { headers, signal, cache: 'no-store' });
        if (res.status === 401) {
          rejectToken();
          return;
        }
        if (!res.ok || !res.body) {
          if (res.status === 400 && this.#lastId) this.#lastId = '';
          throw new ApiError(res.status, await problemOf(res));
        }
        onState('live');
        failures = 0;
        const parser = createSseParser(
          (m) => {
            try {
              onEvent(JSON.parse(m.data));
            } catch {
              /* not an event */
            }
          },
          (ms) => {
            retryMs = ms;
          },
        );
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
        onState(`disconnected (${e instanceof Error ? e.message : String(e)}); retrying in ${Math.ceil(wait / 1000)} s`);
        await new Promise((r) => {
          const t = setTimeout(r, wait);
          signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
        });
      }
    }
  }
}

const stream = new EventStream();

/** `datetime-local` → RFC 3339 UTC ('' stays ''). */
const isoOf = (local) => (local ? new Date(local).toISOString() : '');

async function eventsView(query) {
  const filters = { type: query.get('type') ?? '', subject: query.get('subject') ?? '', since: query.get('since') ?? '', until: query.get('until') ?? '' };
  const q = new URLSearchParams();
  if (filters.type) q.set('type', filters.type);
  if (filters.subject) q.set('subject', filters.subject);
  if (filters.since) q.set('since', isoOf(filters.since));
  if (filters.until) q.set('until', isoOf(filters.until));
  if (!filters.since && !filters.until) q.set('since', new Date(Date.now() - 3600e3).toISOString());
  const history = await all(`/v1/events?${q}`, 2000);
  const shown = history.slice(-200);
  const input = (name, label, attrs = {}) => [h('label', { for: `ev-${name}` }, label), h('input', { id: `ev-${name}`, name, value: filters[name], autocomplete: 'off', ...attrs })];
  const list = h('ol', { id: 'event-list', class: 'event-list', 'aria-label': 'Events, newest first' }, [...shown].reverse().map(eventItem));
  const state = h('p', { id: 'stream-state', class: 'stream-state', role: 'status' }, 'live tail off');
  const seen = new Set(shown.map((e) => e.id));
  const toggle = h('button', {
    type: 'button',
    id: 'live-toggle',
    'aria-pressed': 'false',
    onclick: () => {
      if (stream.running) {
        stream.stop();
        toggle.setAttribute('aria-pressed', 'false');
        toggle.textContent = 'Start live tail';
        state.textContent = 'live tail off';
        return;
      }
      const live = new URLSearchParams();
      live.set('type', filters.type || 'nephele.*');
      if (filters.subject) live.set('subject', filters.subject);
      toggle.setAttribute('aria-pressed', 'true');
      toggle.textContent = 'Stop live tail';
      stream.start(
        `?${live}`,
        (ev) => {
          if (ev.id && seen.has(ev.id)) return;
          if (ev.id) seen.add(ev.id);
          list.prepend(eventItem(ev));
          while (list.children.length > MAX_LIVE) list.lastElementChild.remove();
        },
        (s) => {
          state.textContent = s;
        },
      );
    },
  }, 'Start live tail');
  const submit = (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    const next = new URLSearchParams();
    for (const k of ['type', 'subject', 'since', 'until']) if (data.get(k)) next.set(k, String(data.get(k)));
    location.hash = `#/events${next.size ? `?${next}` : ''}`;
  };
  return [
    pageHeader('Events'),
    section(
      'Filters',
      h(
        'form',
        { id: 'event-filters', class: 'filters', onsubmit: submit, 'data-keep': 'true' },
        input('type', 'Type', { placeholder: 'nephele.dpe.*' }),
        input('subject', 'Subject', { placeholder: 'an entity id' }),
        input('since', 'From', { type: 'datetime-local', step: 1 }),
        input('until', 'To', { type: 'datetime-local', step: 1 }),
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search'), toggle),
      ),
    ),
    section(
      'History',
      h('p', { class: 'muted' }, `${history.length > shown.length ? `The newest ${shown.length} of ${history.length}` : `${shown.length}`} event(s)${!filters.since && !filters.until ? ' of the last hour' : ''}, newest first. Expand one to see its JSON.`),
      state,
      list,
    ),
  ];
}

// ------------------------------------------------------------------ router

const ROUTES = [
  [/^\/?$/, () => deployablesView()],
  [/^\/deployables$/, () => deployablesView()],
  [/^\/deployables\/([^/]+)$/, (m) => deployableView(decodeURIComponent(m[1]))],
  [/^\/apply$/, () => applyView(null)],
  [/^\/apply\/([^/]+)$/, (m) => applyView(decodeURIComponent(m[1]))],
  [/^\/groups$/, () => groupsView()],
  [/^\/groups\/([^/]+)$/, (m) => groupView(decodeURIComponent(m[1]))],
  [/^\/clusters$/, () => clustersView()],
  [/^\/clusters\/([^/]+)$/, (m) => clusterView(decodeURIComponent(m[1]))],
  [/^\/appliances$/, () => appliancesView()],
  [/^\/appliances\/([^/]+)$/, (m) => applianceView(decodeURIComponent(m[1]))],
  [/^\/instances$/, (_m, q) => instancesView(q)],
  [/^\/(pools|providers|accounts|images|profiles)$/, (m) => configView(m[1])],
  [/^\/events$/, (_m, q) => eventsView(q)],
];

/** Views with a form the user may be typing in, or a live tail, are not re-rendered by the poll. */
const POLLED = /^\/(deployables|groups|clusters|instances)?(\/[^/]+)?$/;

let lastKey = '';
let rendering = false;

function currentRoute() {
  const raw = location.hash.replace(/^#/, '') || '/deployables';
  const [path, qs] = raw.split('?');
  return { path, query: new URLSearchParams(qs ?? '') };
}

/** Renders the view of the hash; `fresh` (a navigation) resets focus and the live tail. */
async function render(fresh = true) {
  if (!session.token || session.rejected) return;
  const { path, query } = currentRoute();
  const route = ROUTES.find(([re]) => re.test(path));
  if (fresh) {
    stream.stop();
    session.generation += 1;
    // A capability URL is shown once: on the page where it was made, until the user leaves it.
    freshCapabilities.clear();
    if (flashed && ++flashed.hops > 1) flashed = null;
  }
  const generation = session.generation;
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href').slice(1);
    if (path === target || path.startsWith(`${target}/`) || (path === '/' && target === '/deployables') || (path.startsWith('/apply') && target === '/deployables'))
      a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  rendering = true;
  let nodes;
  try {
    nodes = route ? await route[1](route[0].exec(path), query) : [pageHeader('Not found'), section('Nothing here', h('p', {}, `No page at ${path}.`))];
  } catch (e) {
    nodes = [pageHeader('Something went wrong'), problemBox(e)];
  } finally {
    rendering = false;
  }
  if (generation !== session.generation) return;
  // Re-render only when something changed (keeps selection, open <details> and quiet screen readers).
  const holder = h('div', {}, nodes);
  const key = `${path}?${query}|${holder.textContent}`;
  if (!fresh && key === lastKey) return;
  lastKey = key;
  const open = new Set([...view.querySelectorAll('details[open]')].map((d) => d.parentElement?.dataset.id));
  const note = flashNode();
  view.replaceChildren(...(note ? [note] : []), ...holder.childNodes);
  for (const d of view.querySelectorAll('li[data-id] > details')) if (open.has(d.parentElement.dataset.id)) d.open = true;
  if (fresh) {
    const title = $('#page-title');
    document.title = `${title?.textContent ?? 'Nephele'} · Nephele console`;
    view.focus({ preventScroll: true });
  }
  if (!session.rejected) setConnection(`Connected${session.apiUrl ? ` to ${session.apiUrl}` : ''}.`);
}

setInterval(() => {
  const { path } = currentRoute();
  if (!rendering && POLLED.test(path) && !document.querySelector('dialog[open]') && !view.contains(document.activeElement?.closest('form'))) void render(false);
}, POLL_MS);

window.addEventListener('hashchange', () => void render(true));

// ------------------------------------------------------------------ token and start-up

function rejectToken() {
  if (session.rejected) return;
  session.rejected = true;
  stream.stop();
  setConnection('token rejected: enter another token', true);
  view.replaceChildren(section('Not connected', h('div', { class: 'problem', role: 'alert' }, h('p', {}, 'token rejected'))));
  tokenInput.focus();
}

function connect(token) {
  session.token = token;
  session.rejected = false;
  projectCache = null;
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenInput.value = '';
  tokenInput.placeholder = 'kept for this tab; enter another to switch';
  setConnection('connecting…');
  void render(true);
}

function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = '';
  session.generation += 1;
  session.rejected = false;
  stream.stop();
  tokenInput.placeholder = '';
  view.replaceChildren(section('Not connected', h('p', { class: 'muted' }, 'Enter an API token to connect.')));
  setConnection('Enter an API token to connect.');
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
