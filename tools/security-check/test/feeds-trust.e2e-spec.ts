import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  ServiceProcess,
  TestResource,
  waitFor,
} from '@nephele/testing';
import { send } from './http';

const TOKEN = `boot-${randomBytes(16).toString('hex')}`;

/**
 * Feeds under attack, with the config-api and the feed poller as processes: a project's feed
 * cannot name another project's provider account, and feed URLs on loopback or the cloud metadata
 * address are refused with a `lastError` that says only "unreachable".
 */
describe('feeds: tenancy and SSRF (E2E: config-api + feed-poller)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let config: ServiceProcess;
  let feeds: ServiceProcess;
  let target: Server;
  let targetUrl: string;
  let hits = 0;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    buildApps('config-api', 'feed-poller');
    [db, vhost] = await Promise.all([createTestDatabase('sec_feeds'), createTestVhost('sec_feeds')]);
    target = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/atom+xml' }).end('<feed/>');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/feed`;
    const env = {
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      NEPHELE_MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
    };
    config = await ServiceProcess.start('config-api', env);
    feeds = await ServiceProcess.start('feed-poller', { ...env, FEED_POLLER_TICK_MS: '100' });
    const post = async (path: string, body: unknown) => {
      const r = await send(config.url, 'POST', path, { token: TOKEN, body });
      if (r.status !== 201) throw new Error(`${path}: ${r.status} ${r.text}`);
      return r.json as { id: string; token: string };
    };
    ids.a = (await post('/v1/projects', { name: 'a' })).id;
    ids.b = (await post('/v1/projects', { name: 'b' })).id;
    ids.provider = (await post('/v1/providers', { name: 'sim', kind: 'simulated' })).id;
    ids.accountA = (
      await post('/v1/provider-accounts', { project: ids.a, providerId: ids.provider, name: 'a' })
    ).id;
    ids.accountB = (
      await post('/v1/provider-accounts', { project: ids.b, providerId: ids.provider, name: 'b' })
    ).id;
    ids.memberB = (await post('/v1/tokens', { project: ids.b, role: 'member', name: 'mb' })).token;
  }, 240_000);

  afterAll(async () => {
    await feeds?.kill('SIGTERM');
    await config?.kill('SIGTERM');
    target?.close();
    await Promise.all([db?.drop().catch(() => undefined), vhost?.drop().catch(() => undefined)]);
  });

  const feed = (token: string, body: Record<string, unknown>) =>
    send(feeds.url, 'POST', '/v1/feeds', {
      token,
      body: { intervalMs: 1000, url: 'https://feeds.example.com/x', ...body },
    });

  it('refuses another project’s provider account with 404, like a missing one; accepts its own', async () => {
    const other = await feed(ids.memberB!, { name: 'steal', providerAccountId: ids.accountA });
    const missing = await feed(ids.memberB!, {
      name: 'missing',
      providerAccountId: '00000000-0000-4000-8000-000000000001',
    });
    expect([other.status, missing.status]).toEqual([404, 404]);
    const own = await feed(ids.memberB!, { name: 'own', providerAccountId: ids.accountB, enabled: false });
    expect(own.status).toBe(201);
    const patched = await send(feeds.url, 'PATCH', `/v1/feeds/${(own.json as { id: string }).id}`, {
      token: ids.memberB,
      body: { providerAccountId: ids.accountA },
      headers: { 'if-match': 'W/"1"' },
    });
    expect(patched.status).toBe(404);
  });

  it('refuses loopback and link-local (metadata) feed URLs: lastError says only "unreachable"', async () => {
    const made: string[] = [];
    for (const [name, url] of [
      ['loopback', targetUrl],
      ['closed-port', 'http://127.0.0.1:9/feed'],
      ['metadata', 'http://169.254.169.254/latest/meta-data/'],
      ['private', 'http://10.255.255.1/feed'],
    ] as const) {
      const r = await feed(ids.memberB!, { name, url });
      expect(r.status).toBe(201);
      made.push((r.json as { id: string }).id);
    }
    const status = async (id: string) =>
      ((await send(feeds.url, 'GET', `/v1/feeds/${id}`, { token: ids.memberB })).json as any).status;
    await waitFor(async () => (await Promise.all(made.map(status))).every((s) => s.failures >= 1), {
      timeoutMs: 30_000,
      what: 'every feed polled once',
    });
    for (const id of made) expect((await status(id)).lastError).toBe('unreachable');
    expect(hits).toBe(0);
  });
});
