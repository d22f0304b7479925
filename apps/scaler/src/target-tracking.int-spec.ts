import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEvent, MetricObserved } from '@nephele/contracts';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { call, FakeGateway, startScaler } from '../test/scaler.test-kit';

/**
 * Target-tracking policies through the scaler's REST API on real PostgreSQL and RabbitMQ: metrics
 * from `nephele.metric.observed` events and from a Prometheus query URL (a local HTTP server
 * answering Prometheus' instant-query format), scale-in stabilisation, scale to zero and back.
 */
describe('scaler: target tracking (real PostgreSQL + RabbitMQ)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let gateway: FakeGateway;
  let scaler: Awaited<ReturnType<typeof startScaler>>;
  let url: string;
  let prom: Server;
  let promUrl: string;
  let promValue = '30';

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('scaler_target'), createTestVhost('scaler_target')]);
    gateway = new FakeGateway();
    await gateway.start(vhost.url, 'targettest');
    prom = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, promValue] }] },
        }),
      );
    });
    await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
    promUrl = `http://127.0.0.1:${(prom.address() as AddressInfo).port}`;
    scaler = await startScaler({ DATABASE_URL: db.url, AMQP_URL: vhost.url, SCALER_TARGET_EVAL_MS: '200' });
    url = scaler.url;
  });

  afterAll(async () => {
    await scaler?.close();
    await gateway?.close();
    await new Promise((r) => prom?.close(r));
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const launchConfig = { image: 'img', hardwareProfile: 'small', pool: 'pool-a' };
  const desired = async (gid: string) =>
    (await call('GET', `${url}/v1/groups/${gid}`)).body.state.desiredCapacity as number;
  const waitDesired = (gid: string, n: number) =>
    waitFor(async () => (await desired(gid)) === n, { what: `desired ${n}`, timeoutMs: 20_000 });
  const observe = (groupId: string, metric: string, value: number) =>
    gateway.bus.publish(createEvent('monitor', MetricObserved.type, { groupId, metric, value }));
  const policy = async (gid: string, pid: string) =>
    (await call('GET', `${url}/v1/groups/${gid}/policies/${pid}`)).body;

  it('scales 3 → 6 → 2 from metric events, holding the scale-in for the stabilisation window', async () => {
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name: 'tt', minEntities: 1, maxEntities: 10, cooldown: 0 },
      launchConfig,
      policies: [
        { name: 'three', type: 'webhook', desiredCapacity: 3 },
        {
          name: 'cpu',
          type: 'target',
          args: {
            metric: 'cpu',
            target: 50,
            // The value stays 100 until the next event: the scale-out cooldown makes it one step.
            scaleOutCooldown: 600,
            scaleInCooldown: 0,
            stabilizationWindow: 4,
          },
        },
      ],
    });
    expect(r.status).toBe(201);
    const gid = r.body.id as string;
    const pid = Object.fromEntries(r.body.policies.map((p: { name: string; id: string }) => [p.name, p.id]));
    expect(r.body.policies.find((p: { name: string }) => p.name === 'cpu')).toMatchObject({
      type: 'target',
      args: { metric: 'cpu', target: 50 },
    });
    expect((await call('POST', `${url}/v1/groups/${gid}/policies/${pid.three}/execute`)).status).toBe(202);
    await waitDesired(gid, 3);

    await observe(gid, 'cpu', 100);
    await waitDesired(gid, 6);
    await waitFor(
      async () => (await call('GET', `${url}/v1/groups/${gid}/state`)).body.activeCapacity === 6,
      {
        what: '6 active servers',
        timeoutMs: 20_000,
      },
    );

    const lowAt = Date.now();
    await observe(gid, 'cpu', 16);
    // The low value is seen, yet the group holds 6 while the high recommendations are in the window.
    const held = await waitFor(
      async () => {
        const p = await policy(gid, pid.cpu);
        return /stabilising/.test(p.lastDecision?.reason ?? '') ? p : undefined;
      },
      { what: 'a stabilising decision', timeoutMs: 20_000 },
    );
    expect(held.lastDecision.reason).toContain('ceil(6 × 16 / 50) = 2');
    expect(await desired(gid)).toBe(6);
    await waitDesired(gid, 2);
    const down = gateway.events.find(
      (e) => e.type === 'nephele.group.scaled' && e.subject === gid && (e.data as { to: number }).to === 2,
    );
    expect(down).toBeDefined();
    // Not before the window (4 s) after the last high recommendation, which is after `lowAt`.
    expect(new Date(down!.time!).getTime() - lowAt).toBeGreaterThanOrEqual(3_500);
    expect((down!.data as { from: number }).from).toBe(6);
  });

  it('scales to zero on a metric of 0 and back to one on the first value above 0, or a webhook', async () => {
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name: 'zero', minEntities: 0, maxEntities: 5, cooldown: 0 },
      launchConfig,
      policies: [
        {
          name: 'queue',
          type: 'target',
          args: {
            metric: 'queue',
            target: 10,
            scaleOutCooldown: 0,
            scaleInCooldown: 0,
            stabilizationWindow: 0,
          },
        },
      ],
    });
    const gid = r.body.id as string;
    const pid = r.body.policies[0].id as string;
    expect(await desired(gid)).toBe(0);
    await observe(gid, 'queue', 4);
    await waitDesired(gid, 1);
    await observe(gid, 'queue', 0);
    await waitDesired(gid, 0);
    // At zero a metric of 0 keeps it there; an execution (webhook or API) wakes it.
    const woke = await call('POST', `${url}/v1/groups/${gid}/policies/${pid}/execute`);
    expect(woke.status).toBe(202);
    expect(woke.body).toMatchObject({ desiredBefore: 0, desiredAfter: 1, changed: true });
  });

  it('polls a Prometheus query URL per group', async () => {
    promValue = '30';
    const r = await call('POST', `${url}/v1/groups`, {
      config: {
        name: 'prom',
        minEntities: 1,
        maxEntities: 8,
        cooldown: 0,
        metricSources: [
          { metric: 'rps', prometheusQueryUrl: `${promUrl}/api/v1/query?query=rps`, interval: 1 },
        ],
      },
      launchConfig,
      policies: [
        {
          name: 'rps',
          type: 'target',
          args: { metric: 'rps', target: 10, scaleOutCooldown: 0, scaleInCooldown: 0 },
        },
      ],
    });
    expect(r.status).toBe(201);
    expect(r.body.config.metricSources).toEqual([
      { metric: 'rps', prometheusQueryUrl: `${promUrl}/api/v1/query?query=rps`, interval: 1 },
    ]);
    // ceil(1 × 30 / 10) = 3
    await waitDesired(r.body.id, 3);
  });

  it('answers 400 naming the field for bad target policies and metric sources', async () => {
    const r = await call('POST', `${url}/v1/groups`, {
      config: {
        name: 'bad',
        minEntities: 0,
        maxEntities: 2,
        cooldown: 0,
        metricSources: [{ metric: 'rps', prometheusQueryUrl: 'ftp://example.com/q' }],
      },
      launchConfig,
      policies: [
        {
          name: 'a',
          type: 'target',
          change: 1,
          args: { metric: 'cpu', target: 50, scaleOutCooldown: 0, scaleInCooldown: 0 },
        },
        { name: 'b', type: 'target', args: { metric: 'cpu', target: -1, scaleOutCooldown: 0 } },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'config.metricSources[0].prometheusQueryUrl',
      'policies[0].change',
      'policies[1].args.scaleInCooldown',
      'policies[1].args.target',
    ]);
  });
});
