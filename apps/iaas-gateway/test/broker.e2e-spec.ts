import * as amqp from 'amqplib';
import { Client } from 'pg';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { LocalBroker, NepheleClient, seedLocalBroker } from '@nephele/client';
import { createEvent, Topology } from '@nephele/contracts';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  ServiceProcess,
  TestResource,
  waitFor,
} from '@nephele/testing';

const TOKEN = 'broker-e2e-admin-token-0123456789abcdef';

/**
 * The broker end to end, every service its own process on real PostgreSQL and RabbitMQ:
 * config-api (configuration), iaas-gateway (CIMI, selection, local driver), state-tracker.
 */
describe('broker: CIMI → gateway → local driver → state tracker (E2E)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let dataDir: string;
  const procs: ServiceProcess[] = [];
  let config: ServiceProcess;
  let gateway: ServiceProcess;
  let tracker: ServiceProcess;
  let world: LocalBroker;
  let cimi: string;

  beforeAll(async () => {
    buildApps('config-api', 'iaas-gateway', 'state-tracker');
    [db, vhost] = await Promise.all([createTestDatabase('broker_e2e'), createTestVhost('broker_e2e')]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'nephele-broker-'));
    const env = {
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      NEPHELE_DATA_DIR: dataDir,
      NEPHELE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: 'warn',
    };
    config = await ServiceProcess.start('config-api', env);
    gateway = await ServiceProcess.start('iaas-gateway', { ...env, GATEWAY_CONFIG_TTL_MS: '1000' });
    tracker = await ServiceProcess.start('state-tracker', {
      ...env,
      TRACKER_POLL_MS: '1000',
      TRACKER_FAST_POLL_MS: '200',
    });
    procs.push(config, gateway, tracker);
    const c = new NepheleClient({ url: config.url, token: TOKEN });
    world = await seedLocalBroker(c, {
      project: 'broker-e2e',
      images: { sleeper: { command: ['sleep', '1000'] } },
      imageNames: { 'debian-12': 'sleeper' },
    });
    cimi = `${gateway.url}/cimi/${world.poolId}`;
  });

  afterAll(async () => {
    for (const p of procs) await p.kill('SIGTERM');
    // Leave no local instance behind.
    for (const pid of localPids()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const api = (base: string) => new NepheleClient({ url: base, token: TOKEN });
  const instance = (id: string) =>
    api(tracker.url)
      .get<any>(`/v1/instances/${id}`)
      .catch(() => undefined);

  function localRecords(): { id: string; process?: { pid: number } }[] {
    const root = path.join(dataDir, 'local-driver', world.providerId, 'instances');
    let ids: string[] = [];
    try {
      ids = readdirSync(root);
    } catch {
      return [];
    }
    return ids.map((id) => JSON.parse(readFileSync(path.join(root, id, 'instance.json'), 'utf8')));
  }
  function localPids(): number[] {
    return localRecords().flatMap((r) => (r.process ? [r.process.pid] : []));
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('serves each pool as a CIMI cloud', async () => {
    const ep = await api(gateway.url).get<any>(`/cimi/${world.poolId}`);
    expect(ep.resourceURI).toMatch(/CloudEntryPoint$/);
    expect(ep.machines.href).toBe(`${cimi}/machines`);
    const configs = await api(gateway.url).get<any>(`/cimi/${world.poolId}/machineConfigs`);
    expect(configs.machineConfigurations.map((m: { name: string }) => m.name)).toEqual(['small']);
    const images = await api(gateway.url).get<any>(`/cimi/${world.poolId}/machineImages`);
    expect(images.machineImages.map((m: { name: string }) => m.name)).toEqual(['debian-12']);
    const small = world.hardwareProfiles.small;
    const one = await api(gateway.url).get<any>(`/cimi/${world.poolId}/machineConfigs/${small}`);
    expect(one).toMatchObject({ id: `${cimi}/machineConfigs/${small}`, name: 'small' });
    const missing = await fetch(`${gateway.url}/cimi/${world.poolId}/machineImages/no-such-image`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { detail: string }).detail).toMatch(/machine image no-such-image/);
  });

  it('creates a machine through CIMI: running within 2 s; killed → stopped in one poll; deleted → gone', async () => {
    const created = await api(gateway.url).request<any>('POST', `/cimi/${world.poolId}/machines`, {
      resourceURI: 'http://schemas.dmtf.org/cimi/2/MachineCreate',
      name: 'web-1',
      machineTemplate: {
        machineConfig: { href: `${cimi}/machineConfigs/${world.hardwareProfiles.small}` },
        machineImage: { href: `${cimi}/machineImages/${world.images['debian-12']}` },
      },
    });
    expect(created.status).toBe(201);
    const id = String(created.headers.get('location')).split('/').pop()!;
    const t0 = Date.now();
    const running = await waitFor(
      async () => ((await instance(id))?.state === 'running' ? instance(id) : undefined),
      {
        timeoutMs: 2000,
        intervalMs: 50,
        what: 'the instance running in /v1/instances',
      },
    );
    expect(Date.now() - t0).toBeLessThanOrEqual(2000);
    expect(running.providerAccountId).toBe(world.accountId);
    const machine = await api(gateway.url).get<any>(`/cimi/${world.poolId}/machines/${id}`);
    expect(machine.state).toBe('STARTED');

    const rec = localRecords().find((r) => r.id === running.providerInstanceId)!;
    expect(alive(rec.process!.pid)).toBe(true);
    process.kill(rec.process!.pid, 'SIGKILL');
    await waitFor(async () => (await instance(id))?.state === 'stopped', {
      timeoutMs: 2500,
      what: 'stopped within one poll cycle (1 s)',
    });

    const del = await api(gateway.url).request('DELETE', `/cimi/${world.poolId}/machines/${id}`);
    expect(del.status).toBe(202);
    await waitFor(async () => (await instance(id))?.state === 'terminated', {
      what: 'terminated in the store',
    });
    expect(localRecords().some((r) => r.id === running.providerInstanceId)).toBe(false);

    // Who created and deleted it is on record (the gateway's outbox, relayed to the bus).
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const { rows } = await pg.query(
        `SELECT event FROM iaas_gateway.outbox WHERE event->>'type' LIKE 'nephele.audit.machines.%'
           AND event->>'subject' = $1 ORDER BY seq`,
        [id],
      );
      expect(rows.map((r) => [r.event.type, r.event.project, r.event.data.actor])).toEqual([
        ['nephele.audit.machines.create', world.projectId, 'bootstrap'],
        ['nephele.audit.machines.delete', world.projectId, 'bootstrap'],
      ]);
    } finally {
      await pg.end();
    }
  });

  it('makes one instance for a create command repeated with the same idempotency key', async () => {
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    const key = `e2e-dup-${randomUUID()}`;
    const cmd = (i: number) =>
      createEvent('e2e', 'nephele.iaas.instance.create', {
        owner: 'test:dup',
        idempotencyKey: key,
        pool: world.poolId,
        project: world.projectId,
        image: 'debian-12',
        hardwareProfile: 'small',
        name: `dup-${i}`,
      });
    for (let i = 0; i < 3; i++)
      ch.publish(Topology.commands, 'nephele.iaas.instance.create', Buffer.from(JSON.stringify(cmd(i))), {
        persistent: true,
      });
    await ch.waitForConfirms();
    await conn.close();
    const listed = await waitFor(async () => {
      const r = await api(tracker.url).get<any>(`/v1/instances?owner=test:dup`);
      return r.items.length === 1 && r.items[0].state === 'running' ? r.items : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api(tracker.url).get<any>(`/v1/instances?owner=test:dup`)).items).toHaveLength(1);
    expect(
      localRecords().filter((r) => (r as any).idempotencyKey === key || (r as any).key === key).length,
    ).toBeLessThanOrEqual(1);
    expect(localRecords().filter((r) => r.id === listed[0].providerInstanceId)).toHaveLength(1);
  });

  it('falls over to the next provider when the first choice fails', async () => {
    const c = api(config.url);
    // A higher-priority OpenStack account whose Keystone does not answer: every create fails there.
    const broken = await c.post<any>('/v1/providers', {
      name: 'openstack-down',
      kind: 'openstack',
      endpoint: 'http://127.0.0.1:9/v3',
      options: { requestTimeoutMs: 1000 },
    });
    await c.post(`/v1/providers/${broken.id}/profiles`, {
      name: 'm1.small',
      cpu: 1,
      memoryMb: 1024,
      storageGb: 10,
      arch: 'x86_64',
      costPerHour: 0,
    });
    const acct = await c.post<any>('/v1/provider-accounts', {
      project: world.projectId,
      providerId: broken.id,
      name: 'openstack-down',
      priority: -1,
      credentials: {
        username: 'u',
        password: 'p',
        projectName: 'demo',
        userDomainName: 'Default',
        projectDomainName: 'Default',
      },
    });
    await c.post('/v1/image-mappings', {
      project: world.projectId,
      imageId: world.images['debian-12'],
      accountId: acct.id,
      providerImageId: 'img-1',
    });
    const fam = await c.get<any>(`/v1/pool-families/${world.familyId}`);
    await c.patch(
      `/v1/pool-families/${world.familyId}`,
      { accountIds: [acct.id, world.accountId] },
      { 'if-match': `W/"${fam.version}"` },
    );
    await new Promise((r) => setTimeout(r, 1200)); // the gateway's config cache (TTL 1 s)
    const created = await api(gateway.url).request<any>('POST', `/cimi/${world.poolId}/machines`, {
      machineTemplate: {
        machineConfig: { href: `${cimi}/machineConfigs/${world.hardwareProfiles.small}` },
        machineImage: { href: `${cimi}/machineImages/${world.images['debian-12']}` },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.properties.providerAccountId).toBe(world.accountId);
    const id = String(created.headers.get('location')).split('/').pop()!;
    await waitFor(async () => (await instance(id))?.state === 'running', {
      what: 'the fallback instance running',
    });
    // The first choice was tried and failed: recorded against it (it is penalised next time).
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const { rows } = await pg.query(`SELECT account_id, reason FROM iaas_gateway.account_failures`);
    await pg.end();
    expect(
      rows.some(
        (r: { account_id: string; reason: string }) =>
          r.account_id === acct.id && /transient|ECONNREFUSED|fetch/i.test(r.reason),
      ),
    ).toBe(true);
  });

  it('destroys a launch that finished after its owner moved to a newer epoch', async () => {
    // A slow provider (every API call takes 1.5 s) in a pool of its own.
    const c = api(config.url);
    const project = world.projectId;
    const sim = await c.post<any>('/v1/providers', {
      name: 'simulated-slow',
      kind: 'simulated',
      options: { apiLatency: { medianMs: 1500, p99Ms: 1600 } },
    });
    await c.post(`/v1/providers/${sim.id}/profiles`, {
      name: 'sim.small',
      cpu: 1,
      memoryMb: 2048,
      storageGb: 20,
      arch: 'x86_64',
      costPerHour: 0,
    });
    const acct = await c.post<any>('/v1/provider-accounts', {
      project,
      providerId: sim.id,
      name: 'simulated-slow',
    });
    await c.post('/v1/image-mappings', {
      project,
      imageId: world.images['debian-12'],
      accountId: acct.id,
      providerImageId: 'sim-image',
    });
    const family = await c.post<any>('/v1/pool-families', { project, name: 'slow', accountIds: [acct.id] });
    const pool = await c.post<any>('/v1/pools', { project, name: 'slow', familyId: family.id });
    await new Promise((r) => setTimeout(r, 1200)); // the gateway's config cache (TTL 1 s)

    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    const send = async (type: string, data: object) => {
      ch.publish(Topology.commands, type, Buffer.from(JSON.stringify(createEvent('e2e', type, data))), {
        persistent: true,
      });
      await ch.waitForConfirms();
    };
    const owner = `deployable:${randomUUID()}/a1`;
    const key = `e2e-fence-${randomUUID()}`;
    await send('nephele.iaas.instance.create', {
      owner,
      idempotencyKey: key,
      pool: pool.id,
      project,
      image: 'debian-12',
      hardwareProfile: 'small',
      epoch: 1,
    });
    // While the launch is at the provider, the owner moves on (its deployable destroyed, say): the
    // destroy under epoch 2 finds nothing to destroy yet.
    await new Promise((r) => setTimeout(r, 400));
    await send('nephele.iaas.instance.destroy', {
      instanceId: randomUUID(),
      owner,
      reason: 'destroyed',
      epoch: 2,
    });
    await conn.close();

    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const attempt = await waitFor(
        async () =>
          (
            await pg.query(
              `SELECT status, reason, provider_instance_id FROM iaas_gateway.launch_attempts WHERE idempotency_key = $1`,
              [key],
            )
          ).rows.find((r) => r.status !== 'launching'),
        { timeoutMs: 20_000, what: 'the launch finished' },
      );
      expect(attempt).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/superseded while launching/),
      });
      expect(attempt.provider_instance_id).toBeTruthy();
      expect(
        (await api(tracker.url).get<any>(`/v1/instances?owner=${encodeURIComponent(owner)}`)).items,
      ).toEqual([]);
    } finally {
      await pg.end();
    }
  }, 60_000);
});
