import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { call, FakeGateway, startScaler } from '../test/scaler.test-kit';

interface ServerView {
  id: string;
  instanceId: string;
  state: string;
  protected: boolean;
  detached?: boolean;
  createdAt: string;
}

/**
 * Instance protection, termination policies (including a customer webhook that picks) and
 * detached servers, through the scaler's REST API on real PostgreSQL and RabbitMQ.
 */
describe('scaler: protection and victim choice (real PostgreSQL + RabbitMQ)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let gateway: FakeGateway;
  let scaler: Awaited<ReturnType<typeof startScaler>>;
  let url: string;
  let picker: Server;
  let pickerUrl: string;
  let answer: (body: { candidates: { id: string }[] }) => unknown = () => ({ serverIds: [] });
  let hang = false;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([
      createTestDatabase('scaler_victims'),
      createTestVhost('scaler_victims'),
    ]);
    gateway = new FakeGateway();
    await gateway.start(vhost.url, 'victimstest');
    picker = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (hang) return; // never answers: the scaler's timeout decides
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer(JSON.parse(body))));
      });
    });
    await new Promise<void>((r) => picker.listen(0, '127.0.0.1', r));
    pickerUrl = `http://127.0.0.1:${(picker.address() as AddressInfo).port}/pick`;
    scaler = await startScaler({ DATABASE_URL: db.url, AMQP_URL: vhost.url });
    url = scaler.url;
  });

  afterAll(async () => {
    await scaler?.close();
    await gateway?.close();
    picker?.closeAllConnections();
    await new Promise((r) => picker?.close(r));
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const launchConfig = { image: 'img', hardwareProfile: 'small', pool: 'pool-a' };
  const servers = async (gid: string): Promise<ServerView[]> =>
    (await call('GET', `${url}/v1/groups/${gid}/state`)).body.servers;
  const activeN = (gid: string, n: number) =>
    waitFor(
      async () => {
        const s = await servers(gid);
        return s.length === n && s.every((x) => x.state === 'active') ? s : undefined;
      },
      { what: `${n} active servers`, timeoutMs: 20_000 },
    );
  /** A group at 3 active servers with policies to 3 and to 1; servers sorted oldest first. */
  const groupOf3 = async (extra: Record<string, unknown> = {}) => {
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name: 'v', minEntities: 0, maxEntities: 5, cooldown: 0, ...extra },
      launchConfig,
      policies: [
        { name: 'three', type: 'webhook', desiredCapacity: 3 },
        { name: 'one', type: 'webhook', desiredCapacity: 1 },
      ],
    });
    expect(r.status).toBe(201);
    const gid = r.body.id as string;
    const pid = Object.fromEntries(r.body.policies.map((p: { name: string; id: string }) => [p.name, p.id]));
    // One at a time, so that their creation times differ.
    for (const n of [1, 2, 3]) {
      await call('PUT', `${url}/v1/groups/${gid}/policies/${pid.three}`, {
        name: 'three',
        type: 'webhook',
        desiredCapacity: n,
      });
      await call('POST', `${url}/v1/groups/${gid}/policies/${pid.three}/execute`);
      await activeN(gid, n);
    }
    const s = (await servers(gid)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return { gid, pid, s };
  };
  const scaleToOne = async (gid: string, pid: Record<string, string>) => {
    expect((await call('POST', `${url}/v1/groups/${gid}/policies/${pid.one}/execute`)).status).toBe(202);
    return (await activeN(gid, 1))[0]!.id;
  };

  it('a protected server survives a scale-in (the default removes the oldest)', async () => {
    const { gid, pid, s } = await groupOf3();
    const newest = s[2]!;
    const r = await call('PUT', `${url}/v1/groups/${gid}/servers/${newest.id}/protection`, {
      protected: true,
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: newest.id, groupId: gid, protected: true });
    // Default `oldest` would keep the newest anyway; protect the oldest too to see it chosen over age.
    await call('PUT', `${url}/v1/groups/${gid}/servers/${s[0]!.id}/protection`, { protected: true });
    await call('PUT', `${url}/v1/groups/${gid}/servers/${newest.id}/protection`, { protected: false });
    expect(await scaleToOne(gid, pid)).toBe(s[0]!.id);
    expect((await servers(gid))[0]!.protected).toBe(true);
  });

  it('terminationPolicy newest removes the newest servers', async () => {
    const { gid, pid, s } = await groupOf3({ terminationPolicy: 'newest' });
    expect(await scaleToOne(gid, pid)).toBe(s[0]!.id);
  });

  it('terminationPolicy custom removes the servers the webhook names, and the oldest when it times out', async () => {
    const { gid, pid, s } = await groupOf3({
      terminationPolicy: 'custom',
      terminationWebhook: { url: pickerUrl, timeout: 1 },
    });
    // Keep the oldest: remove the middle one, then the newest.
    answer = () => ({ serverIds: [s[1]!.id, s[2]!.id] });
    expect(await scaleToOne(gid, pid)).toBe(s[0]!.id);

    const b = await groupOf3({
      terminationPolicy: 'custom',
      terminationWebhook: { url: pickerUrl, timeout: 0.5 },
    });
    hang = true;
    try {
      expect(await scaleToOne(b.gid, b.pid)).toBe(b.s[2]!.id);
    } finally {
      hang = false;
    }
  });

  it('keeps a failed server detached: replaced, out of the count, deleted on request', async () => {
    const { gid, s } = await groupOf3();
    const failed = s[1]!;
    const refused = await call('POST', `${url}/v1/groups/${gid}/servers/${failed.id}/detach`);
    expect(refused.status).toBe(409); // still active
    // Paused, the group does not replace the failed server before it is detached.
    expect((await call('POST', `${url}/v1/groups/${gid}/pause`)).status).toBe(204);
    await gateway.setState(failed.instanceId, 'error');
    await waitFor(async () => (await servers(gid)).find((x) => x.id === failed.id)?.state === 'error', {
      what: 'the server in ERROR',
    });
    const r = await call('POST', `${url}/v1/groups/${gid}/servers/${failed.id}/detach`);
    expect((await call('POST', `${url}/v1/groups/${gid}/resume`)).status).toBe(204);
    expect(r.status).toBe(202);
    const state = await waitFor(
      async () => {
        const all = await servers(gid);
        const live = all.filter((x) => !x.detached && x.state === 'active');
        return live.length === 3 ? all : undefined;
      },
      { what: 'three active servers besides the detached one', timeoutMs: 20_000 },
    );
    expect(state.find((x) => x.id === failed.id)).toMatchObject({ detached: true, state: 'error' });
    expect(gateway.destroys.map((d) => d.instanceId)).not.toContain(failed.instanceId);
    expect((await call('DELETE', `${url}/v1/groups/${gid}/servers/${failed.id}`)).status).toBe(202);
    await waitFor(async () => !(await servers(gid)).some((x) => x.id === failed.id), {
      what: 'the detached server deleted',
      timeoutMs: 20_000,
    });
    expect((await servers(gid)).length).toBe(3);
  });

  it('answers 400 naming the field for bad protection bodies and termination settings', async () => {
    const { gid, s } = await groupOf3();
    const bad = await call('PUT', `${url}/v1/groups/${gid}/servers/${s[0]!.id}/protection`, {
      protected: 'yes',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['protected']);
    const missing = await call(
      'PUT',
      `${url}/v1/groups/${gid}/servers/00000000-0000-4000-8000-000000000000/protection`,
      {
        protected: true,
      },
    );
    expect(missing.status).toBe(404);
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name: 'x', minEntities: 0, maxEntities: 1, terminationPolicy: 'random' },
      launchConfig,
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toEqual(['config.terminationPolicy']);
    const c = await call('POST', `${url}/v1/groups`, {
      config: { name: 'x', minEntities: 0, maxEntities: 1, terminationPolicy: 'custom' },
      launchConfig,
    });
    expect(c.body.errors.map((e: { field: string }) => e.field)).toEqual(['config.terminationWebhook']);
  });
});
