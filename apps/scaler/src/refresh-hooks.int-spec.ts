import { CloudEvent } from '@nephele/contracts';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { call, FakeGateway, Haproxy, runCli, startHaproxy, startScaler } from '../test/scaler.test-kit';

interface ServerView {
  id: string;
  instanceId: string;
  state: string;
  loadBalancers: unknown[];
  launchConfigVersion: number;
  lifecycleState: string;
  createdAt: string;
}

/**
 * Instance refresh (rolling replacement on a launch-config change) and lifecycle hooks through
 * the scaler's REST API, on real PostgreSQL, RabbitMQ and HAProxy; a bus peer plays the gateway.
 */
describe('scaler: instance refresh and lifecycle hooks (real PostgreSQL + RabbitMQ + HAProxy)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let haproxy: Haproxy;
  let gateway: FakeGateway;
  let scaler: Awaited<ReturnType<typeof startScaler>>;
  let url: string;
  const env = () => ({
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    SCALER_LOAD_BALANCERS: JSON.stringify([
      { id: 'front', kind: 'haproxy', socketPath: haproxy.socketPath, backend: 'web', pollMs: 20 },
    ]),
  });

  beforeAll(async () => {
    [db, vhost, haproxy] = await Promise.all([
      createTestDatabase('scaler_refresh'),
      createTestVhost('scaler_refresh'),
      startHaproxy(),
    ]);
    gateway = new FakeGateway();
    await gateway.start(vhost.url, 'refreshtest');
    scaler = await startScaler(env());
    url = scaler.url;
  });

  afterAll(async () => {
    await scaler?.close();
    await gateway?.close();
    await haproxy?.stop();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const withLb = { hardwareProfile: 'small', pool: 'pool-a', loadBalancers: [{ id: 'front', port: 8080 }] };
  const servers = async (gid: string): Promise<ServerView[]> =>
    (await call('GET', `${url}/v1/groups/${gid}/state`)).body.servers;
  /** Active, in service and in the balancer: what the refresh counts as healthy. */
  const healthy = (s: ServerView) =>
    s.state === 'active' && s.lifecycleState === 'in-service' && s.loadBalancers.length > 0;
  const settled = (gid: string, n: number, version?: number) =>
    waitFor(
      async () => {
        const s = await servers(gid);
        return s.length === n &&
          s.every(healthy) &&
          (version === undefined || s.every((x) => x.launchConfigVersion === version))
          ? s
          : undefined;
      },
      { what: `${n} healthy servers${version ? ` of launch config ${version}` : ''}`, timeoutMs: 60_000 },
    );
  const refreshOf = async (gid: string) => (await call('GET', `${url}/v1/groups/${gid}/refresh`)).body;
  const refreshIs = (gid: string, status: string) =>
    waitFor(
      async () => {
        const r = await refreshOf(gid);
        return r.status === status ? r : undefined;
      },
      { what: `refresh ${status}`, timeoutMs: 90_000 },
    );
  const group = async (name: string, n: number, image: string) => {
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name, minEntities: n, maxEntities: 20, cooldown: 0 },
      launchConfig: { ...withLb, image },
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const eventsOf = (type: string, gid: string) =>
    gateway.events.filter(
      (e: CloudEvent) => e.type === type && (e.data as { groupId?: string }).groupId === gid,
    ) as CloudEvent<Record<string, unknown>>[];

  it('replaces all servers of a changed launch config in batches of 2, never below 80% healthy', async () => {
    const gid = await group('rolling', 10, 'img-v1');
    await settled(gid, 10, 1);
    let lowest = 10;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await servers(gid);
        lowest = Math.min(lowest, s.filter(healthy).length);
      }
    })();
    const put = await call('PUT', `${url}/v1/groups/${gid}/launch`, {
      ...withLb,
      image: 'img-v2',
      refresh: { minHealthyPercentage: 80, batchSize: 2, warmup: 60 },
    });
    expect(put.status).toBe(200);
    expect(put.body.image).toBe('img-v2');
    const done = await refreshIs(gid, 'succeeded');
    sampling = false;
    await sampler;
    expect(done).toMatchObject({
      toVersion: 2,
      fromVersion: 1,
      total: 10,
      replaced: 10,
      percentComplete: 100,
      batches: 5,
      spec: { minHealthyPercentage: 80, batchSize: 2, warmup: 60 },
    });
    expect(lowest).toBeGreaterThanOrEqual(8);
    const after = await settled(gid, 10, 2);
    expect(after).toHaveLength(10);
    const v2 = gateway.creates.filter((c) => c.owner === `group:${gid}` && c.image === 'img-v2');
    expect(v2).toHaveLength(10);
    const batches = eventsOf('nephele.group.refresh_changed', gid).filter((e) =>
      /^batch \d+: replacing/.test(String(e.data!.reason)),
    );
    expect(batches.map((e) => e.data!.reason)).toEqual(
      [1, 2, 3, 4, 5].map((i) => `batch ${i}: replacing 2 server(s)`),
    );
    // The CLI shows the progress bar, and a watch of an ended refresh exits with its verdict.
    const cli = await runCli(url, [
      'group',
      'refresh',
      'status',
      'rolling',
      '--watch',
      '--interval',
      '200ms',
    ]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/\[####################\] 10\/10 \(100%\) succeeded → v2/);
    expect(cli.stdout).toContain('refresh succeeded: 10 server(s) at launch config v2');
  }, 180_000);

  it('rolls back a refresh whose new image never becomes healthy within the warmup', async () => {
    gateway.holdImages.add('img-bad');
    const gid = await group('rollback', 2, 'img-good');
    const before = await settled(gid, 2, 1);
    const put = await call('PUT', `${url}/v1/groups/${gid}/launch`, {
      ...withLb,
      image: 'img-bad',
      refresh: { minHealthyPercentage: 50, batchSize: 1, warmup: 2 },
    });
    expect(put.status).toBe(200);
    const r = await refreshIs(gid, 'rolled-back');
    expect(r.reason).toContain('warmup of 2 s');
    expect(r).toMatchObject({ toVersion: 1, fromVersion: 2 });
    const launch = await call('GET', `${url}/v1/groups/${gid}/launch`);
    expect(launch.body.image).toBe('img-good');
    const after = await settled(gid, 2, 1);
    // The newer old server stayed throughout (the floor is 1 of 2); the oldest went first.
    expect(after.map((s) => s.id)).toContain(before[1]!.id);
    expect(after.map((s) => s.id)).not.toContain(before[0]!.id);
    expect(gateway.creates.filter((c) => c.owner === `group:${gid}` && c.image === 'img-bad')).toHaveLength(
      1,
    );
    const statuses = eventsOf('nephele.group.refresh_changed', gid).map((e) => e.data!.status);
    expect(statuses).toEqual(expect.arrayContaining(['running', 'rolling-back', 'rolled-back']));
  }, 120_000);

  it('pauses, resumes (also across a restart) and cancels a refresh; replaced servers stay', async () => {
    gateway.holdImages.add('img-slow');
    const gid = await group('pausing', 4, 'img-a');
    await settled(gid, 4, 1);
    expect(
      (
        await call('PUT', `${url}/v1/groups/${gid}/launch`, {
          ...withLb,
          image: 'img-slow',
          refresh: { minHealthyPercentage: 50, batchSize: 1, warmup: 600 },
        })
      ).status,
    ).toBe(200);
    await waitFor(async () => ((await refreshOf(gid)).batches === 1 ? true : undefined), {
      what: 'the first batch',
    });
    const paused = await call('POST', `${url}/v1/groups/${gid}/refresh/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('paused');
    expect((await call('POST', `${url}/v1/groups/${gid}/refresh/pause`)).status).toBe(409);
    // A new scaler on the same database finds the refresh where it was.
    await scaler.close();
    scaler = await startScaler(env());
    url = scaler.url;
    expect(await refreshOf(gid)).toMatchObject({ status: 'paused', batches: 1 });
    const resumed = await call('POST', `${url}/v1/groups/${gid}/refresh/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.status).toBe('running');
    const cancelled = await call('POST', `${url}/v1/groups/${gid}/refresh/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', batches: 1 });
    expect((await call('POST', `${url}/v1/groups/${gid}/refresh/cancel`)).status).toBe(409);
    expect((await call('POST', `${url}/v1/groups/${gid}/refresh/resume`)).status).toBe(409);
    // The slow server boots after all: it stays, the three old ones stay, no further batch.
    for (const inst of gateway.byId.values()) {
      if (inst.owner === `group:${gid}` && inst.create.image === 'img-slow' && inst.state === 'pending') {
        await gateway.setState(inst.instanceId, 'running');
      }
    }
    const after = await waitFor(
      async () => {
        const s = await servers(gid);
        return s.length === 4 && s.every(healthy) ? s : undefined;
      },
      { what: '4 healthy servers', timeoutMs: 30_000 },
    );
    expect(after.filter((s) => s.launchConfigVersion === 1)).toHaveLength(3);
    expect(after.filter((s) => s.launchConfigVersion === 2)).toHaveLength(1);
    expect((await refreshOf(gid)).batches).toBe(1);
    // A new refresh can be started by hand; it replaces the rest.
    const again = await call('POST', `${url}/v1/groups/${gid}/refresh`, {
      minHealthyPercentage: 75,
      batchSize: 1,
    });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ status: 'running', toVersion: 2, spec: { warmup: 300 } });
    gateway.holdImages.delete('img-slow');
    await refreshIs(gid, 'succeeded');
    await settled(gid, 4, 2);
  }, 180_000);

  it('a terminating hook holds a leaving server until complete-lifecycle-action', async () => {
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name: 'hooked', minEntities: 0, maxEntities: 5, cooldown: 0 },
      launchConfig: { ...withLb, image: 'img-h' },
      policies: [
        { name: 'two', type: 'webhook', desiredCapacity: 2 },
        { name: 'one', type: 'webhook', desiredCapacity: 1 },
      ],
    });
    const gid = r.body.id as string;
    const pid = Object.fromEntries(r.body.policies.map((p: { name: string; id: string }) => [p.name, p.id]));
    const hook = await call('PUT', `${url}/v1/groups/${gid}/lifecycle-hooks/drain`, {
      kind: 'terminating',
      timeout: 3600,
      defaultResult: 'CONTINUE',
    });
    expect(hook.status).toBe(201);
    expect(hook.body).toEqual({
      name: 'drain',
      kind: 'terminating',
      timeout: 3600,
      defaultResult: 'CONTINUE',
    });
    const clash = await call('PUT', `${url}/v1/groups/${gid}/lifecycle-hooks/other`, {
      kind: 'terminating',
      timeout: 10,
      defaultResult: 'ABANDON',
    });
    expect(clash.status).toBe(409);
    await call('POST', `${url}/v1/groups/${gid}/policies/${pid.two}/execute`);
    const two = await settled(gid, 2);
    await call('POST', `${url}/v1/groups/${gid}/policies/${pid.one}/execute`);
    const held = await waitFor(
      async () => (await servers(gid)).find((s) => s.lifecycleState === 'TERMINATING:WAIT'),
      { what: 'a server in TERMINATING:WAIT' },
    );
    expect(held.id).toBe(two.sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0]!.id);
    // Out of the balancer, not destroyed, and the group does not pick a second victim meanwhile.
    await waitFor(
      async () => (await servers(gid)).find((s) => s.id === held.id)!.loadBalancers.length === 0,
      {
        what: 'the held server out of the balancer',
      },
    );
    expect(gateway.destroys.map((d) => d.instanceId)).not.toContain(held.instanceId);
    expect((await servers(gid)).filter(healthy)).toHaveLength(1);

    const wrongHook = await call('POST', `${url}/v1/groups/${gid}/servers/${held.id}/lifecycle-action`, {
      hook: 'nope',
      result: 'CONTINUE',
    });
    expect(wrongHook.status).toBe(409);
    const hb = await call('POST', `${url}/v1/groups/${gid}/servers/${held.id}/lifecycle-heartbeat`, {
      hook: 'drain',
    });
    expect(hb.status).toBe(200);
    expect(hb.body).toMatchObject({ serverId: held.id, hook: 'drain', lifecycleState: 'TERMINATING:WAIT' });
    expect(Date.parse(hb.body.waitingUntil)).toBeGreaterThan(Date.now() + 3000_000);
    const cli = await runCli(url, ['group', 'complete-lifecycle-action', gid, held.id, '--hook', 'drain']);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe(`server ${held.id} (TERMINATING:WAIT): CONTINUE recorded\n`);
    expect(cli.code).toBe(0);
    await waitFor(async () => !(await servers(gid)).some((s) => s.id === held.id), {
      what: 'the held server deleted',
      timeoutMs: 20_000,
    });
    expect(gateway.destroys.map((d) => d.instanceId)).toContain(held.instanceId);
    const phases = eventsOf('nephele.group.lifecycle_action', gid).map((e) => [
      e.data!.phase,
      e.data!.result,
    ]);
    expect(phases).toEqual([
      ['waiting', undefined],
      ['completed', 'CONTINUE'],
    ]);
    const list = await call('GET', `${url}/v1/groups/${gid}/lifecycle-hooks`);
    expect(list.body.items.map((h: { name: string }) => h.name)).toEqual(['drain']);
  }, 120_000);

  it("a hook's timeout applies its default result", async () => {
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name: 'timeouts', minEntities: 0, maxEntities: 5, cooldown: 0 },
      launchConfig: { ...withLb, image: 'img-t' },
      policies: [{ name: 'one', type: 'webhook', desiredCapacity: 1 }],
    });
    const gid = r.body.id as string;
    for (const [name, kind, defaultResult] of [
      ['warm', 'launching', 'CONTINUE'],
      ['bye', 'terminating', 'ABANDON'],
    ]) {
      const h = await call('PUT', `${url}/v1/groups/${gid}/lifecycle-hooks/${name}`, {
        kind,
        timeout: 2,
        defaultResult,
      });
      expect(h.status).toBe(201);
    }
    await call('POST', `${url}/v1/groups/${gid}/policies/${r.body.policies[0].id}/execute`);
    // Launching: held out of the balancer in PENDING:WAIT, then in service by the default CONTINUE.
    const waiting = await waitFor(
      async () => (await servers(gid)).find((s) => s.lifecycleState === 'PENDING:WAIT'),
      { what: 'a server in PENDING:WAIT' },
    );
    expect(waiting.loadBalancers).toEqual([]);
    const [inService] = await settled(gid, 1);
    expect(inService!.id).toBe(waiting.id);
    // Terminating: removing it by request holds it, then the default ABANDON deletes it anyway.
    expect((await call('DELETE', `${url}/v1/groups/${gid}/servers/${waiting.id}?replace=false`)).status).toBe(
      202,
    );
    await waitFor(async () => (await servers(gid)).find((s) => s.lifecycleState === 'TERMINATING:WAIT'), {
      what: 'the server in TERMINATING:WAIT',
    });
    await waitFor(async () => ((await servers(gid)).length === 0 ? true : undefined), {
      what: 'the server deleted after the timeout',
      timeoutMs: 20_000,
    });
    const done = eventsOf('nephele.group.lifecycle_action', gid)
      .filter((e) => e.data!.phase === 'completed')
      .map((e) => [e.data!.hook, e.data!.result, e.data!.reason]);
    expect(done).toEqual([
      ['warm', 'CONTINUE', 'hook warm timed out after 2 s: default result CONTINUE'],
      ['bye', 'ABANDON', 'hook bye timed out after 2 s: default result ABANDON'],
    ]);
  }, 120_000);

  it('answers 400 naming the field for bad refresh and hook bodies', async () => {
    const gid = await group('invalid', 0, 'img-x');
    const fields = (r: { body: { errors: { field: string }[] } }) => [
      ...new Set(r.body.errors.map((e) => e.field).sort()),
    ];
    const refresh = await call('POST', `${url}/v1/groups/${gid}/refresh`, { batchSize: 0, warmup: 'soon' });
    expect(refresh.status).toBe(400);
    expect(fields(refresh)).toEqual(['batchSize', 'warmup']);
    const put = await call('PUT', `${url}/v1/groups/${gid}/launch`, {
      ...withLb,
      image: 'img-y',
      refresh: { minHealthyPercentage: 101 },
    });
    expect(put.status).toBe(400);
    expect(fields(put)).toEqual(['refresh.minHealthyPercentage']);
    const hook = await call('PUT', `${url}/v1/groups/${gid}/lifecycle-hooks/h1`, {
      kind: 'booting',
      timeout: 0,
    });
    expect(hook.status).toBe(400);
    expect(fields(hook)).toEqual(['defaultResult', 'kind', 'timeout']);
    const name = await call('PUT', `${url}/v1/groups/${gid}/lifecycle-hooks/-bad`, {
      kind: 'launching',
      timeout: 5,
      defaultResult: 'CONTINUE',
    });
    expect(name.status).toBe(400);
    expect(fields(name)).toEqual(['name']);
    const action = await call(
      'POST',
      `${url}/v1/groups/${gid}/servers/00000000-0000-4000-8000-000000000000/lifecycle-action`,
      { result: 'MAYBE' },
    );
    expect(action.status).toBe(400);
    expect(fields(action)).toEqual(['hook', 'result']);
    const missing = await call(
      'POST',
      `${url}/v1/groups/${gid}/servers/00000000-0000-4000-8000-000000000000/lifecycle-action`,
      { hook: 'h', result: 'ABANDON' },
    );
    expect(missing.status).toBe(404);
    expect((await call('GET', `${url}/v1/groups/${gid}/refresh`)).status).toBe(404);
    expect((await call('POST', `${url}/v1/groups/${gid}/refresh/pause`)).status).toBe(409);
  });
});
