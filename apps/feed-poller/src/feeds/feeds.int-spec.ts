import * as amqp from 'amqplib';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { generateMasterKey } from '@nephele/crypto';
import { createHttpApp } from '@nephele/service-kit';
import { CloudEvent, Topology } from '@nephele/contracts';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { FeedPollerAppModule } from '../app.module';
import { loadFeedPollerConfig } from '../config/env';

const TOKEN = 'int-test-admin-token-feeds-rest-0123456789';
const json = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const SECRET = 'do-not-leak-this-password-42';

describe('/v1/feeds (real PostgreSQL + RabbitMQ)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let app: INestApplication;
  let url: string;
  let pg: Client;
  let conn: amqp.ChannelModel;
  const audit: CloudEvent<Record<string, unknown>>[] = [];

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('feedsrest'), createTestVhost('feedsrest')]);
    const config = loadFeedPollerConfig({
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      NEPHELE_MASTER_KEY: generateMasterKey(),
      LOG_LEVEL: 'silent',
      FEED_POLLER_ENABLED: 'false',
    });
    app = await createHttpApp(FeedPollerAppModule.forRoot(config), { title: 'test' });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, Topology.events, 'nephele.audit.#');
    await ch.consume(q.queue, (m) => m && audit.push(JSON.parse(m.content.toString())), { noAck: true });
  });

  afterAll(async () => {
    await conn?.close();
    await pg?.end();
    await app?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const post = (body: unknown) =>
    fetch(`${url}/v1/feeds`, { method: 'POST', headers: json, body: JSON.stringify(body) });

  it('creates a feed: 201 with Location and ETag; credentials are write-only and encrypted at rest', async () => {
    const r = await post({
      name: 'dfw',
      url: 'https://feeds.example.com/dfw/servers/',
      intervalMs: 30_000,
      credentials: { type: 'basic', username: 'u', password: SECRET },
      project: 'proj-a',
    });
    expect(r.status).toBe(201);
    const text = await r.text();
    expect(text).not.toContain(SECRET);
    const feed = JSON.parse(text);
    expect(r.headers.get('location')).toBe(`/v1/feeds/${feed.id}`);
    expect(r.headers.get('etag')).toBe('W/"1"');
    expect(feed).toMatchObject({
      name: 'dfw',
      project: 'proj-a',
      intervalMs: 30_000,
      pageLimit: 25,
      enabled: true,
      startAt: 'oldest',
      hasCredentials: true,
      status: { cursor: null, failures: 0 },
    });
    expect(feed.credentials).toBeUndefined();
    const { rows } = await pg.query(`SELECT credentials::text AS c FROM feed_poller.feeds WHERE id = $1`, [
      feed.id,
    ]);
    expect(rows[0].c).not.toContain(SECRET);
    expect(JSON.parse(rows[0].c)).toMatchObject({ v: 1 });
    const got = await fetch(`${url}/v1/feeds/${feed.id}`, { headers: json });
    expect(await got.text()).not.toContain(SECRET);
  });

  it('refuses bad input with 400 and the field', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'x', url: 'ftp://example.com/feed' }, 'url'],
      [{ name: 'x', url: 'https://user:pw@example.com/feed' }, 'url'],
      [{ name: 'x', url: 'not a url' }, 'url'],
      [{ name: 'x', url: 'https://example.com/', intervalMs: 5 }, 'intervalMs'],
      [{ name: 'x', url: 'https://example.com/', pageLimit: 0 }, 'pageLimit'],
      [{ name: '', url: 'https://example.com/' }, 'name'],
      [{ name: 'x', url: 'https://example.com/', credentials: { type: 'kerberos' } }, 'credentials.type'],
      [{ name: 'x', url: 'https://example.com/', credentials: { type: 'bearer' } }, 'credentials.token'],
      [{ name: 'x', url: 'https://example.com/', surprise: 1 }, 'surprise'],
    ];
    for (const [body, field] of cases) {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const p = (await r.json()) as any;
      expect(p.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const malformed = await fetch(`${url}/v1/feeds`, { method: 'POST', headers: json, body: '{"name":' });
    expect(malformed.status).toBe(400);
  });

  it('lists with a cursor, updates with If-Match, refuses a stale ETag, scopes by project, deletes', async () => {
    const ids: string[] = [];
    for (const name of ['l1', 'l2', 'l3']) {
      const r = await post({ name, url: `https://example.com/${name}/`, project: 'proj-b' });
      ids.push(((await r.json()) as any).id);
    }
    expect((await post({ name: 'l1', url: 'https://example.com/dup/', project: 'proj-b' })).status).toBe(409);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await fetch(`${url}/v1/feeds?project=proj-b&limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
          headers: json,
        })
      ).json()) as any;
      seen.push(...page.items.map((f: { id: string }) => f.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());
    expect((await fetch(`${url}/v1/feeds?cursor=nonsense`, { headers: json })).status).toBe(400);

    const id = ids[0]!;
    const patch = (body: unknown, ifMatch?: string) =>
      fetch(`${url}/v1/feeds/${id}`, {
        method: 'PATCH',
        headers: { ...json, ...(ifMatch ? { 'if-match': ifMatch } : {}) },
        body: JSON.stringify(body),
      });
    const ok = await patch({ intervalMs: 120_000, enabled: false }, 'W/"1"');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('W/"2"');
    expect(await ok.json()).toMatchObject({ intervalMs: 120_000, enabled: false, version: 2 });
    expect((await patch({ intervalMs: 60_000 }, 'W/"1"')).status).toBe(412);
    expect((await patch({ intervalMs: 1 }, 'W/"2"')).status).toBe(400);
    const cleared = (await (await patch({ credentials: null }, 'W/"2"')).json()) as any;
    expect(cleared.hasCredentials).toBe(false);

    // Another project's feed answers 404 like a missing one.
    expect((await fetch(`${url}/v1/feeds/${id}?project=proj-a`, { headers: json })).status).toBe(404);
    expect((await fetch(`${url}/v1/feeds/${id}?project=proj-b`, { headers: json })).status).toBe(200);
    expect((await fetch(`${url}/v1/feeds/not-a-uuid`, { headers: json })).status).toBe(404);

    expect(
      (await fetch(`${url}/v1/feeds/${id}`, { method: 'DELETE', headers: { ...json, 'if-match': 'W/"1"' } }))
        .status,
    ).toBe(412);
    expect((await fetch(`${url}/v1/feeds/${id}`, { method: 'DELETE', headers: json })).status).toBe(204);
    expect((await fetch(`${url}/v1/feeds/${id}`, { headers: json })).status).toBe(404);
    expect((await fetch(`${url}/v1/feeds`, { headers: {} })).status).toBe(401);

    // Every change is in the audit trail (through the outbox), filed under the feed's project;
    // refused changes (409, 412, 400) are not.
    const trail = await waitFor(() => {
      const mine = audit.filter((e) => e.subject === id);
      return mine.length >= 4 ? mine : undefined;
    });
    expect(trail.map((e) => e.type)).toEqual([
      'nephele.audit.feeds.create',
      'nephele.audit.feeds.update',
      'nephele.audit.feeds.update',
      'nephele.audit.feeds.delete',
    ]);
    expect(trail.every((e) => e.project === 'proj-b' && e.data!.actor === 'bootstrap')).toBe(true);
    expect(trail[1]!.data!.after).toMatchObject({ intervalMs: 120_000, enabled: false, version: 2 });
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });
});
