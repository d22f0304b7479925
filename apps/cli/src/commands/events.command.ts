import { Command } from 'commander';
import { NepheleApiError } from '@nephele/client';
import { sleep } from '@nephele/util';
import { CliContext } from '../cli-context';
import { CliError, describeError } from '../errors.util';
import { SseParser } from '../events/sse-parser';
import { parseCount, parseDurationFlag, parseSince, queryString } from '../input/flags.util';
import { Column, formatCell, renderTable } from '../output/table.util';
import { action, ContextFactory, Opts } from './command.util';

/** A stored CloudEvent. */
export interface EventView {
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  data?: unknown;
}

/** Why an event happened, in words: a DPE decision's explanation, else a reason or message in its data. */
export function explanationOf(e: EventView): string | undefined {
  const d = e.data && typeof e.data === 'object' ? (e.data as Record<string, unknown>) : {};
  for (const k of ['explanation', 'reason', 'message', 'error']) {
    const v = d[k];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

const EVENT_COLUMNS: Column<EventView>[] = [
  { header: 'time', value: (e) => e.time },
  { header: 'type', value: (e) => e.type },
  { header: 'subject', value: (e) => e.subject, max: 40 },
  { header: 'source', value: (e) => e.source },
  { header: 'data', value: (e) => e.data, max: 80 },
];
/** `-o wide` / `--wide`: the whole explanation, and the data uncut. */
const EVENT_WIDE_COLUMNS: Column<EventView>[] = [
  { header: 'time', value: (e) => e.time },
  { header: 'type', value: (e) => e.type },
  { header: 'subject', value: (e) => e.subject },
  { header: 'source', value: (e) => e.source },
  { header: 'explanation', value: (e) => explanationOf(e) },
  { header: 'data', value: (e) => e.data },
];

/** The events of `describe`: time, type and the explanation in full. */
export const EXPLAINED_EVENT_COLUMNS: Column<EventView>[] = [
  { header: 'time', value: (e) => e.time },
  { header: 'type', value: (e) => e.type.replace(/^nephele\./, '') },
  { header: 'explanation', value: (e) => explanationOf(e) ?? formatCell(e.data), max: 400 },
];

/** One event on one line (tail): time, type, subject, source, data. */
export function eventLine(e: EventView): string {
  const data = formatCell(e.data);
  return [
    formatCell(e.time),
    e.type,
    formatCell(e.subject),
    e.source,
    data.length > 200 ? `${data.slice(0, 199)}…` : data,
  ].join('  ');
}

/** The API filters from the flags (`--since 15m` → 15 minutes ago). */
function filtersOf(opts: Opts, now: Date): Record<string, string | undefined> {
  const str = (k: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
  const since = str('since');
  const until = str('until');
  return {
    type: str('type'),
    source: str('source'),
    subject: str('subject'),
    since: since ? parseSince('--since', since, now) : undefined,
    until: until ? parseSince('--until', until, now) : undefined,
  };
}

function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--type <type>', 'event type, or a prefix such as nephele.assembly.*')
    .option('--source <source>', 'exact source (/nephele/scaler)')
    .option('--subject <subject>', 'exact subject (the entity id)');
}

async function list(ctx: CliContext, opts: Opts): Promise<void> {
  const filters = filtersOf(opts, ctx.io.now());
  const limit = parseCount('--limit', String(opts.limit));
  const client = ctx.client();
  const print = (rows: EventView[]) => {
    if ((opts.wide || ctx.wide) && !ctx.json) ctx.io.out(`${renderTable(rows, EVENT_WIDE_COLUMNS.map((c) => ({ ...c, max: Number.MAX_SAFE_INTEGER })))}\n`);
    else ctx.printList(rows, EVENT_COLUMNS);
  };
  if (opts.all) return print(await client.all<EventView>(`/v1/events${queryString(filters)}`));
  const page = await client.get<{ items: EventView[]; nextCursor: string | null }>(
    `/v1/events${queryString({ ...filters, limit, cursor: opts.cursor as string | undefined })}`,
  );
  print(page.items);
  if (page.nextCursor) ctx.io.err(`more events: add --cursor ${page.nextCursor} (or --all)\n`);
}

/** The last `n` events matching the filters since a point in time (paging forward, keeping a ring). */
export async function lastEvents(
  ctx: CliContext,
  filters: Record<string, string | undefined>,
  n: number,
): Promise<EventView[]> {
  const ring: EventView[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: EventView[]; nextCursor: string | null } = await ctx
      .client()
      .get(`/v1/events${queryString({ ...filters, limit: 1000, cursor: cursor ?? undefined })}`);
    ring.push(...page.items);
    if (ring.length > n) ring.splice(0, ring.length - n);
    cursor = page.nextCursor;
  } while (cursor);
  return ring;
}

// Note [Tail resume]: history comes from the query API, the live part from the SSE stream. The
// stream is opened with Last-Event-ID = the CloudEvent id of the last event printed, so the
// event log replays whatever was stored between the query and the connection: no gap and no
// duplicate. After a drop the stream resumes from the last SSE id (the event's seq) in the same way.

async function tail(ctx: CliContext, opts: Opts): Promise<number> {
  const now = ctx.io.now();
  const n = parseCount('--lines', String(opts.lines));
  const count = opts.count === undefined ? undefined : parseCount('--count', String(opts.count));
  const timeoutMs =
    opts.timeout === undefined ? undefined : parseDurationFlag('--timeout', String(opts.timeout));
  const follow = Boolean(opts.follow) || count !== undefined;
  const filters = filtersOf({ ...opts, since: opts.since ?? '1h' }, now);
  const print = (e: EventView) => ctx.io.out(ctx.json ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`);

  let resume: string | undefined;
  if (n > 0) {
    const history = await lastEvents(ctx, filters, n);
    history.forEach(print);
    resume = history[history.length - 1]?.id;
  }
  if (!follow) return 0;

  const ac = new AbortController();
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => ac.abort(), timeoutMs);
  const live = { seen: 0 };
  try {
    await followStream(ctx, { ...filters, since: undefined, until: undefined }, resume, count, ac, live);
  } finally {
    if (timer) clearTimeout(timer);
    if (!ac.signal.aborted) ac.abort();
  }
  if (count !== undefined && live.seen < count) {
    throw new CliError(`timed out after ${String(opts.timeout)} with ${live.seen} of ${count} event(s)`);
  }
  return 0;
}

/** Reads the SSE stream until `count` events, the abort signal, or a failure on the first connection. */
async function followStream(
  ctx: CliContext,
  filters: Record<string, string | undefined>,
  resume: string | undefined,
  count: number | undefined,
  ac: AbortController,
  live: { seen: number },
): Promise<void> {
  const client = ctx.client();
  const parser = new SseParser();
  let connected = false;
  let lastSseId: string | undefined;
  while (!ac.signal.aborted) {
    try {
      const from = lastSseId ?? resume;
      const res = await client.openStream(
        `/v1/events/stream${queryString(filters)}`,
        from ? { 'last-event-id': from } : {},
        ac.signal,
      );
      if (!connected) {
        connected = true;
        ctx.io.err(`following events${filters.type ? ` of type ${filters.type}` : ''} (Ctrl-C to stop)\n`);
      }
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const m of parser.push(decoder.decode(value, { stream: true }))) {
          lastSseId = m.id ?? lastSseId;
          let e: EventView;
          try {
            e = JSON.parse(m.data) as EventView;
          } catch {
            continue;
          }
          ctx.io.out(ctx.json ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`);
          live.seen++;
          if (count !== undefined && live.seen >= count) {
            await reader.cancel().catch(() => undefined);
            return;
          }
        }
      }
      if (ac.signal.aborted) return;
      ctx.io.err('the event stream closed; reconnecting\n');
    } catch (e) {
      if (ac.signal.aborted) return;
      // The first connection reports its error (wrong URL, token, filter); later drops are retried.
      if (!connected || (e instanceof NepheleApiError && e.status < 500)) throw e;
      ctx.io.err(`${describeError(e, ctx.settings.url).lines[0]}; reconnecting\n`);
    }
    await sleep(parser.retryMs ?? 2000, ac.signal).catch(() => undefined);
  }
}

export function eventsCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  const run = (fn: Parameters<typeof action>[2]) => action(make, setExit, fn);
  const cmd = new Command('events').description('the event log (/v1/events)');

  addFilterOptions(cmd.command('list'))
    .description('stored events, oldest first')
    .option('--since <time>', 'RFC 3339, or a duration ago (15m, 2h)')
    .option('--until <time>', 'RFC 3339, or a duration ago')
    .option('--limit <n>', 'events per page (1..1000)', '100')
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .option('--all', 'every page')
    .option('--wide', 'every column uncut, with each decision\'s explanation (same as -o wide)')
    .action(run((ctx, _a, o) => list(ctx, o)));

  addFilterOptions(cmd.command('tail'))
    .description('the last events, and with -f the live stream (Server-Sent Events)')
    .option('-f, --follow', 'keep following new events')
    .option('-n, --lines <n>', 'how many past events to show first', '10')
    .option('--since <time>', 'how far back to look for past events (RFC 3339 or a duration)', '1h')
    .option('--count <n>', 'exit after this many new events (implies -f)')
    .option('--timeout <duration>', 'stop following after this long (exit 1 if --count was not reached)')
    .action(run((ctx, _a, o) => tail(ctx, o)));
  return cmd;
}
