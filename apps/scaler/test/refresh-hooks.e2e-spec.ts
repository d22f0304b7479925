import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bus, Outcome, RabbitMqBus } from '@nephele/bus';
import { LocalBroker, NepheleClient, seedLocalBroker } from '@nephele/client';
import { CloudEvent, createEvent, MetricObserved, Topology } from '@nephele/contracts';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  freePort,
  ServiceProcess,
  TestResource,
  waitFor,
} from '@nephele/testing';
import { auth, call, Haproxy, runCli, startHaproxy, TOKEN } from './scaler.test-kit';

interface ServerView {
  id: string;
  instanceId: string | null;
  state: string;
  lifecycleState: string;
  launchConfigVersion: number;
  createdAt: string;
  protected: boolean;
}

const LISTENER = [
  'import os, socket',
  's = socket.socket()',
  's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
  "s.bind((os.environ['NEPHELE_INSTANCE_ADDRESS'], 8080))",
  's.listen(1024)',
  'while True:',
  '    s.accept()[0].close()',
].join('\n');

const BACKENDS = ['target', 'protect', 'rolling', 'rollback', 'hooked'];

/**
 * Target tracking, instance protection, instance refresh and lifecycle hooks end to end: every
 * service its own process on PostgreSQL and RabbitMQ, servers launched by the `local` driver as
 * real processes (each on its own loopback address, a web server on port 8080, or one that never
 * listens), and a real HAProxy whose health checks are the health signal of a refresh.
 */
