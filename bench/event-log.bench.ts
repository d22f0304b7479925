// event-log: (a) raw amqplib persistent publish-with-confirms + consume rate on the broker, and
// (b) Nephele end to end (publish → row committed by the event-log process), same broker and
// database, same run. Target: b/a ≥ 0.9. (c) the same with two event-log replicas consuming the
// one queue: the rate beside (b)'s and the count of stored events (each exactly once).
// Events are `nephele.instance.state_changed`, the busiest type; `nephele.config.changed` (used
// before) is also followed by every process's token-revocation queue, which made the event-log
// process validate and ack each bench event twice.
// The machine is shared: (a), (b) and (c) run in turn BENCH_ROUNDS times (default 3) and each
// figure is the median of its rounds, each ratio the median of the rounds' ratios (a round's
// figures meet the same load).
import * as amqp from 'amqplib';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { createEvent, InstanceStateChanged, Topology } from '@nephele/contracts';
import {
  createTestDatabase,
  createTestVhost,
  ServiceProcess,
  waitFor,
  WORKSPACE_ROOT,
} from '@nephele/testing';
import type { BenchRow } from './bench.types';

const N = Number(process.env.BENCH_EVENTS ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The event log's prefetch (EventsConsumer: four batches of EVENT_LOG_BATCH_SIZE, 1,000). */
const PREFETCH = 4000;
const body = (i: number, subject: string) =>
  Buffer.from(
    JSON.stringify(
      createEvent(
        'bench',
        InstanceStateChanged.type,
        { instanceId: `i${i}`, from: 'pending' as const, to: 'running' as const, reason: 'bench' },
        { subject },
      ),
    ),
  );

/** Publishes N persistent messages with confirms in windows of 1000 outstanding. */
async function publish(
  ch: amqp.ConfirmChannel,
  exchange: string,
  key: string,
  subject: string,
): Promise<void> {
  for (let i = 0; i < N; i++) {
    ch.publish(exchange, key, body(i, subject), {
      persistent: true,
      contentType: 'application/cloudevents+json',
    });
    if (i % 1000 === 999) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
}

async function raw(url: string): Promise<number> {
  const conn = await amqp.connect(url);
  const pub = await conn.createConfirmChannel();
  const sub = await conn.createChannel();
  await sub.assertExchange('bench.raw', 'topic', { durable: true });
  await sub.assertQueue('bench.raw', { durable: true });
  await sub.bindQueue('bench.raw', 'bench.raw', '#');
  await sub.prefetch(PREFETCH);
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  await sub.consume('bench.raw', (m) => {
    if (!m) return;
    JSON.parse(m.content.toString());
    sub.ack(m);
    if (++got === N) done();
  });
  const t0 = performance.now();
  await publish(pub, 'bench.raw', InstanceStateChanged.type, 'bench');
  await all;
  const rate = N / ((performance.now() - t0) / 1000);
  await conn.close();
  return rate;
}

/**
 * Nephele end to end with `replicas` event-log processes consuming the one queue: N events
 * published (tagged with `subject`), timed until all are committed.
 */
async function nephele(
  vhostUrl: string,
  dbUrl: string,
  replicas: number,
  subject: string,
): Promise<{ rate: number; rss: number; stored: number; elCpuUs?: number; dbCpuUs?: number }> {
  const env = {
    DATABASE_URL: dbUrl,
    AMQP_URL: vhostUrl,
    LOG_LEVEL: 'warn',
    // BENCH_CPU_PROF=<dir>: each event-log process writes a CPU profile there when it exits.
    ...(process.env.BENCH_CPU_PROF ? { NODE_OPTIONS: `--require ${__dirname}/cpu-prof.cjs` } : {}),
  };
  const svcs: ServiceProcess[] = [];
  for (let r = 0; r < replicas; r++) svcs.push(await ServiceProcess.start('event-log', env));
  const pg = new Client({ connectionString: dbUrl });
  await pg.connect();
  const conn = await amqp.connect(vhostUrl);
  const pub = await conn.createConfirmChannel();
  const count = async () =>
    Number(
      (await pg.query(`SELECT count(*)::int AS n FROM event_log.events WHERE subject = $1`, [subject]))
        .rows[0].n,
    );
  // The sequence's value is cheap to poll (a count of the growing table every 20 ms would take
  // a share of the database from the inserts it measures); the count confirms at the end.
  const seq = async () =>
    Number((await pg.query(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM event_log.events_seq`)).rows[0].v);
  // CPU per event of the event-log processes and of their database backends (a local server only).
  const backends = async () =>
    (
      await pg.query(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'nephele-event_log'`,
      )
    ).rows.map((r: { pid: number }) => r.pid);
  const cpuOf = (pids: number[]) => pids.map(cpuMs);
  const perEvent = (before: (number | undefined)[], after: (number | undefined)[]) =>
    after.some((a) => a === undefined)
      ? undefined
      : (after.reduce((sum: number, a, k) => sum + a! - (before[k] ?? 0), 0) * 1000) / N;
  try {
    const base = await seq();
    const dbPids0 = await backends();
    const db0 = new Map(dbPids0.map((p) => [p, cpuMs(p)]));
    const el0 = cpuOf(svcs.map((s) => s.child!.pid!));
    const t0 = performance.now();
    await publish(pub, Topology.events, InstanceStateChanged.type, subject);
    await waitFor(async () => (await seq()) - base >= N && (await count()) >= N, {
      timeoutMs: 120_000,
      intervalMs: 20,
      what: 'all events stored',
    });
    const rate = N / ((performance.now() - t0) / 1000);
    const elCpuUs = perEvent(el0, cpuOf(svcs.map((s) => s.child!.pid!)));
    const dbPids = await backends();
    const dbCpuUs = perEvent(
      dbPids.map((p) => db0.get(p)),
      cpuOf(dbPids),
    );
    const rss = svcs.map((s) => {
      const ps = spawnSync('ps', ['-o', 'rss=', '-p', String(s.child!.pid)], { encoding: 'utf8' });
      return Number(ps.stdout.trim()) / 1024;
    });
    // Settle: nothing more may arrive (a duplicate insert would show here).
    await new Promise((r) => setTimeout(r, 500));
    return { rate, rss: Math.max(...rss), stored: await count(), elCpuUs, dbCpuUs };
  } finally {
    await conn.close();
    await pg.end();
    await Promise.all(svcs.map((s) => s.kill('SIGTERM')));
  }
}

const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);
/** CPU time (user + system) of a local process so far, in ms; undefined when it is not readable. */
function cpuMs(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');

/** CPU per stored event (medians of the rounds), where it could be read: see Note [Group commit]. */
function cpuRows(runs: { elCpuUs?: number; dbCpuUs?: number }[], what: string): BenchRow[] {
  const rows: BenchRow[] = [];
  const el = runs.map((r) => r.elCpuUs).filter((v): v is number => v !== undefined);
  const db = runs.map((r) => r.dbCpuUs).filter((v): v is number => v !== undefined);
  if (el.length === runs.length)
    rows.push({ benchmark: 'event-log', figure: `event-log CPU per event, ${what}`, value: median(el), unit: 'µs' });
  if (db.length === runs.length)
    rows.push({
      benchmark: 'event-log',
      figure: `its PostgreSQL backends' CPU per event, ${what}`,
      value: median(db),
      unit: 'µs',
    });
  return rows;
}

export default async function run(): Promise<BenchRow[]> {
  spawnSync(process.execPath, ['tools/build.mjs', 'event-log'], { cwd: WORKSPACE_ROOT, stdio: 'ignore' });
  const [db, vhost] = await Promise.all([createTestDatabase('bench_el'), createTestVhost('bench_el')]);
  try {
    const rounds: { a: number; b: Awaited<ReturnType<typeof nephele>>; c: Awaited<ReturnType<typeof nephele>> }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const a = await raw(vhost.url);
      const b = await nephele(vhost.url, db.url, 1, `bench-1-${r}`);
      const c = await nephele(vhost.url, db.url, 2, `bench-2-${r}`);
      rounds.push({ a, b, c });
    }
    const ratios = rounds.map(({ a, b }) => b.rate / a);
    const scale = rounds.map(({ b, c }) => c.rate / b.rate);
    const stored = rounds.map(({ c }) => c.stored);
    const ratio = median(ratios);
    const by = `median of ${ROUNDS} rounds`;
    return [
      {
        benchmark: 'event-log',
        figure: `end-to-end rate, publish → row committed (${N} events, one replica; ${by}, ratios ${list(ratios)})`,
        value: median(rounds.map(({ b }) => b.rate)),
        unit: 'events/s',
        baseline: 'raw amqplib publish+consume',
        baselineValue: median(rounds.map(({ a }) => a)),
        ratio,
        target: 'ratio >= 0.9',
        met: ratio >= 0.9,
      },
      {
        benchmark: 'event-log',
        figure: `end-to-end rate with two replicas on one queue (${N} events; ${by}, ratios ${list(scale)})`,
        value: median(rounds.map(({ c }) => c.rate)),
        unit: 'events/s',
        baseline: 'one replica (same rounds)',
        baselineValue: median(rounds.map(({ b }) => b.rate)),
        ratio: median(scale),
        target: 'ratio >= 1',
        met: median(scale) >= 1,
      },
      {
        benchmark: 'event-log',
        figure: `events stored with two replicas (each once; fewest of ${ROUNDS} rounds)`,
        value: Math.min(...stored),
        unit: 'events',
        target: `${N} in every round`,
        met: stored.every((n) => n === N),
      },
      ...cpuRows(rounds.map(({ b }) => b), 'one replica'),
      ...cpuRows(rounds.map(({ c }) => c), 'two replicas'),
      {
        benchmark: 'event-log',
        figure: 'event-log process RSS after the run (largest round)',
        value: Math.max(...rounds.map(({ b }) => b.rss)),
        unit: 'MiB',
      },
    ];
  } finally {
    await Promise.all([db.drop(), vhost.drop()]);
  }
}
