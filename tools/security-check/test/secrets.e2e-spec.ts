import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { NepheleClient } from '@nephele/client';
import { waitFor } from '@nephele/testing';
import { Answer, send, SendOptions } from './http';
import { seed, Seeded } from './seed';
import { ServiceName, startWorld, World } from './world';

interface Seen {
  what: string;
  text: string;
}

/** A local HTTP server that records what it receives and answers with `reply`. */
async function recorder(
  reply: (req: IncomingMessage, body: string) => { status: number; type?: string; body?: string },
): Promise<{
  url: string;
  seen: { headers: IncomingMessage['headers']; body: string; url: string }[];
  server: Server;
}> {
  const seen: { headers: IncomingMessage['headers']; body: string; url: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body, url: req.url ?? '' });
      const r = reply(req, body);
      res.writeHead(r.status, r.type ? { 'content-type': r.type } : {});
      res.end(r.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/**
 * No secret leaks: the test plants known secrets (provider credentials, the bootstrap token, a
 * member token, a customer webhook's HMAC secret, a capability URL, a feed's password, a cluster
 * user's password), exercises the APIs that touch them (also with invalid requests that carry them),
 * and then looks for the plaintext in every process's output (at debug level), every stored event
 * and every API response — except the two creation responses that return a secret by design.
 */
describe('no secret leaks (E2E: every service at LOG_LEVEL=debug)', () => {
  let w: World;
  let s: Seeded;
  let feed: Awaited<ReturnType<typeof recorder>>;
  let hook: Awaited<ReturnType<typeof recorder>>;
  const responses: Seen[] = [];
  const extra = {
    accountPassword2: `acct-pw2-${randomBytes(12).toString('hex')}`,
    webhookSecret2: `hook-secret2-${randomBytes(12).toString('hex')}`,
    feedPassword2: `feed-pw2-${randomBytes(12).toString('hex')}`,
    refusedPassword: `refused-pw-${randomBytes(12).toString('hex')}`,
  };

  const call = async (
    svc: ServiceName,
    method: string,
    path: string,
    o: SendOptions = {},
  ): Promise<Answer> => {
    const a = await send(w.procs[svc].url, method, path, {
      token: s?.admin ?? w.secrets.bootstrapToken,
      ...o,
    });
    responses.push({ what: `${svc} ${method} ${path} → ${a.status}`, text: a.text });
    return a;
  };

  beforeAll(async () => {
    // The feed accepts both passwords the test sets (a refusal would make the poller back off).
    feed = await recorder((req) => {
      const basic = (pw: string | undefined) => `Basic ${Buffer.from(`reader:${pw}`).toString('base64')}`;
      const ok = [basic(s?.planted.feedPassword), basic(extra.feedPassword2)].includes(
        req.headers.authorization ?? '',
      );
      return ok
        ? {
            status: 200,
            type: 'application/atom+xml',
            body: `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:1</id><updated>2025-01-01T00:00:00Z</updated><title>x</title></entry></feed>`,
          }
        : { status: 401 };
    });
    hook = await recorder(() => ({ status: 204 }));
    w = await startWorld(
      'sec_secrets',
      {
        scaler: { SCALER_WEBHOOK_ALLOW_PRIVATE: 'true' },
        // The test's feed server is on loopback: the admin allow-list lets the poller read it.
        'feed-poller': { FEED_POLLER_ALLOW_PRIVATE: '127.0.0.1/32' },
      },
      { logLevel: 'debug' },
    );
    s = await seed(w, {
      feedUrl: `${feed.url}/feed`,
      webhookUrl: `${hook.url}/ready`,
      liveGroup: true,
      record: (what, status, body) =>
        responses.push({ what: `${what} → ${status}`, text: JSON.stringify(body) }),
    });
    const { a } = s;
    const m = s.memberA.token;

    // Read everything back, as admin and as the project's member.
    for (const token of [s.admin, m]) {
      await call('config-api', 'GET', `/v1/provider-accounts/${a['provider-accounts']}`, { token });
      await call('config-api', 'GET', `/v1/provider-accounts`, { token });
      await call('config-api', 'GET', `/v1/tokens`, { token });
      await call('config-api', 'GET', `/v1/tokens/${s.memberA.id}`, { token });
      await call('scaler', 'GET', `/v1/groups/${a.groups}`, { token });
      await call('scaler', 'GET', `/v1/groups/${a.groups}/config`, { token });
      await call('scaler', 'GET', `/v1/groups/${a.groups}/policies/${a.policies}/webhooks`, { token });
      await call('scaler', 'GET', `/v1/groups/${a.groups}/policies/${a.policies}/webhooks/${a.webhooks}`, {
        token,
      });
      await call('feed-poller', 'GET', `/v1/feeds/${a.feeds}`, { token });
      await call('feed-poller', 'GET', `/v1/feeds`, { token });
      await call('cloud-policy-engine', 'GET', `/v1/clusters/${a.clusters}`, { token });
      await call('cloud-policy-engine', 'GET', `/v1/clusters`, { token });
    }

    // Change secrets (new values are planted too), with the ETags the reads gave.
    const etag = async (svc: ServiceName, path: string) =>
      (await new NepheleClient({ url: w.procs[svc].url, token: s.admin }).request('GET', path)).headers.get(
        'etag',
      ) ?? '';
    await call('config-api', 'PATCH', `/v1/provider-accounts/${a['provider-accounts']}`, {
      token: m,
      body: { credentials: { username: 'svc', password: extra.accountPassword2 } },
      headers: { 'if-match': await etag('config-api', `/v1/provider-accounts/${a['provider-accounts']}`) },
    });
    const config = JSON.parse(
      (await call('scaler', 'GET', `/v1/groups/${a.groups}/config`, { token: m })).text,
    );
    await call('scaler', 'PUT', `/v1/groups/${a.groups}/config`, {
      token: m,
      body: { ...config, serverReadyWebhook: { url: `${hook.url}/ready`, secret: extra.webhookSecret2 } },
      headers: { 'if-match': await etag('scaler', `/v1/groups/${a.groups}`) },
    });
    await call('feed-poller', 'PATCH', `/v1/feeds/${a.feeds}`, {
      token: m,
      body: { credentials: { type: 'basic', username: 'reader', password: extra.feedPassword2 } },
      headers: { 'if-match': await etag('feed-poller', `/v1/feeds/${a.feeds}`) },
    });
    await call('feed-poller', 'PATCH', `/v1/feeds/${a.feeds}`, {
      token: m,
      body: { credentials: { type: 'basic', username: 'reader', password: s.planted.feedPassword } },
      headers: { 'if-match': await etag('feed-poller', `/v1/feeds/${a.feeds}`) },
    });

    // Invalid requests that carry secrets: refused without echoing them.
    const bad = extra.refusedPassword;
    await call('config-api', 'POST', '/v1/provider-accounts', {
      token: m,
      body: { providerId: 42, name: ['x'], credentials: { username: 'svc', password: bad } },
    });
    await call('config-api', 'POST', '/v1/provider-accounts', { token: m, body: { credentials: bad } });
    await call('feed-poller', 'POST', '/v1/feeds', {
      token: m,
      body: {
        name: '!',
        url: 'ftp://x',
        credentials: { type: 'basic', username: 'u', password: bad, extra: bad },
      },
    });
    await call('cloud-policy-engine', 'POST', '/v1/clusters', {
      token: m,
      body: { name: 'Bad Name', appliance: 'hello', users: [{ username: 'a b', password: bad }] },
    });
    await call('cloud-policy-engine', 'POST', '/v1/clusters', {
      token: m,
      body: { name: 'blog', appliance: 'hello', users: [{ username: 'owner', password: bad }] },
    });
    await call('scaler', 'POST', '/v1/groups', {
      token: m,
      body: {
        config: {
          name: 'x',
          minEntities: 5,
          maxEntities: 1,
          serverReadyWebhook: { url: 'file:///x', secret: bad },
        },
      },
    });
    await call('config-api', 'POST', '/v1/tokens', { token: m, body: { role: 'admin', name: bad } });

    // Tokens where they do not belong, and near misses of them.
    for (const t of [`${m}x`, `${s.admin}x`, m.slice(0, -1), s.admin.slice(1)])
      for (const svc of ['config-api', 'scaler', 'event-log'] as ServiceName[])
        await call(
          svc,
          'GET',
          svc === 'scaler' ? '/v1/groups' : svc === 'event-log' ? '/v1/events' : '/v1/pools',
          { token: t },
        );
    await call('scaler', 'POST', '/v1/alarms/alertmanager', { token: m, body: { alerts: [] } });
    await call('state-tracker', 'POST', `/v1/callbacks/${a['provider-accounts']}`, {
      token: m,
      body: { providerInstanceId: 'i-1', state: 'running' },
      headers: { 'x-nephele-signature': `sha256=${'0'.repeat(64)}` },
    });
    await call('config-api', 'GET', '/v1/nowhere', { token: m });

    // The capability URL, used anonymously (always 202), and a near miss.
    await call('scaler', 'POST', `/v1/execute/1/${s.planted.capability}`, { token: '' });
    await call('scaler', 'POST', `/v1/execute/1/${s.planted.capability.slice(0, -1)}0`, { token: '' });

    // Let the secrets be used: the feed polled with its password, the server-ready webhook signed
    // with its secret, the gateway launching with the account's credentials.
    const planted = `Basic ${Buffer.from(`reader:${s.planted.feedPassword}`).toString('base64')}`;
    const fetchesBefore = feed.seen.length;
    await waitFor(() => feed.seen.slice(fetchesBefore).some((r) => r.headers.authorization === planted), {
      timeoutMs: 30_000,
      what: 'the feed poller to fetch the feed with its (restored) credentials',
    });
    await waitFor(() => hook.seen.length > 0, { timeoutMs: 30_000, what: 'the server-ready webhook' });
    await call('scaler', 'GET', `/v1/groups/${a.groups}/webhook-deliveries`, { token: m });
    await call('scaler', 'GET', `/v1/groups/${a.groups}/state`, { token: m });
  }, 120_000);

  afterAll(async () => {
    await w?.stop();
    feed?.server.close();
    hook?.server.close();
  }, 60_000);

  const secrets = (): Record<string, string> => ({
    'provider account password': s.planted.accountPassword,
    'provider account password (changed)': extra.accountPassword2,
    'bootstrap token': w.secrets.bootstrapToken,
    'member token (A)': s.memberA.token,
    'viewer token (A)': s.viewerA.token,
    'member token (B)': s.memberB.token,
    'server-ready webhook secret': s.planted.webhookSecret,
    'server-ready webhook secret (changed)': extra.webhookSecret2,
    'capability URL secret': s.planted.capability,
    'feed password': s.planted.feedPassword,
    'feed password (changed)': extra.feedPassword2,
    'cluster user password': s.planted.clusterPassword,
    'password of a refused request': extra.refusedPassword,
    'master key': w.secrets.masterKey,
    'callback secret': w.secrets.callbackSecret,
    'Alertmanager token': w.secrets.alertmanagerToken,
  });
  const leaks = (where: string, text: string, allowed: string[] = []): string[] =>
    Object.entries(secrets())
      .filter(([name, v]) => !allowed.includes(name) && text.includes(v))
      .map(([name]) => `${where}: ${name}`);

  it('used the secrets it planted (the feed with its password, the webhook signed with its secret)', () => {
    const basic = `Basic ${Buffer.from(`reader:${s.planted.feedPassword}`).toString('base64')}`;
    expect(feed.seen.some((r) => r.headers.authorization === basic)).toBe(true);
    expect(hook.seen[0]!.headers['x-nephele-signature']).toBeDefined();
    expect(responses.length).toBeGreaterThan(60);
  });

  it('no process printed any of them (every line of every service, at debug level)', () => {
    const found = w.all.flatMap((p) => leaks(p.app, p.output));
    expect(found).toEqual([]);
    expect(w.all.reduce((n, p) => n + p.output.length, 0)).toBeGreaterThan(10_000);
  });

  it('no stored event carries any of them (every page of GET /v1/events)', async () => {
    const events = await new NepheleClient({ url: w.procs['event-log'].url, token: s.admin }).all<{
      type: string;
    }>('/v1/events');
    expect(events.length).toBeGreaterThan(20);
    const found = events.flatMap((e) => leaks(`event ${e.type}`, JSON.stringify(e)));
    expect(found).toEqual([]);
  });

  it('no API response carries any of them, but the token and webhook creation responses', () => {
    const found = responses.flatMap((r) => {
      const allowed = /POST \/v1\/tokens → 201/.test(r.what)
        ? ['member token (A)', 'viewer token (A)', 'member token (B)']
        : /POST \/v1\/groups\/[^/]+\/policies\/[^/]+\/webhooks → 201/.test(r.what)
          ? ['capability URL secret']
          : [];
      return leaks(r.what, r.text, allowed);
    });
    expect(found).toEqual([]);
    // The one response that shows the capability URL is the creation's.
    expect(responses.filter((r) => r.text.includes(s.planted.capability)).map((r) => r.what)).toHaveLength(1);
  });

  it('the customer webhook deliveries carry a signature, never the secret', () => {
    expect(hook.seen.flatMap((r) => leaks(`delivery ${r.url}`, JSON.stringify(r)))).toEqual([]);
  });
});