describe('scaler: target tracking, protection, refresh and hooks on local instances + HAProxy (E2E)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let dataDir: string;
  let haproxy: Haproxy;
  let bus: Bus;
  const events: CloudEvent[] = [];
  const procs: ServiceProcess[] = [];
  let scaler: ServiceProcess;
  let world: LocalBroker;

  beforeAll(async () => {
    buildApps('config-api', 'iaas-gateway', 'state-tracker', 'scaler');
    [db, vhost, haproxy] = await Promise.all([
      createTestDatabase('scaler_refresh_e2e'),
      createTestVhost('scaler_refresh_e2e'),
      startHaproxy(BACKENDS),
    ]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'nephele-scaler-refresh-e2e-'));
    const env = {
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      NEPHELE_DATA_DIR: dataDir,
      NEPHELE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: 'warn',
    };
    // Registered before they start, so afterAll stops whatever started even if one never got ready.
    const start = async (app: string, more: Record<string, string> = {}) => {
      const p = new ServiceProcess(app, { ...env, ...more }, await freePort());
      procs.push(p);
      await p.start({ readyTimeoutMs: 60_000 });
      return p;
    };
    const config = await start('config-api');
    [, , scaler] = await Promise.all([
      start('iaas-gateway', { GATEWAY_CONFIG_TTL_MS: '1000' }),
      start('state-tracker', { TRACKER_POLL_MS: '1000', TRACKER_FAST_POLL_MS: '200' }),
      start('scaler', {
        SCALER_CONVERGE_POLL_MS: '200',
        SCALER_CONVERGE_RETRY_MS: '300',
        SCALER_TARGET_EVAL_MS: '300',
        SCALER_LOAD_BALANCERS: JSON.stringify([
          {
            id: 'front',
            kind: 'haproxy',
            socketPath: haproxy.socketPath,
            backend: 'target',
            healthCheck: true,
            checkInterMs: 300,
            checkRise: 1,
            checkFall: 3,
          },
        ]),
      }),
    ]);
    world = await seedLocalBroker(new NepheleClient({ url: config.url, token: TOKEN }), {
      project: 'scaler-refresh-e2e',
      images: {
        // Listens on port 8080 of its own loopback address and answers every connection (HAProxy's
        // TCP check passes); a long backlog rides out a busy machine.
        web: { command: ['python3', '-c', LISTENER] },
        // Runs, never listens: HAProxy marks it down.
        mute: { command: ['sleep', '1000'] },
      },
      imageNames: { 'web-1': 'web', 'web-2': 'web', mute: 'mute' },
      providerOptions: { addressPerInstance: true },
    });
    bus = new RabbitMqBus({ url: vhost.url, service: 'refreshe2e' });
    await bus.start();
    await bus.subscribe({
      queue: 'refreshe2e.events',
      exchange: Topology.events,
      bindings: ['nephele.group.#', 'nephele.policy.#'],
      handler: async (e) => {
        events.push(e);
        return Outcome.ack();
      },
    });
  }, 120_000);

  afterAll(async () => {
    await bus?.close();
    for (const p of procs.reverse()) await p.kill('SIGTERM');
    for (const pid of localPids()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await haproxy?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  function localPids(): number[] {
    const root = path.join(dataDir ?? '', 'local-driver', world?.providerId ?? '-', 'instances');
    try {
      return readdirSync(root).flatMap((id) => {
        const r = JSON.parse(readFileSync(path.join(root, id, 'instance.json'), 'utf8'));
        return r.process ? [r.process.pid as number] : [];
      });
    } catch {
      return [];
    }
  }

  const lb = (backend: string) => [{ id: 'front', port: 8080, backend }];
  const launch = (backend: string, image: string) => ({
    image,
    hardwareProfile: 'small',
    pool: world.poolId,
    loadBalancers: lb(backend),
  });
  const servers = async (gid: string): Promise<ServerView[]> =>
    (await call('GET', `${scaler.url}/v1/groups/${gid}/state`, undefined, auth)).body.servers;
  /** Members HAProxy takes traffic to: ready and passing their health checks. */
  const upMembers = async (backend: string) =>
    (await haproxy.driver.listMembers(backend)).filter((m) => m.state === 'ready' && m.up).map((m) => m.name);
  /** n servers, all active, all up in HAProxy (of `version` when given). */
  const settled = async (gid: string, backend: string, n: number, version?: number) => {
    let last: unknown;
    try {
      return await waitFor(
        async () => {
          const s = await servers(gid);
          const up = new Set(await upMembers(backend));
          last = { servers: s, up: [...up] };
          return s.length === n &&
            up.size === n &&
            s.every(
              (x) =>
                x.state === 'active' &&
                up.has(x.id) &&
                (version === undefined || x.launchConfigVersion === version),
            )
            ? s
            : undefined;
        },
        {
          what: `${n} servers up in HAProxy${version ? ` at launch config v${version}` : ''}`,
          timeoutMs: 30_000,
        },
      );
    } catch (e) {
      throw new Error(
        `${(e as Error).message}; last: ${JSON.stringify(last)}\n${scaler.output.slice(-2000)}`,
      );
    }
  };
  const createGroup = async (body: Record<string, unknown>) => {
    const r = await call('POST', `${scaler.url}/v1/groups`, { project: world.projectId, ...body }, auth);
    expect(r.status).toBe(201);
    const ids = Object.fromEntries(
      (r.body.policies as { name: string; id: string }[]).map((p) => [p.name, p.id]),
    ) as Record<string, string>;
    return { gid: r.body.id as string, pid: ids };
  };
  const execute = async (gid: string, pid: string) =>
    expect(
      (await call('POST', `${scaler.url}/v1/groups/${gid}/policies/${pid}/execute`, undefined, auth)).status,
    ).toBe(202);
  const refreshIs = (gid: string, status: string) =>
    waitFor(
      async () => {
        const r = (await call('GET', `${scaler.url}/v1/groups/${gid}/refresh`, undefined, auth)).body;
        return r.status === status ? r : undefined;
      },
      { what: `refresh ${status}`, timeoutMs: 60_000 },
    );
  const eventsOf = (type: string, gid: string) =>
    events
      .filter((e) => e.type === type && (e.data as { groupId?: string }).groupId === gid)
      .map((e) => e.data as Record<string, unknown>);
  const oldestFirst = (s: ServerView[]) =>
    [...s].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));

  it('a target policy scales 3 → 6 → 2 on nephele.metric.observed, holding the scale-in for its stabilisation window', async () => {
    const { gid, pid } = await createGroup({
      config: { name: 'target', minEntities: 1, maxEntities: 10, cooldown: 0 },
      launchConfig: launch('target', 'web-1'),
      policies: [
        { name: 'three', type: 'webhook', desiredCapacity: 3 },
        {
          name: 'cpu',
          type: 'target',
          args: {
            metric: 'cpu',
            target: 50,
            scaleOutCooldown: 600,
            scaleInCooldown: 0,
            stabilizationWindow: 4,
          },
        },
      ],
    });
    await execute(gid, pid.three!);
    await settled(gid, 'target', 3);
    const observe = (value: number) =>
      bus.publish(createEvent('monitor', MetricObserved.type, { groupId: gid, metric: 'cpu', value }));

    await observe(100);
    await settled(gid, 'target', 6);

    await observe(16);
    const policy = async () =>
      (await call('GET', `${scaler.url}/v1/groups/${gid}/policies/${pid.cpu}`, undefined, auth)).body;
    // The low value is seen, and the group holds 6 while the high recommendations are in the window.
    const held = await waitFor(
      async () => {
        const p = await policy();
        return /stabilising/.test(p.lastDecision?.reason ?? '') ? p : undefined;
      },
      { what: 'a stabilising decision', timeoutMs: 20_000 },
    );
    expect(held.lastDecision.reason).toContain('ceil(6 × 16 / 50) = 2');
    const during = (await call('GET', `${scaler.url}/v1/groups/${gid}`, undefined, auth)).body;
    expect(during.state.desiredCapacity).toBe(6);
    expect(await upMembers('target')).toHaveLength(6);

    const after = await settled(gid, 'target', 2);
    const scaled = eventsOf('nephele.group.scaled', gid).map((d) => [d.from, d.to]);
    expect(scaled).toEqual([
      [1, 3],
      [3, 6],
      [6, 2],
    ]);
    // The scale-in kept the two newest servers (the default termination policy).
    expect(after.every((s) => s.launchConfigVersion === 1)).toBe(true);
  }, 90_000);

  it('a protected server survives a scale-in', async () => {
    const { gid, pid } = await createGroup({
      config: { name: 'protect', minEntities: 0, maxEntities: 5, cooldown: 0 },
      launchConfig: launch('protect', 'web-1'),
      policies: [
        { name: 'three', type: 'webhook', desiredCapacity: 3 },
        { name: 'one', type: 'webhook', desiredCapacity: 1 },
      ],
    });
    await execute(gid, pid.three!);
    const three = oldestFirst(await settled(gid, 'protect', 3));
    // The oldest is the default termination policy's first victim: protect it.
    const keep = three[0]!;
    const p = await call(
      'PUT',
      `${scaler.url}/v1/groups/${gid}/servers/${keep.id}/protection`,
      { protected: true },
      auth,
    );
    expect(p.status).toBe(200);
    await execute(gid, pid.one!);
    const left = await settled(gid, 'protect', 1);
    expect(left.map((s) => [s.id, s.protected])).toEqual([[keep.id, true]]);
    expect(await upMembers('protect')).toEqual([keep.id]);
  }, 60_000);

  it('a launch-config change replaces every server in batches of 2, launching before retiring and draining, never below 80% up in HAProxy', async () => {
    const n = 5;
    const { gid } = await createGroup({
      config: { name: 'rolling', minEntities: n, maxEntities: n, cooldown: 0 },
      launchConfig: launch('rolling', 'web-1'),
    });
    const before = await settled(gid, 'rolling', n, 1);
    const old = new Set(before.map((s) => s.id));
    let lowest = n;
    let samples = 0;
    let sampling = true;
    const drained = new Set<string>();
    const sampler = (async () => {
      while (sampling) {
        const members = await haproxy.driver.listMembers('rolling');
        lowest = Math.min(lowest, members.filter((m) => m.state === 'ready' && m.up).length);
        for (const m of members) if (m.state === 'drain' && old.has(m.name)) drained.add(m.name);
        samples++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // The new launch config without a refresh, then the refresh started by the CLI.
    const put = await call(
      'PUT',
      `${scaler.url}/v1/groups/${gid}/launch`,
      { ...launch('rolling', 'web-2'), drainingTimeout: 1, refresh: false },
      auth,
    );
    expect(put.status).toBe(200);
    const cli = await runCli(scaler.url, [
      'group',
      'refresh',
      'start',
      gid,
      '--min-healthy',
      '80',
      '--batch-size',
      '2',
      '--warmup',
      '20',
      '--launch-before-retire',
    ]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('launch before retire');
    const done = await refreshIs(gid, 'succeeded');
    const after = await settled(gid, 'rolling', n, 2);
    sampling = false;
    await sampler;
    expect(done).toMatchObject({ toVersion: 2, total: n, replaced: n, batches: 3 });
    expect(samples).toBeGreaterThan(10);
    // Each batch's new servers were up before its old ones stopped taking traffic: never below n.
    expect(lowest).toBeGreaterThanOrEqual(n);
    // Every old server drained in HAProxy before it was deleted.
    expect([...drained].sort()).toEqual([...old].sort());
    expect(after.filter((s) => old.has(s.id))).toEqual([]);
    const batches = eventsOf('nephele.group.refresh_changed', gid)
      .map((d) => String(d.reason))
      .filter((r) => /^batch \d+:/.test(r));
    expect(batches).toEqual([
      'batch 1: replacing 2 server(s)',
      'batch 2: replacing 2 server(s)',
      'batch 3: replacing 1 server(s)',
    ]);
  }, 90_000);

  it('a refresh to an image that never listens rolls back after its warmup', async () => {
    const { gid } = await createGroup({
      config: { name: 'rollback', minEntities: 2, maxEntities: 5, cooldown: 0 },
      launchConfig: launch('rollback', 'web-1'),
    });
    const before = await settled(gid, 'rollback', 2, 1);
    const put = await call(
      'PUT',
      `${scaler.url}/v1/groups/${gid}/launch`,
      { ...launch('rollback', 'mute'), refresh: { minHealthyPercentage: 50, batchSize: 1, warmup: 3 } },
      auth,
    );
    expect(put.status).toBe(200);
    // The new server runs and joins HAProxy, whose checks keep it down.
    await waitFor(
      async () => (await servers(gid)).some((s) => s.launchConfigVersion === 2 && s.state === 'active'),
      { what: 'a server of the new image active', timeoutMs: 20_000 },
    );
    const r = await refreshIs(gid, 'rolled-back');
    expect(r.reason).toContain('warmup of 3 s');
    expect(r).toMatchObject({ toVersion: 1, fromVersion: 2 });
    const lc = await call('GET', `${scaler.url}/v1/groups/${gid}/launch`, undefined, auth);
    expect(lc.body.image).toBe('web-1');
    const after = await settled(gid, 'rollback', 2, 1);
    expect(after.map((s) => s.id)).toContain(oldestFirst(before)[1]!.id);
    const statuses = eventsOf('nephele.group.refresh_changed', gid).map((d) => d.status);
    expect(statuses).toEqual(expect.arrayContaining(['running', 'rolling-back', 'rolled-back']));
  }, 60_000);

  it('a terminating hook holds a server in TERMINATING:WAIT until complete-lifecycle-action, then deletes it', async () => {
    const { gid, pid } = await createGroup({
      config: { name: 'hooked', minEntities: 0, maxEntities: 5, cooldown: 0 },
      launchConfig: launch('hooked', 'web-1'),
      policies: [
        { name: 'two', type: 'webhook', desiredCapacity: 2 },
        { name: 'one', type: 'webhook', desiredCapacity: 1 },
      ],
    });
    const hook = await call(
      'PUT',
      `${scaler.url}/v1/groups/${gid}/lifecycle-hooks/drain`,
      { kind: 'terminating', timeout: 3600, defaultResult: 'CONTINUE' },
      auth,
    );
    expect(hook.status).toBe(201);
    await execute(gid, pid.two!);
    const two = oldestFirst(await settled(gid, 'hooked', 2));
    await execute(gid, pid.one!);
    const held = await waitFor(
      async () => (await servers(gid)).find((s) => s.lifecycleState === 'TERMINATING:WAIT'),
      { what: 'a server in TERMINATING:WAIT', timeoutMs: 20_000 },
    );
    expect(held.id).toBe(two[0]!.id);
    // Out of HAProxy, its instance still running, and no second victim.
    await waitFor(async () => !(await upMembers('hooked')).includes(held.id), {
      what: 'the held server out of HAProxy',
    });
    const tracker = procs.find((p) => p.app === 'state-tracker')!;
    const instance = async () =>
      (await call('GET', `${tracker.url}/v1/instances/${held.instanceId}`, undefined, auth)).body;
    expect((await instance()).state).toBe('running');
    expect((await servers(gid)).map((s) => s.id).sort()).toEqual(two.map((s) => s.id).sort());

    const cli = await runCli(scaler.url, [
      'group',
      'complete-lifecycle-action',
      gid,
      held.id,
      '--hook',
      'drain',
    ]);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe(`server ${held.id} (TERMINATING:WAIT): CONTINUE recorded\n`);
    expect(cli.code).toBe(0);
    await waitFor(async () => !(await servers(gid)).some((s) => s.id === held.id), {
      what: 'the held server deleted',
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await instance()).state === 'terminated', {
      what: 'its instance terminated',
      timeoutMs: 20_000,
    });
    expect(await upMembers('hooked')).toEqual([two[1]!.id]);
    const phases = eventsOf('nephele.group.lifecycle_action', gid).map((d) => [d.phase, d.result]);
    expect(phases).toEqual([
      ['waiting', undefined],
      ['completed', 'CONTINUE'],
    ]);
  }, 60_000);
});
