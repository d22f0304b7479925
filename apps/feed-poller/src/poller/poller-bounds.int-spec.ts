import * as amqp from 'amqplib';
import { INestApplication } from '@nestjs/common';
import { CloudEvent, Topology } from '@nephele/contracts';
import { createHttpApp } from '@nephele/service-kit';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { TestAtomServer } from '../../test/atom-server';
import { FeedPollerAppModule } from '../app.module';
import { loadFeedPollerConfig } from '../config/env';

const TOKEN = 'int-test-admin-token-feed-bounds-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/** See Note [Poll bounds]: a feed server that sends 100,000 entries in one page gets `pageLimit` taken. */
describe('feed poller bounds (real PostgreSQL + RabbitMQ, a flooding feed)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let atom: TestAtomServer;
  let app: INestApplication;
  let url: string;
  let conn: amqp.ChannelModel;
  const events: CloudEvent<any>[] = [];

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('feedbounds'), createTestVhost('feedbounds')]);
    atom = new TestAtomServer();
    await atom.start();
    conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    await ch.assertExchange(Topology.events, 'topic', { durable: true });
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, Topology.events, 'nephele.instance.provider_event');
    await ch.consume(q.queue, (m) => m && events.push(JSON.parse(m.content.toString())), { noAck: true });
    const config = loadFeedPollerConfig({
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      LOG_LEVEL: 'silent',
      FEED_POLLER_TICK_MS: '50',
      FEED_POLLER_MAX_RESPONSE_BYTES: '30000000',
      FEED_POLLER_MAX_ENTRIES_PER_POLL: '100',
      // The test's feed server is on loopback: the admin allow-list lets the poller read it.
      FEED_POLLER_ALLOW_PRIVATE: '127.0.0.1/32',
    });
    app = await createHttpApp(FeedPollerAppModule.forRoot(config), { title: 'test' });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await conn?.close();
    await atom?.stop();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  it('takes at most pageLimit entries of a 100,000-entry page, in order, and pages on from the last one taken', async () => {
    const t0 = Date.UTC(2025, 0, 1);
    const entries = Array.from({ length: 100_000 }, (_, i) => ({
      id: `urn:flood:${i}`,
      updated: new Date(t0 + i * 1000).toISOString(),
      body: '<atom:title>f</atom:title>',
    }));
    atom.add('flood', entries);
    atom.hostile.set('flood', { kind: 'ignores-limit' });
    const r = await fetch(`${url}/v1/feeds`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'flood', url: atom.feedUrl('flood'), intervalMs: 60_000, pageLimit: 50 }),
    });
    expect(r.status).toBe(201);
    const feed = (await r.json()) as { id: string };
    await waitFor(() => events.length >= 150, { what: 'three pages of the flood', timeoutMs: 90_000 }).catch(
      async (e: Error) => {
        const f = (await (await fetch(`${url}/v1/feeds/${feed.id}`, { headers: auth })).json()) as any;
        throw new Error(`${e.message}: ${events.length} events, feed status ${JSON.stringify(f.status)}`);
      },
    );
    const got = events.map((e) => e.data.entryId as string);
    expect(got).toEqual(entries.slice(0, got.length).map((e) => e.id));
    // Every request after the first continued from the 50th, 100th, … entry: 50 taken per page.
    const markers = atom.requests
      .filter((q) => q.feed === 'flood' && q.marker)
      .map((q) => Number(q.marker!.split(':').pop()));
    expect(markers.length).toBeGreaterThanOrEqual(2);
    expect(markers.every((m) => m % 50 === 49)).toBe(true);
    // Far from the whole page: the poll stops at its bounds, and is due again at once.
    expect(got.length).toBeLessThan(2000);
  });
});
