import * as amqp from 'amqplib';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { CloudEvent, Topology } from '@nephele/contracts';
import { generateMasterKey } from '@nephele/crypto';
import { createHttpApp } from '@nephele/service-kit';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { serverEventEntry, TestAtomServer } from '../../test/atom-server';
import { FeedPollerAppModule } from '../app.module';
import { loadFeedPollerConfig } from '../config/env';
import { feedEventId } from './event-id.util';

const TOKEN = 'int-test-admin-token-feed-poller-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

type Delivered = { event: CloudEvent<any>; redelivered: boolean };

describe('feed poller (real PostgreSQL + RabbitMQ, a test AtomHopper)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let atom: TestAtomServer;
  const apps: INestApplication[] = [];
  let url: string;
  let conn: amqp.ChannelModel;
  let pg: Client;
  const delivered: Delivered[] = [];

  const startApp = async (): Promise<INestApplication> => {
    const config = loadFeedPollerConfig({
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      NEPHELE_MASTER_KEY: masterKey,
      LOG_LEVEL: 'silent',
      FEED_POLLER_TICK_MS: '50',
      FEED_POLLER_LEASE_MS: '5000',
      FEED_POLLER_HTTP_TIMEOUT_MS: '3000',
      FEED_POLLER_MAX_ENTRY_BYTES: '20000',
      // The test's feed server is on loopback: the admin allow-list lets the poller read it.
      FEED_POLLER_ALLOW_PRIVATE: '127.0.0.1/32',
    });
    const app = await createHttpApp(FeedPollerAppModule.forRoot(config), { title: 'test' });
    await app.listen(0, '127.0.0.1');
    apps.push(app);
    return app;
  };
  const masterKey = generateMasterKey();

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('feedpoller'), createTestVhost('feedpoller')]);
    atom = new TestAtomServer();
    await atom.start();
    // The consumer exists before anything is published, so every delivery is counted.
    conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    await ch.assertExchange(Topology.events, 'topic', { durable: true });
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, Topology.events, 'nephele.instance.provider_event');
    await ch.bindQueue(q.queue, Topology.events, 'nephele.feed.error');
    await ch.consume(
      q.queue,
      (m) => {
        if (!m) return;
        delivered.push({ event: JSON.parse(m.content.toString()), redelivered: m.fields.redelivered });
        ch.ack(m);
      },
      { noAck: false },
    );
    const app = await startApp();
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await pg?.end();
    await conn?.close();
    await atom?.stop();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const createFeed = async (body: Record<string, unknown>) => {
    const r = await fetch(`${url}/v1/feeds`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    expect(r.status).toBe(201);
    return (await r.json()) as any;
  };
  const providerEvents = (feedId: string) =>
    delivered.filter(
      (d) => d.event.type === 'nephele.instance.provider_event' && d.event.data.feedId === feedId,
    );
  const errorEvents = (feedId: string) =>
    delivered.filter((d) => d.event.type === 'nephele.feed.error' && d.event.data.feedId === feedId);

  it('publishes every entry in order, with deterministic ids, then follows new entries from its cursor', async () => {
    const entries = Array.from({ length: 60 }, (_, i) => serverEventEntry(i));
    atom.add('servers', entries);
    const feed = await createFeed({
      name: 'servers',
      url: atom.feedUrl('servers'),
      intervalMs: 1000,
      pageLimit: 25,
      providerAccountId: 'acct-dfw',
      credentials: { type: 'basic', username: 'feeduser', password: 's3cret-feed-pass' },
    });
    await waitFor(() => providerEvents(feed.id).length >= 60, {
      what: '60 provider events',
      timeoutMs: 20_000,
    });
    const got = providerEvents(feed.id).map((d) => d.event);
    expect(got.map((e) => e.data.entryId)).toEqual(entries.map((e) => e.id));
    expect(got.map((e) => e.id)).toEqual(entries.map((e) => feedEventId(feed.id, e.id)));
    expect(got[1]).toMatchObject({
      source: '/nephele/feed-poller',
      subject: 'srv-1',
      time: entries[1]!.updated,
      data: {
        providerInstanceId: 'srv-1',
        eventType: 'compute.instance.update',
        state: 'active',
        providerAccountId: 'acct-dfw',
      },
    });
    // The cursor is the last entry published; the feed was read the AtomHopper way, with its credentials.
    await waitFor(
      async () => {
        const f = (await (await fetch(`${url}/v1/feeds/${feed.id}`, { headers: auth })).json()) as any;
        return f.status.cursor === entries[59]!.id && f.status.entriesPublished === 60;
      },
      { what: 'the cursor on the last entry' },
    );
    const reqs = atom.requests.filter((r) => r.feed === 'servers');
    expect(reqs.some((r) => r.direction === 'forward' && r.marker && r.limit === 25)).toBe(true);
    expect(
      reqs.every(
        (r) => r.authorization === `Basic ${Buffer.from('feeduser:s3cret-feed-pass').toString('base64')}`,
      ),
    ).toBe(true);

    const more = Array.from({ length: 5 }, (_, i) => serverEventEntry(60 + i));
    atom.add('servers', more);
    await waitFor(() => providerEvents(feed.id).length >= 65, { what: '5 more events', timeoutMs: 10_000 });
    // A later poll asks for what follows the stored cursor.
    expect(
      atom.requests.some(
        (r) => r.feed === 'servers' && r.marker === entries[59]!.id && r.direction === 'forward',
      ),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    const all = providerEvents(feed.id).map((d) => d.event.data.entryId);
    expect(all).toEqual([...entries, ...more].map((e) => e.id));

    // The feed archived the cursor's entry: the poller says so, reads again from the oldest entry
    // left and publishes only what it had not published yet.
    const later = Array.from({ length: 5 }, (_, i) => serverEventEntry(70 + i));
    atom.feeds.set('servers', [...entries.slice(55), ...more.slice(0, 4), ...later]);
    await waitFor(() => errorEvents(feed.id).length >= 1, {
      what: 'the lost-marker notice',
      timeoutMs: 10_000,
    });
    expect(errorEvents(feed.id)[0]!.event.data.reason).toMatch(/marker .* is no longer in the feed/);
    await waitFor(() => providerEvents(feed.id).length >= 70, { what: '5 later events', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(providerEvents(feed.id).map((d) => d.event.data.entryId)).toEqual(
      [...entries, ...more, ...later].map((e) => e.id),
    );
  });

  it('answers hostile feeds with an error event and a backoff while a good feed keeps flowing', async () => {
    const hostile = {
      malformed: { kind: 'malformed' },
      doctype: { kind: 'doctype' },
      huge: { kind: 'huge-entry', bytes: 100_000 },
      loop: { kind: 'loop' },
      down: { kind: 'status', status: 503 },
    } as const;
    const ids: Record<string, string> = {};
    for (const [name, h] of Object.entries(hostile)) {
      atom.hostile.set(name, h);
      ids[name] = (await createFeed({ name, url: atom.feedUrl(name), intervalMs: 1000 })).id;
    }
    const good = Array.from({ length: 30 }, (_, i) => serverEventEntry(1000 + i));
    atom.add('good', good.slice(0, 10));
    const goodFeed = await createFeed({
      name: 'good',
      url: atom.feedUrl('good'),
      intervalMs: 1000,
      pageLimit: 4,
    });

    const reasons: Record<string, RegExp> = {
      malformed: /malformed XML/,
      doctype: /DOCTYPE and ENTITY declarations are refused/,
      huge: /entry urn:huge is \d+ bytes, over the limit of 20000 bytes/,
      loop: /paging loop/,
      down: /HTTP 503/,
    };
    await waitFor(() => Object.values(ids).every((id) => errorEvents(id).length >= 1), {
      what: 'an error event per hostile feed',
      timeoutMs: 15_000,
    });
    for (const [name, id] of Object.entries(ids)) {
      const first = errorEvents(id)[0]!.event;
      expect(first.data.reason).toMatch(reasons[name]!);
      expect(first.data.failures).toBe(1);
      // Backoff: interval × 2^failures, announced in the event and stored with the feed.
      expect(Date.parse(first.data.retryAt) - Date.parse(first.time!)).toBe(2000);
      const f = (await (await fetch(`${url}/v1/feeds/${id}`, { headers: auth })).json()) as any;
      expect(f.status.failures).toBeGreaterThanOrEqual(1);
      expect(f.status.lastError).toMatch(reasons[name]!);
    }
    // The good feed keeps flowing while the others fail.
    atom.add('good', good.slice(10));
    await waitFor(() => providerEvents(goodFeed.id).length >= 30, {
      what: 'the good feed',
      timeoutMs: 15_000,
    });
    expect(providerEvents(goodFeed.id).map((d) => d.event.data.entryId)).toEqual(good.map((e) => e.id));
    // A failing feed backs off further: the second failure waits twice as long.
    await waitFor(() => errorEvents(ids.down!).length >= 2, { what: 'a second failure', timeoutMs: 10_000 });
    const second = errorEvents(ids.down!)[1]!.event;
    expect(second.data.failures).toBe(2);
    expect(Date.parse(second.data.retryAt) - Date.parse(second.time!)).toBe(4000);
    // Nothing of the refused documents was published.
    for (const name of ['malformed', 'doctype', 'huge', 'down'])
      expect(providerEvents(ids[name]!)).toHaveLength(0);
    // A feed that recovers resets its failures.
    atom.hostile.delete('down');
    atom.add('down', [serverEventEntry(5000)]);
    await waitFor(() => providerEvents(ids.down!).length === 1, {
      what: 'the recovered feed',
      timeoutMs: 15_000,
    });
    await waitFor(
      async () => {
        const f = (await (await fetch(`${url}/v1/feeds/${ids.down}`, { headers: auth })).json()) as any;
        return f.status.failures === 0 && f.status.lastError === null;
      },
      { what: 'failures reset' },
    );
  });

  it('shares feeds between two replicas without publishing any entry twice', async () => {
    await startApp();
    const names = ['r1', 'r2', 'r3', 'r4'];
    const feeds: { id: string; entries: ReturnType<typeof serverEventEntry>[] }[] = [];
    for (const [n, name] of names.entries()) {
      const entries = Array.from({ length: 120 }, (_, i) => serverEventEntry(10_000 * (n + 1) + i));
      atom.add(name, entries);
      feeds.push({
        id: (await createFeed({ name, url: atom.feedUrl(name), intervalMs: 1000, pageLimit: 10 })).id,
        entries,
      });
    }
    await waitFor(() => feeds.every((f) => providerEvents(f.id).length >= 120), {
      what: 'every entry of four feeds',
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 1500));
    for (const f of feeds) {
      const got = providerEvents(f.id).map((d) => d.event);
      expect(got.map((e) => e.data.entryId)).toEqual(f.entries.map((e) => e.id));
      expect(new Set(got.map((e) => e.id)).size).toBe(120);
    }
    const { rows } = await pg.query(
      `SELECT count(*)::int AS n FROM feed_poller.seen_entries WHERE feed_id = ANY($1::uuid[])`,
      [feeds.map((f) => f.id)],
    );
    expect(rows[0].n).toBe(480);
  });
});
