import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { createHmac, randomUUID } from 'node:crypto';
import { Bus, Outcome, RabbitMqBus } from '@nephele/bus';
import {
  CloudEvent,
  createEvent,
  ListAccountInstances,
  ProviderInstanceView,
  Topology,
} from '@nephele/contracts';
import { createHttpApp } from '@nephele/service-kit';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { StateTrackerAppModule } from '../app.module';
import { loadStateTrackerConfig } from '../config/env';
import { InstancesRepository } from './instances.repository';
import { PollerService } from './poller.service';

const TOKEN = 'tracker-int-admin-token-0123456789';
const SECRET = 'callback-secret-for-tests-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

/**
 * The tracker against real PostgreSQL and RabbitMQ. The provider side is a peer on the bus that
 * answers the gateway's list request from a table this test controls (the real gateway is tested
 * with real drivers in its own suite).
 */
describe('state tracker (real PostgreSQL + RabbitMQ)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let app: INestApplication;
  let url: string;
  let peer: Bus;
  const provider = new Map<string, ProviderInstanceView>();
  const seen: CloudEvent[] = [];
  const account = `acct-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('tracker'), createTestVhost('tracker')]);
    peer = new RabbitMqBus({ url: vhost.url, service: 'trackertest' });
    await peer.start();
    await peer.respond('trackertest.list', [ListAccountInstances.type], async () => ({
      instances: [...provider.values()],
      at: new Date().toISOString(),
    }));
    await peer.subscribe({
      queue: 'trackertest.events',
      exchange: Topology.events,
      bindings: ['nephele.instance.*'],
      handler: async (e) => {
        seen.push(e);
        return Outcome.ack();
      },
    });
    app = await createHttpApp(
      StateTrackerAppModule.forRoot(
        loadStateTrackerConfig({
          DATABASE_URL: db.url,
          AMQP_URL: vhost.url,
          NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
          NEPHELE_CALLBACK_SECRET: SECRET,
          LOG_LEVEL: 'warn',
          TRACKER_POLL_MS: '300',
          TRACKER_FAST_POLL_MS: '100',
          TRACKER_VANISH_GRACE_MS: '0',
        }),
      ),
      { title: 'test' },
    );
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await peer?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const getInstance = async (id: string) => {
    const r = await fetch(`${url}/v1/instances/${id}`, { headers: auth });
    return r.status === 200 ? ((await r.json()) as any) : undefined;
  };

  const launch = async (providerId: string, state: 'pending' | 'running' = 'pending') => {
    const instanceId = randomUUID();
    await peer.publish(
      createEvent('gw', 'nephele.instance.launch_succeeded', {
        instanceId,
        owner: 'test:owner',
        idempotencyKey: `key-${instanceId}`,
        providerAccountId: account,
        providerInstanceId: providerId,
        pool: 'pool-a',
        project: 'proj-a',
        state,
      }),
    );
    return instanceId;
  };

  it('adds a launched instance and follows the provider through polling', async () => {
    provider.set('p-1', { id: 'p-1', state: 'pending', addresses: [] });
    const id = await launch('p-1');
    await waitFor(() => getInstance(id), { what: 'the instance in the store' });
    provider.set('p-1', { id: 'p-1', state: 'running', addresses: ['10.0.0.5'] });
    const running = await waitFor(async () => {
      const i = await getInstance(id);
      return i?.state === 'running' ? i : undefined;
    });
    expect(running.addresses).toEqual(['10.0.0.5']);
    expect(running.history.map((h: { to_state: string }) => h.to_state)).toEqual(['pending', 'running']);
    await waitFor(() =>
      seen.some(
        (e) =>
          e.type === 'nephele.instance.state_changed' && (e.data as any).to === 'running' && e.subject === id,
      ),
    );
  });

  it('ignores a duplicate launch event (at-least-once delivery)', async () => {
    provider.set('p-dup', { id: 'p-dup', state: 'running', addresses: [] });
    const ev = createEvent('gw', 'nephele.instance.launch_succeeded', {
      instanceId: randomUUID(),
      owner: 'test:dup',
      idempotencyKey: 'dup-key',
      providerAccountId: account,
      providerInstanceId: 'p-dup',
      state: 'running' as const,
    });
    await peer.publishAll([ev, ev]);
    await waitFor(async () => {
      const r = (await (await fetch(`${url}/v1/instances?owner=test:dup`, { headers: auth })).json()) as any;
      return r.items.length === 1;
    });
    await new Promise((r) => setTimeout(r, 300));
    const r = (await (await fetch(`${url}/v1/instances?owner=test:dup`, { headers: auth })).json()) as any;
    expect(r.items).toHaveLength(1);
  });

  it('declares an instance gone at the provider vanished, and a terminated one stays terminated', async () => {
    provider.set('p-2', { id: 'p-2', state: 'running', addresses: [] });
    const id = await launch('p-2', 'running');
    await waitFor(() => getInstance(id));
    provider.delete('p-2');
    await waitFor(async () => (await getInstance(id))?.state === 'terminated', { what: 'terminated' });
    await waitFor(() => seen.some((e) => e.type === 'nephele.instance.vanished' && e.subject === id), {
      what: 'vanished event',
    });
    // a lagging source says running: refused
    const body = JSON.stringify({ providerInstanceId: 'p-2', state: 'running' });
    const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const r = await fetch(`${url}/v1/callbacks/${account}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-nephele-signature': sig },
      body,
    });
    expect(r.status).toBe(202);
    expect((await getInstance(id)).state).toBe('terminated');
  });

  it('reports an instance at the provider that the store does not know, once', async () => {
    provider.set('stray-1', { id: 'stray-1', state: 'running', addresses: [] });
    await waitFor(
      () => seen.some((e) => e.type === 'nephele.instance.orphan_detected' && e.subject === 'stray-1'),
      {
        what: 'orphan_detected',
      },
    );
    await new Promise((r) => setTimeout(r, 700));
    expect(
      seen.filter((e) => e.type === 'nephele.instance.orphan_detected' && e.subject === 'stray-1'),
    ).toHaveLength(1);
    provider.delete('stray-1');
  });

  it('authenticates provider callbacks and applies them', async () => {
    provider.set('p-3', { id: 'p-3', state: 'running', addresses: [] });
    const id = await launch('p-3', 'running');
    await waitFor(() => getInstance(id));
    const body = JSON.stringify({
      providerInstanceId: 'p-3',
      state: 'SHUTOFF',
      reason: 'operator stopped it',
    });
    const bad = await fetch(`${url}/v1/callbacks/${account}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-nephele-signature': 'sha256=00' },
      body,
    });
    expect(bad.status).toBe(401);
    provider.set('p-3', { id: 'p-3', state: 'stopped', addresses: [] });
    const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const ok = await fetch(`${url}/v1/callbacks/${account}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-nephele-signature': sig },
      body,
    });
    expect(ok.status).toBe(202);
    expect((await getInstance(id)).state).toBe('stopped');
  });

  it('makes one list call per account per cycle', async () => {
    const r = await app.get(PollerService).cycle();
    expect(r.accounts).toBe(1);
    expect(r.providerCalls).toBe(1);
  });

  it("moves an unchanged instance's last-seen time with each poll without rewriting its row", async () => {
    provider.set('p-seen', { id: 'p-seen', state: 'running', addresses: ['10.0.0.9'] });
    const id = await launch('p-seen', 'running');
    await waitFor(() => getInstance(id));
    const poller = app.get(PollerService);
    await poller.cycle();
    const before = await getInstance(id);
    await new Promise((r) => setTimeout(r, 20));
    await poller.cycle();
    const after = await getInstance(id);
    expect(Date.parse(after.lastSeen)).toBeGreaterThan(Date.parse(before.lastSeen));
    expect(after.version).toBe(before.version);
    expect(after.history).toEqual(before.history);
    provider.delete('p-seen');
    await waitFor(async () => (await getInstance(id))?.state === 'terminated', { what: 'terminated' });
    const gone = await getInstance(id);
    await poller.cycle();
    expect((await getInstance(id)).lastSeen).toBe(gone.lastSeen);
  });

  it('fails the poll of an account whose list reply has no list, instead of finding every instance gone', async () => {
    const sut = app.get(InstancesRepository);
    const at = new Date().toISOString();
    await expect(sut.pollCandidates(account, Buffer.from(JSON.stringify({ at })))).rejects.toThrow(
      /instances/,
    );
    await expect(sut.pollCandidates(account, Buffer.from('{"instances":[]}'))).rejects.toThrow(/at/);
    await expect(
      sut.pollCandidates(account, Buffer.from(JSON.stringify({ at, instances: [] }))),
    ).resolves.toEqual(expect.objectContaining({ unknownProviderIds: [] }));
  });

  it('answers 400/404 for bad queries and ids, 401 without a token', async () => {
    expect((await fetch(`${url}/v1/instances?state=flying`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${url}/v1/instances/not-a-uuid`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/v1/instances/${randomUUID()}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/v1/instances`)).status).toBe(401);
  });

  it('matches the provider after it changes states and addresses of 2,000 instances and drops some', async () => {
    const n = 2000;
    const pid = (i: number) => `bulk-${i}`;
    for (let i = 0; i < n; i++)
      provider.set(pid(i), { id: pid(i), state: 'running', addresses: [`10.1.${i >> 8}.${i & 255}`] });
    const launches = Array.from({ length: n }, (_, i) =>
      createEvent('gw', 'nephele.instance.launch_succeeded', {
        instanceId: randomUUID(),
        owner: 'test:bulk',
        idempotencyKey: `bulk-key-${i}`,
        providerAccountId: account,
        providerInstanceId: pid(i),
        state: 'running' as const,
      }),
    );
    await peer.publishAll(launches);
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const store = async () =>
        new Map(
          (
            await pg.query(
              `SELECT provider_instance_id AS p, state, addresses FROM state_tracker.instances
               WHERE provider_account_id = $1 AND provider_instance_id LIKE 'bulk-%'`,
              [account],
            )
          ).rows.map((r: { p: string; state: string; addresses: string[] }) => [r.p, r]),
        );
      await waitFor(async () => (await store()).size === n, {
        timeoutMs: 60_000,
        what: '2,000 instances in the store',
      });
      // The provider changes: a quarter stopped, a quarter with new addresses, a tenth gone.
      const gone = new Set<string>();
      for (let i = 0; i < n; i++) {
        if (i % 10 === 3) {
          provider.delete(pid(i));
          gone.add(pid(i));
        } else if (i % 4 === 1) provider.set(pid(i), { id: pid(i), state: 'stopped', addresses: [] });
        else if (i % 4 === 2)
          provider.set(pid(i), {
            id: pid(i),
            state: 'running',
            addresses: [`10.2.${i >> 8}.${i & 255}`, '2001:db8::1'],
          });
      }
      const mismatches = async () => {
        const rows = await store();
        const bad: string[] = [];
        for (let i = 0; i < n; i++) {
          const row = rows.get(pid(i))!;
          const want: { state: string; addresses?: string[] } = gone.has(pid(i))
            ? { state: 'terminated' }
            : provider.get(pid(i))!;
          if (row.state !== want.state) bad.push(`${pid(i)}: ${row.state} != ${want.state}`);
          else if (
            !gone.has(pid(i)) &&
            JSON.stringify(row.addresses) !== JSON.stringify(want.addresses ?? [])
          )
            bad.push(`${pid(i)}: addresses ${JSON.stringify(row.addresses)}`);
        }
        return bad;
      };
      await waitFor(async () => (await mismatches()).length === 0, {
        timeoutMs: 30_000,
        what: 'the store matching the provider',
      });
      await app.get(PollerService).cycle();
      expect(await mismatches()).toEqual([]);
      const vanishedOf = () =>
        new Set(
          seen
            .filter(
              (e) => e.type === 'nephele.instance.vanished' && gone.has((e.data as any).providerInstanceId),
            )
            .map((e) => (e.data as any).providerInstanceId),
        );
      await waitFor(() => vanishedOf().size === gone.size, {
        what: 'a vanished event for each dropped instance',
      });
    } finally {
      await pg.end();
      for (let i = 0; i < n; i++) provider.delete(pid(i));
    }
  });
});
