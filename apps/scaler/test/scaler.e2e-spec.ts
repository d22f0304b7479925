import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalBroker, NepheleClient, seedLocalBroker } from '@nephele/client';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  ServiceProcess,
  TestResource,
  waitFor,
} from '@nephele/testing';
import { verifyWebhook } from '../src/notifications/signature.util';
import { call, Haproxy, startHaproxy, startReceiver } from './scaler.test-kit';

const TOKEN = 'scaler-e2e-admin-token-0123456789abcdef';
const SECRET = 'scaler-e2e-webhook-secret-0123';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/**
 * Autoscaling end to end, every service its own process on PostgreSQL and RabbitMQ: the scaler
 * launches through the real iaas-gateway (provider selection from the config-api, `local` driver:
 * each server is a real process tree), learns states from the real state tracker, and puts
 * servers into a real HAProxy.
 */
describe('scaler → gateway → local driver → tracker → HAProxy (E2E)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let dataDir: string;
  let haproxy: Haproxy;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const procs: ServiceProcess[] = [];
  let scaler: ServiceProcess;
  let tracker: ServiceProcess;
  let world: LocalBroker;

  beforeAll(async () => {
    buildApps('config-api', 'iaas-gateway', 'state-tracker', 'scaler');
    [db, vhost, haproxy, receiver] = await Promise.all([
      createTestDatabase('scaler_e2e'),
      createTestVhost('scaler_e2e'),
      startHaproxy(),
      startReceiver(),
    ]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'nephele-scaler-e2e-'));
    const env = {
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      NEPHELE_DATA_DIR: dataDir,
      NEPHELE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
      LOG_LEVEL: 'warn',
    };
    const config = await ServiceProcess.start('config-api', env);
    procs.push(config);
    const started = await Promise.all([
      ServiceProcess.start('iaas-gateway', { ...env, GATEWAY_CONFIG_TTL_MS: '1000' }),
      ServiceProcess.start('state-tracker', { ...env, TRACKER_POLL_MS: '1000', TRACKER_FAST_POLL_MS: '200' }),
      ServiceProcess.start('scaler', {
        ...env,
        SCALER_WEBHOOK_ALLOW_PRIVATE: 'true',
        SCALER_CONVERGE_POLL_MS: '200',
        SCALER_LOAD_BALANCERS: JSON.stringify([
          { id: 'front', kind: 'haproxy', socketPath: haproxy.socketPath, backend: 'web' },
        ]),
      }),
    ]);
    procs.push(...started);
    [, tracker, scaler] = started;
    world = await seedLocalBroker(new NepheleClient({ url: config.url, token: TOKEN }), {
      project: 'scaler-e2e',
      images: { sleeper: { command: ['sleep', '1000'] } },
      imageNames: { 'debian-12': 'sleeper' },
    });
  });

  afterAll(async () => {
    for (const p of procs.reverse()) await p.kill('SIGTERM');
    for (const pid of localPids()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await Promise.all([haproxy?.stop(), receiver?.close()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  function localRecords(): { id: string; process?: { pid: number } }[] {
    const root = path.join(dataDir, 'local-driver', world.providerId, 'instances');
    try {
      return readdirSync(root).map((id) =>
        JSON.parse(readFileSync(path.join(root, id, 'instance.json'), 'utf8')),
      );
    } catch {
      return [];
    }
  }
  function localPids(): number[] {
    return localRecords().flatMap((r) => (r.process ? [r.process.pid] : []));
  }

  const state = async (gid: string) =>
    (await call('GET', `${scaler.url}/v1/groups/${gid}/state`, undefined, headers)).body;
  const active = async (gid: string, n: number) => {
    let last: unknown;
    try {
      return await waitFor(
        async () => {
          const s = await state(gid);
          last = s;
          return s.activeCapacity === n && s.servers.length === n ? s : undefined;
        },
        { what: `${n} active servers`, timeoutMs: 30_000 },
      );
    } catch (e) {
      throw new Error(
        `${(e as Error).message}; last state: ${JSON.stringify(last)}\n${scaler.output.slice(-3000)}`,
      );
    }
  };
  const members = async () => (await haproxy.driver.listMembers('web')).filter((m) => m.state === 'ready');
  const running = async (gid: string) =>
    (
      (await call('GET', `${tracker.url}/v1/instances?owner=group:${gid}`, undefined, headers)).body
        .items as {
        id: string;
        state: string;
        providerInstanceId: string;
      }[]
    ).filter((i) => i.state === 'running');

  it('runs a group on real instances: min 2, +2 by webhook, a dead server replaced, scaled down, force-deleted', async () => {
    const created = await call(
      'POST',
      `${scaler.url}/v1/groups`,
      {
        project: world.projectId,
        config: {
          name: 'e2e-web',
          minEntities: 2,
          maxEntities: 5,
          serverReadyWebhook: { url: `${receiver.url}/ready`, secret: SECRET },
        },
        launchConfig: {
          image: 'debian-12',
          hardwareProfile: 'small',
          pool: world.poolId,
          loadBalancers: [{ id: 'front', port: 8080 }],
        },
        policies: [
          { name: 'up2', type: 'webhook', change: 2 },
          { name: 'down', type: 'webhook', desiredCapacity: 1 },
        ],
      },
      headers,
    );
    expect(created.status).toBe(201);
    const gid = created.body.id as string;
    const pid = Object.fromEntries(
      created.body.policies.map((p: { name: string; id: string }) => [p.name, p.id]),
    );
    const { up2, down } = pid as Record<string, string>;

    // min 2: two real instances, running in the tracker, members of HAProxy, webhook called.
    await active(gid, 2);
    await waitFor(async () => (await running(gid)).length === 2, {
      what: '2 running instances in the tracker',
    });
    await waitFor(async () => (await members()).length === 2, { what: '2 HAProxy members' });
    await waitFor(() => receiver.received.length >= 2, { what: 'two ready webhooks' });
    for (const r of receiver.received) {
      expect(
        verifyWebhook(
          SECRET,
          {
            signature: String(r.headers['x-nephele-signature']),
            timestamp: String(r.headers['x-nephele-timestamp']),
          },
          r.body,
          Math.floor(Date.now() / 1000),
        ),
      ).toBe(true);
    }

    // +2 through a capability URL.
    const hook = await call(
      'POST',
      `${scaler.url}/v1/groups/${gid}/policies/${up2}/webhooks`,
      { name: 'e2e' },
      headers,
    );
    expect(hook.status).toBe(201);
    const hit = await fetch(`${scaler.url}${hook.body.capabilityUrl}`, { method: 'POST' });
    expect(hit.status).toBe(202);
    await active(gid, 4);
    await waitFor(async () => (await members()).length === 4, { what: '4 HAProxy members' });

    // A server whose process dies (the tracker sees it stopped) is replaced.
    const victim = (await running(gid))[0]!;
    const rec = localRecords().find((r) => r.id === victim.providerInstanceId)!;
    process.kill(rec.process!.pid, 'SIGKILL');
    await waitFor(
      async () => {
        const s = await state(gid);
        return (
          s.activeCapacity === 4 &&
          s.servers.length === 4 &&
          !s.servers.some((x: { instanceId: string }) => x.instanceId === victim.id)
        );
      },
      { what: 'the dead server replaced', timeoutMs: 30_000 },
    );

    // Scale down (desiredCapacity 1, clamped to minEntities 2): the two oldest servers go, their
    // instances destroyed at the provider and their members gone from HAProxy.
    const before = (await state(gid)).servers as { id: string; createdAt: string }[];
    const r = await call(
      'POST',
      `${scaler.url}/v1/groups/${gid}/policies/${down}/execute`,
      undefined,
      headers,
    );
    expect(r.status).toBe(202);
    expect(r.body.desiredAfter).toBe(2);
    const after = await active(gid, 2);
    const newest = [...before].sort(
      (x, y) => y.createdAt.localeCompare(x.createdAt) || (y.id < x.id ? -1 : 1),
    );
    expect(after.servers.map((x: { id: string }) => x.id).sort()).toEqual(
      newest
        .slice(0, 2)
        .map((x) => x.id)
        .sort(),
    );
    await waitFor(async () => (await members()).length === 2, { what: '2 HAProxy members' });
    await waitFor(async () => (await running(gid)).length === 2, { what: '2 running instances' });

    // Force delete: the last server goes, then the group.
    expect(
      (await call('DELETE', `${scaler.url}/v1/groups/${gid}?force=true`, undefined, headers)).status,
    ).toBe(202);
    await waitFor(
      async () => (await call('GET', `${scaler.url}/v1/groups/${gid}`, undefined, headers)).status === 404,
      { what: 'the group deleted', timeoutMs: 30_000 },
    );
    expect(await members()).toHaveLength(0);
    await waitFor(async () => (await running(gid)).length === 0, { what: 'no running instance left' });
  });
});
