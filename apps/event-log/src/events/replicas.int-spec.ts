import * as amqp from 'amqplib';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { CloudEvent, createEvent, InstanceStateChanged, Topology } from '@nephele/contracts';
import { createHttpApp } from '@nephele/service-kit';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { EventLogAppModule } from '../app.module';
import { loadEventLogConfig } from '../config/env';

// Two event-log replicas consuming the one queue (see Note [Group commit]): every event is stored
// exactly once whatever reaches which replica — duplicates published twice (one re-serialised
// with another time, as a retrying producer would), and redeliveries when a replica stops with
// deliveries in hand.
describe('two event-log replicas on one queue (real PostgreSQL + RabbitMQ)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let replicas: INestApplication[] = [];
  let conn: amqp.ChannelModel;
  let ch: amqp.ConfirmChannel;
  let pg: Client;

  const start = async () => {
    const config = loadEventLogConfig({
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'error',
      // Small batches: many transactions of both replicas interleave.
      EVENT_LOG_BATCH_SIZE: '50',
    });
    const app = await createHttpApp(EventLogAppModule.forRoot(config), { title: 'test' });
    await app.init();
    return app;
  };

  beforeAll(async () => {
    [db, vhost] = await Promise.all([
      createTestDatabase('scale_el_replicas'),
      createTestVhost('scale_el_replicas'),
    ]);
    // One after the other: the first runs the migrations.
    replicas = [await start(), await start()];
    conn = await amqp.connect(vhost.url);
    ch = await conn.createConfirmChannel();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await conn?.close();
    for (const r of replicas) await r.close().catch(() => undefined);
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const count = async (sql: string, subject: string) => Number((await pg.query(sql, [subject])).rows[0].n);
  const event = (i: number, subject: string) =>
    createEvent(
      'int-replicas',
      InstanceStateChanged.type,
      { instanceId: `i${i}`, to: 'running' as const, reason: 'int' },
      { subject },
    );
  const publishAll = async (events: CloudEvent[]) => {
    for (const e of events)
      ch.publish(Topology.events, e.type, Buffer.from(JSON.stringify(e)), { persistent: true });
    await ch.waitForConfirms();
  };

  it('has both replicas consuming the queue', async () => {
    const q = await ch.checkQueue(Topology.queues.eventLog.name);
    expect(q.consumerCount).toBe(2);
  });

  it('stores each of 6,000 events once when 1,500 of them are published twice', async () => {
    const subject = 'dups';
    const distinct = Array.from({ length: 6000 }, (_, i) => event(i, subject));
    const again = distinct.slice(0, 1500).map((e, i) =>
      // A retrying producer may re-serialise `time`: the identity is (source, id) only.
      i % 2 ? e : { ...e, time: new Date(Date.parse(e.time!) + 1000).toISOString() },
    );
    const all = [...distinct, ...again].sort(() => Math.random() - 0.5);
    await publishAll(all);
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM event_log.events WHERE subject = $1`, subject)) >= 6000,
      {
        timeoutMs: 90_000,
        what: '6000 rows',
      },
    );
    // Both replicas have drained their share: the queue is empty and nothing more arrives.
    await waitFor(async () => (await ch.checkQueue(Topology.queues.eventLog.name)).messageCount === 0, {
      timeoutMs: 30_000,
      what: 'an empty queue',
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await count(`SELECT count(*)::int AS n FROM event_log.events WHERE subject = $1`, subject)).toBe(
      6000,
    );
    expect(
      await count(
        `SELECT count(DISTINCT (source, id))::int AS n FROM event_log.events WHERE subject = $1`,
        subject,
      ),
    ).toBe(6000);
    // seq is unique (one sequence, Note [Event order]).
    expect(
      await count(`SELECT count(DISTINCT seq)::int AS n FROM event_log.events WHERE subject = $1`, subject),
    ).toBe(6000);
  });

  it('stores each event once when a replica stops with deliveries in hand (redeliveries)', async () => {
    const subject = 'redelivered';
    const events = Array.from({ length: 6000 }, (_, i) => event(i, subject));
    await publishAll(events);
    // Stop the first replica while it is storing: what it had unacked goes back to the queue and
    // reaches the other one (some of it possibly committed already).
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM event_log.events WHERE subject = $1`, subject)) > 0,
      { timeoutMs: 60_000, intervalMs: 5, what: 'the first rows' },
    );
    const [stopped, ...rest] = replicas;
    replicas = rest;
    await stopped!.close();
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM event_log.events WHERE subject = $1`, subject)) >= 6000,
      { timeoutMs: 90_000, what: '6000 rows' },
    );
    await waitFor(async () => (await ch.checkQueue(Topology.queues.eventLog.name)).messageCount === 0, {
      timeoutMs: 30_000,
      what: 'an empty queue',
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await count(`SELECT count(*)::int AS n FROM event_log.events WHERE subject = $1`, subject)).toBe(
      6000,
    );
    expect(
      await count(
        `SELECT count(DISTINCT (source, id))::int AS n FROM event_log.events WHERE subject = $1`,
        subject,
      ),
    ).toBe(6000);
  });
});
