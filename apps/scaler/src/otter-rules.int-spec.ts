import { createTestDatabase, createTestVhost, TestResource } from '@nephele/testing';
import { call, FakeGateway, startScaler } from '../test/scaler.test-kit';

/**
 * The scaler keeps Otter's rules where they matter to a user (issue 13.3), through its REST API
 * on real PostgreSQL and RabbitMQ: no-op executions start no cooldown, a policy's type is fixed,
 * a paused group does not converge, and Otter's request bodies are accepted.
 */
describe('scaler: Otter rules (real PostgreSQL + RabbitMQ)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let gateway: FakeGateway;
  let scaler: Awaited<ReturnType<typeof startScaler>>;
  let url: string;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('scaler_otter'), createTestVhost('scaler_otter')]);
    gateway = new FakeGateway();
    await gateway.start(vhost.url, 'otterrules');
    scaler = await startScaler({ DATABASE_URL: db.url, AMQP_URL: vhost.url });
    url = scaler.url;
  });

  afterAll(async () => {
    await scaler?.close();
    await gateway?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const launchConfig = { image: 'img', hardwareProfile: 'small', pool: 'pool-a' };
  const createGroup = async (config: Record<string, unknown>, policies: unknown[] = []) => {
    const r = await call('POST', `${url}/v1/groups`, { config, launchConfig, policies });
    expect(r.status).toBe(201);
    const ids = Object.fromEntries(
      (r.body.policies as { name: string; id: string }[]).map((p) => [p.name, p.id]),
    );
    return { gid: r.body.id as string, pid: ids as Record<string, string>, body: r.body };
  };
  const execute = (gid: string, pid: string) =>
    call('POST', `${url}/v1/groups/${gid}/policies/${pid}/execute`);

  it('a scale-down at min starts no policy cooldown: the next scale-up is not blocked', async () => {
    const { gid, pid } = await createGroup({ name: 'g1', minEntities: 1, maxEntities: 3, cooldown: 0 }, [
      { name: 'down', type: 'webhook', change: -1, cooldown: 3600 },
      { name: 'up', type: 'webhook', change: 1, cooldown: 3600 },
    ]);
    const noop = await execute(gid, pid.down!);
    expect(noop.status).toBe(202);
    expect(noop.body).toMatchObject({ desiredBefore: 1, desiredAfter: 1, changed: false });
    // The same no-op again: still no cooldown of its own.
    expect((await execute(gid, pid.down!)).body.changed).toBe(false);
    const up = await execute(gid, pid.up!);
    expect(up.status).toBe(202);
    expect(up.body).toMatchObject({ desiredBefore: 1, desiredAfter: 2, changed: true });
    // A real change does start the policy's cooldown.
    const again = await execute(gid, pid.up!);
    expect(again.status).toBe(403);
    expect(again.body.refusedBy).toBe('policy-cooldown');
    expect(new Date(again.body.until).getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    // And now the scale-down really changes the capacity.
    const down = await execute(gid, pid.down!);
    expect(down.body).toMatchObject({ desiredBefore: 2, desiredAfter: 1, changed: true });
  });

  it('a no-op execution starts no group cooldown either', async () => {
    const { gid, pid } = await createGroup({ name: 'g2', minEntities: 0, maxEntities: 2, cooldown: 3600 }, [
      { name: 'down', type: 'webhook', change: -1 },
      { name: 'up', type: 'webhook', change: 2 },
    ]);
    expect((await execute(gid, pid.down!)).body.changed).toBe(false);
    const up = await execute(gid, pid.up!);
    expect(up.status).toBe(202);
    expect(up.body.desiredAfter).toBe(2);
    const blocked = await execute(gid, pid.down!);
    expect(blocked.status).toBe(403);
    expect(blocked.body.refusedBy).toBe('group-cooldown');
  });

  it("refuses to change a policy's type (400 naming type); its capability keeps executing what it was", async () => {
    const { gid, pid } = await createGroup({ name: 'g3', minEntities: 0, maxEntities: 5, cooldown: 0 }, [
      { name: 'up', type: 'webhook', change: 1 },
    ]);
    const hook = await call('POST', `${url}/v1/groups/${gid}/policies/${pid.up}/webhooks`, { name: 'h' });
    expect(hook.status).toBe(201);
    // The webhook body is a DTO: each bad field named, unknown ones refused.
    const bad = await call('POST', `${url}/v1/groups/${gid}/policies/${pid.up}/webhooks`, {
      name: ' ',
      metadata: { a: 1 },
      extra: true,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['extra', 'metadata', 'name']);
    const put = await call('PUT', `${url}/v1/groups/${gid}/policies/${pid.up}`, {
      name: 'up',
      type: 'schedule',
      change: 3,
      args: { cron: '0 0 * * *' },
    });
    expect(put.status).toBe(400);
    expect(put.body.errors).toEqual([expect.objectContaining({ field: 'type' })]);
    const pol = await call('GET', `${url}/v1/groups/${gid}/policies/${pid.up}`);
    expect(pol.body).toMatchObject({ type: 'webhook', change: 1 });
    // Same type, new change: fine.
    const ok = await call('PUT', `${url}/v1/groups/${gid}/policies/${pid.up}`, {
      name: 'up',
      type: 'webhook',
      change: 2,
    });
    expect(ok.status).toBe(200);
    const anon = await fetch(
      hook.body.capabilityUrl.startsWith('http')
        ? hook.body.capabilityUrl
        : `${url}${hook.body.capabilityUrl}`,
      {
        method: 'POST',
      },
    );
    expect(anon.status).toBe(202);
    const g = await call('GET', `${url}/v1/groups/${gid}`);
    expect(g.body.state.desiredCapacity).toBe(2);
  });

  it('refuses to converge a paused group (409) and converges it once resumed', async () => {
    const { gid } = await createGroup({ name: 'g4', minEntities: 0, maxEntities: 2, cooldown: 0 });
    expect((await call('POST', `${url}/v1/groups/${gid}/pause`)).status).toBe(204);
    const refused = await call('POST', `${url}/v1/groups/${gid}/converge`);
    expect(refused.status).toBe(409);
    expect(refused.body.refusedBy).toBe('paused');
    expect(refused.body.detail).toContain('paused');
    expect((await call('POST', `${url}/v1/groups/${gid}/resume`)).status).toBe(204);
    expect((await call('POST', `${url}/v1/groups/${gid}/converge`)).status).toBe(202);
  });

  it("accepts Otter's bodies: maxEntities left out or null, 255-character names, fractional policy cooldowns", async () => {
    const name = 'n'.repeat(255);
    const a = await createGroup({ name, minEntities: 0, cooldown: 0 }, [
      { name, type: 'webhook', change: 1, cooldown: 2.5 },
    ]);
    expect(a.body.config.maxEntities).toBe(1000);
    expect(a.body.config.name).toBe(name);
    expect(a.body.policies[0]).toMatchObject({ name, cooldown: 2.5 });
    const b = await createGroup({ name: 'g6', minEntities: 1, maxEntities: null, cooldown: 0 });
    expect(b.body.config.maxEntities).toBe(1000);
    const hook = await call('POST', `${url}/v1/groups/${a.gid}/policies/${a.pid[name]}/webhooks`, { name });
    expect(hook.status).toBe(201);

    const tooLong = await call('POST', `${url}/v1/groups`, {
      config: { name: 'n'.repeat(256), minEntities: 0, cooldown: 0 },
      launchConfig,
      policies: [{ name: 'p'.repeat(256), type: 'webhook', change: 1, cooldown: -1 }],
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'config.name',
      'policies[0].cooldown',
      'policies[0].name',
    ]);
  });
});
