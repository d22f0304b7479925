import * as amqp from 'amqplib';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { createEvent, Topology } from '@nephele/contracts';
import { createHttpApp } from '@nephele/service-kit';
import { createTestDatabase, createTestVhost, readSse, TestResource, waitFor } from '@nephele/testing';
import { DataSource } from 'typeorm';
import { EventLogAppModule } from '../app.module';
import { EVENT_LOG_DB } from '../event-log.tokens';
import { EventsRepository } from './events.repository';
import { loadEventLogConfig } from '../config/env';

const TOKEN = 'int-test-admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('event log (real PostgreSQL + RabbitMQ)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let app: INestApplication;
  let url: string;
  let conn: amqp.ChannelModel;
  let ch: amqp.ConfirmChannel;
  let pg: Client;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('eventlog'), createTestVhost('eventlog')]);
    const config = loadEventLogConfig({
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    });
    app = await createHttpApp(EventLogAppModule.forRoot(config), { title: 'test' });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    url = url.replace('[::1]', '127.0.0.1');
    conn = await amqp.connect(vhost.url);
    ch = await conn.createConfirmChannel();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await conn?.close();
    await app?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const count = async (where = 'true', params: unknown[] = []) =>
    Number(
      (await pg.query(`SELECT count(*)::int AS n FROM event_log.events WHERE ${where}`, params)).rows[0].n,
    );

  it('stores exactly the distinct ids of 10,000 events with 10% duplicates', async () => {
    const distinct = Array.from({ length: 9000 }, (_, i) =>
      createEvent(
        'int',
        'nephele.config.changed',
        { resource: 'pools', id: `p${i}`, action: 'created' as const },
        { subject: 'dup-test' },
      ),
    );
    const dups = distinct.slice(0, 1000);
    const all = [...distinct, ...dups].sort(() => Math.random() - 0.5);
    for (const e of all) {
      ch.publish(Topology.events, e.type, Buffer.from(JSON.stringify(e)), { persistent: true });
    }
    await ch.waitForConfirms();
    await waitFor(async () => (await count(`subject = 'dup-test'`)) >= 9000, {
      timeoutMs: 60_000,
      what: '9000 rows',
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await count(`subject = 'dup-test'`)).toBe(9000);
    const { rows } = await pg.query(
      `SELECT count(DISTINCT id)::int AS n FROM event_log.events WHERE subject = 'dup-test'`,
    );
    expect(rows[0].n).toBe(9000);
  });

  it('dead-letters a malformed message with its reason and stores the valid events after it', async () => {
    ch.publish(Topology.events, 'nephele.config.changed', Buffer.from('this is not json'));
    ch.publish(
      Topology.events,
      'nephele.instance.state_changed',
      Buffer.from(
        JSON.stringify({
          ...createEvent('int', 'nephele.instance.state_changed', {}),
          specversion: '0.3',
          id: '',
        }),
      ),
    );
    const valid = Array.from({ length: 5 }, (_, i) =>
      createEvent(
        'int',
        'nephele.config.changed',
        { resource: 'pools', id: `v${i}`, action: 'updated' as const },
        { subject: 'after-poison' },
      ),
    );
    for (const e of valid)
      ch.publish(Topology.events, e.type, Buffer.from(JSON.stringify(e)), { persistent: true });
    await ch.waitForConfirms();
    await waitFor(async () => (await count(`subject = 'after-poison'`)) === 5, { what: 'the valid events' });
    // Every queue of the service that received the poison dead-letters it (the log's own queue and,
    // for nephele.config.*, its revocation listener), each naming its queue: drain until both
    // reasons are there.
    const dead: amqp.GetMessage[] = [];
    const reasons = () => dead.map((m) => String(m.properties.headers?.[Topology.deadLetterReasonHeader]));
    await waitFor(
      async () => {
        const m = await ch.get(Topology.dlq('event-log'), { noAck: true });
        if (m) dead.push(m);
        return (
          reasons().some((r) => /malformed JSON/.test(r)) &&
          reasons().some((r) => /specversion/.test(r) && /id:/.test(r))
        );
      },
      { what: 'dead letters for the malformed JSON and the invalid envelope' },
    );
    for (const m of dead)
      expect(String(m.properties.headers?.[Topology.deadLetterQueueHeader])).toMatch(/^event-log\./);
  });

  it('logs events posted over REST (single and batch), and refuses bad ones with the field', async () => {
    const one = createEvent('/ext/cmdb', 'com.example.deployed', { app: 'shop' }, { subject: 'rest-log' });
    const batch = [1, 2].map((i) =>
      createEvent('/ext/cmdb', 'com.example.deployed', { i }, { subject: 'rest-log' }),
    );
    const post = (body: unknown) =>
      fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post(one)).status).toBe(202);
    expect((await post(batch)).status).toBe(202);
    const bad = await post([one, { ...one, specversion: '2.0', id: undefined }]);
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as any;
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['[1].specversion', '[1].id']),
    );
    await waitFor(async () => (await count(`subject = 'rest-log'`)) === 3, { what: '3 REST-logged events' });
    const got = (await (await fetch(`${url}/v1/events/${one.id}`, { headers: auth })).json()) as any;
    expect(got).toMatchObject({ id: one.id, type: 'com.example.deployed', data: { app: 'shop' } });
  });

  it('stores one row per (source, id) whatever the time, across day partitions and in one batch', async () => {
    const e = createEvent('/ext/retry', 'com.example.retried', { n: 1 }, { subject: 'identity' });
    const yesterday = { ...e, time: new Date(Date.now() - 86_400_000).toISOString() };
    const other = createEvent('/ext/other', 'com.example.retried', { n: 2 }, { subject: 'identity' });
    const sameIdOtherSource = { ...other, id: e.id };
    for (const m of [e, yesterday, sameIdOtherSource, e]) {
      ch.publish(Topology.events, m.type, Buffer.from(JSON.stringify(m)), { persistent: true });
    }
    await ch.waitForConfirms();
    const post = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify([{ ...e, time: '2030-01-01T00:00:00Z' }, yesterday]),
    });
    expect(post.status).toBe(202);
    await waitFor(async () => (await count(`subject = 'identity'`)) >= 2, { what: 'two identities' });
    // Redeliveries and retries after the first two rows changed nothing.
    await waitFor(
      async () => {
        const q = await pg.query(
          `SELECT count(*)::int AS n FROM event_log.events WHERE subject = 'identity'`,
        );
        return q.rows[0].n === 2;
      },
      { what: 'still two rows' },
    );
    const rows = (
      await pg.query(`SELECT source, id FROM event_log.events WHERE id = $1 ORDER BY source`, [e.id])
    ).rows;
    expect(rows).toEqual([
      { source: '/ext/other', id: e.id },
      { source: '/ext/retry', id: e.id },
    ]);
  });

  it('refuses content the store would refuse (NUL, unpaired surrogates) with a 400 naming the field', async () => {
    const ok = createEvent('/ext/nul', 'com.example.nul', { fine: true }, { subject: 'nul' });
    const withNul = createEvent('/ext/nul', 'com.example.nul', { text: 'a\u0000b' }, { subject: 'nul' });
    const post = (raw: string) =>
      fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: raw,
      });
    const r = await post(JSON.stringify([ok, withNul]));
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).errors).toEqual([
      expect.objectContaining({ field: '[1].data.text', message: expect.stringMatching(/NUL/) }),
    ]);
    const surrogate = JSON.stringify(ok).replace('"fine":true', '"s":"\\ud800"');
    const r2 = await post(surrogate);
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as any).errors[0].field).toBe('data.s');
    expect(await count(`subject = 'nul'`)).toBe(0);
  });

  it('filters by type prefix, subject and time, and pages with a cursor without gaps', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `${url}/v1/events?type=nephele.config.*&subject=dup-test&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await (await fetch(q, { headers: auth })).json()) as any as {
        items: { id: string; type: string }[];
        nextCursor: string | null;
      };
      seen.push(...page.items.map((e) => e.id));
      expect(page.items.every((e) => e.type.startsWith('nephele.config.'))).toBe(true);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(9000);
    expect(new Set(seen).size).toBe(9000);
    const future = (await (
      await fetch(`${url}/v1/events?since=2100-01-01T00:00:00Z`, { headers: auth })
    ).json()) as any;
    expect(future.items).toEqual([]);
    const bad = await fetch(`${url}/v1/events?limit=5000&type=no spaces`, { headers: auth });
    expect(bad.status).toBe(400);
    const badCursor = await fetch(`${url}/v1/events?cursor=garbage`, { headers: auth });
    expect(badCursor.status).toBe(400);
    expect(((await badCursor.json()) as any).errors[0].field).toBe('cursor');
  });

  it('resumes an SSE stream with Last-Event-ID across a burst: no gap, no duplicate', async () => {
    const burst = Array.from({ length: 600 }, (_, i) =>
      createEvent(
        'int',
        'nephele.config.changed',
        { resource: 'images', id: `b${i}`, action: 'created' as const },
        { subject: 'sse-burst' },
      ),
    );
    const received: string[] = [];
    let lastId: string | undefined;
    const streamUrl = `${url}/v1/events/stream?subject=sse-burst`;
    // First connection: start before the burst, drop after ~150 events.
    const first = readSse(streamUrl, auth, (m) => {
      received.push((JSON.parse(m.data) as { id: string }).id);
      lastId = m.id;
      return received.length >= 150;
    });
    await new Promise((r) => setTimeout(r, 300));
    const publishing = (async () => {
      for (const e of burst) {
        ch.publish(Topology.events, e.type, Buffer.from(JSON.stringify(e)), { persistent: true });
        if (Number(e.data!.id.slice(1)) % 50 === 0) {
          await ch.waitForConfirms();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      await ch.waitForConfirms();
    })();
    await first;
    expect(lastId).toBeDefined();
    // Second connection resumes while the burst is still arriving.
    await readSse(streamUrl, { ...auth, 'last-event-id': lastId! }, (m) => {
      received.push((JSON.parse(m.data) as { id: string }).id);
      return received.length >= 600;
    });
    await publishing;
    expect(received).toHaveLength(600);
    expect(new Set(received).size).toBe(600);
    expect(new Set(received)).toEqual(new Set(burst.map((e) => e.id)));
  });

  it('reads no event past one whose transaction is still in flight, then both in seq order', async () => {
    const repo = app.get(EventsRepository);
    const ds = app.get<DataSource>(EVENT_LOG_DB);
    const ev = (id: string) =>
      createEvent(
        'int',
        'nephele.config.changed',
        { resource: 'pools', id, action: 'created' as const },
        { subject: 'in-flight' },
      );
    const [early, late] = [ev('early'), ev('late')];
    const list = async () =>
      (
        (await (await fetch(`${url}/v1/events?subject=in-flight`, { headers: auth })).json()) as any
      ).items.map((e: { data: { id: string } }) => e.data.id);
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      // Draws the lower seq and stays uncommitted while another batch commits a higher one.
      await repo.insertIn(runner.manager, [early]);
      await repo.insertBatch([late]);
      expect(await count(`subject = 'in-flight'`)).toBe(1);
      expect(await list()).toEqual([]);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect(await list()).toEqual(['early', 'late']);
  });
});
