// event-log: (a) raw amqplib persistent publish-with-confirms + consume rate on the broker, and
// (b) Nephele end to end (publish → row committed by the event-log process), same broker and
// database, same run. Target: b/a ≥ 0.7.
import * as amqp from 'amqplib';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { createEvent, Topology } from '@nephele/contracts';
import {
  createTestDatabase,
  createTestVhost,
  ServiceProcess,
  waitFor,
  WORKSPACE_ROOT,
} from '@nephele/testing';
import type { BenchRow } from './bench.types';

const N = Number(process.env.BENCH_EVENTS ?? 30_000);
const body = (i: number) =>
  Buffer.from(
    JSON.stringify(
      createEvent(
        'bench',
        'nephele.config.changed',
        { resource: 'pools', id: `p${i}`, action: 'created' as const },
        { subject: 'bench' },
      ),
    ),
  );

/** Publishes N persistent messages with confirms in windows of 1000 outstanding. */
async function publish(ch: amqp.ConfirmChannel, exchange: string, key: string): Promise<void> {
  for (let i = 0; i < N; i++) {
    ch.publish(exchange, key, body(i), { persistent: true, contentType: 'application/cloudevents+json' });
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
  await sub.prefetch(1000);
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
  await publish(pub, 'bench.raw', 'nephele.config.changed');
  await all;
  const rate = N / ((performance.now() - t0) / 1000);
  await conn.close();
  return rate;
}

async function nephele(vhostUrl: string, dbUrl: string): Promise<{ rate: number; rss: number }> {
  const svc = await ServiceProcess.start('event-log', {
    DATABASE_URL: dbUrl,
    AMQP_URL: vhostUrl,
    LOG_LEVEL: 'warn',
  });
  const pg = new Client({ connectionString: dbUrl });
  await pg.connect();
  const conn = await amqp.connect(vhostUrl);
  const pub = await conn.createConfirmChannel();
  try {
    const t0 = performance.now();
    await publish(pub, Topology.events, 'nephele.config.changed');
    await waitFor(
      async () =>
        Number(
          (await pg.query(`SELECT count(*)::int AS n FROM event_log.events WHERE subject = 'bench'`)).rows[0]
            .n,
        ) >= N,
      { timeoutMs: 120_000, intervalMs: 20, what: 'all events stored' },
    );
    const rate = N / ((performance.now() - t0) / 1000);
    const ps = spawnSync('ps', ['-o', 'rss=', '-p', String(svc.child!.pid)], { encoding: 'utf8' });
    return { rate, rss: Number(ps.stdout.trim()) / 1024 };
  } finally {
    await conn.close();
    await pg.end();
    await svc.kill('SIGTERM');
  }
}

export default async function run(): Promise<BenchRow[]> {
  spawnSync(process.execPath, ['tools/build.mjs', 'event-log'], { cwd: WORKSPACE_ROOT, stdio: 'ignore' });
  const [db, vhost] = await Promise.all([createTestDatabase('bench_el'), createTestVhost('bench_el')]);
  try {
    const a = await raw(vhost.url);
    const b = await nephele(vhost.url, db.url);
    const ratio = b.rate / a;
    return [
      {
        benchmark: 'event-log',
        figure: `end-to-end rate, publish → row committed (${N} events)`,
        value: b.rate,
        unit: 'events/s',
        baseline: 'raw amqplib publish+consume',
        baselineValue: a,
        ratio,
        target: 'ratio >= 0.7',
        met: ratio >= 0.7,
      },
      { benchmark: 'event-log', figure: 'event-log process RSS after the run', value: b.rss, unit: 'MiB' },
    ];
  } finally {
    await Promise.all([db.drop(), vhost.drop()]);
  }
}
