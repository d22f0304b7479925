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
): Promise<{ rate: number; rss: number; stored: number }> {
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
  try {
    const base = await seq();
    const t0 = performance.now();
    await publish(pub, Topology.events, InstanceStateChanged.type, subject);
    await waitFor(async () => (await seq()) - base >= N && (await count()) >= N, {
      timeoutMs: 120_000,
      intervalMs: 20,
      what: 'all events stored',
    });
    const rate = N / ((performance.now() - t0) / 1000);
    const rss = svcs.map((s) => {
      const ps = spawnSync('ps', ['-o', 'rss=', '-p', String(s.child!.pid)], { encoding: 'utf8' });
      return Number(ps.stdout.trim()) / 1024;
    });
    // Settle: nothing more may arrive (a duplicate insert would show here).
    await new Promise((r) => setTimeout(r, 500));
    return { rate, rss: Math.max(...rss), stored: await count() };
  } finally {
    await conn.close();
    await pg.end();
    await Promise.all(svcs.map((s) => s.kill('SIGTERM')));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');

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
