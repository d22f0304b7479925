import { Client } from 'pg';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { sleep } from '@nephele/util';
import { call, FakeGateway, startScaler } from '../../test/scaler.test-kit';

/**
 * Schedules with several scaler replicas on one database (two Nest apps in this process), and
 * firings missed while no replica ran.
 */
describe('SchedulerService (two replicas, real PostgreSQL + RabbitMQ)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let gateway: FakeGateway;
  let pg: Client;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('scaler_sched'), createTestVhost('scaler_sched')]);
    gateway = new FakeGateway();
    await gateway.start(vhost.url);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await gateway?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const env = () => ({ DATABASE_URL: db.url, AMQP_URL: vhost.url, SCALER_SCHEDULE_POLL_MS: '50' });

  async function groupWithSchedule(
    url: string,
    at: Date,
    name: string,
  ): Promise<{ gid: string; pid: string }> {
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name, minEntities: 0, maxEntities: 10 },
      launchConfig: { image: 'img', hardwareProfile: 'small' },
      policies: [{ name: 'at', type: 'schedule', change: 1, args: { at: at.toISOString() } }],
    });
    expect(r.status).toBe(201);
    return { gid: r.body.id, pid: r.body.policies[0].id };
  }

  const firings = async (pids: string[]) =>
    (
      await pg.query(
        `SELECT policy_id, scheduled_at, outcome FROM scaler.schedule_firings WHERE policy_id = ANY($1::uuid[])`,
        [pids],
      )
    ).rows as { policy_id: string; scheduled_at: Date; outcome: string }[];
  // Distinct event ids: two replicas may both relay an outbox row (consumers dedupe on the id).
  const executed = (pids: string[]) => [
    ...new Map(
      gateway.events
        .filter(
          (e) =>
            e.type === 'nephele.policy.executed' &&
            pids.includes((e.data as { policyId: string }).policyId) &&
            (e.data as { trigger: string }).trigger.startsWith('schedule:'),
        )
        .map((e) => [e.id, e]),
    ).values(),
  ];

  it('fires each firing exactly once with two replicas running', async () => {
    const [a, b] = await Promise.all([startScaler(env()), startScaler(env())]);
    try {
      const at = new Date(Date.now() + 6000); // far enough ahead for 20 creations on a loaded machine
      const made = await Promise.all(
        Array.from({ length: 20 }, (_, i) => groupWithSchedule(i % 2 ? a.url : b.url, at, `sched-${i}`)),
      );
      const pids = made.map((m) => m.pid);
      await waitFor(async () => (await firings(pids)).length === 20, {
        what: '20 firings',
        timeoutMs: 25_000,
      });
      await waitFor(() => executed(pids).length >= 20, { what: '20 policy.executed events' });
      await sleep(500); // a duplicate would have shown up by now
      const rows = await firings(pids);
      expect(rows).toHaveLength(20);
      expect(rows.every((r) => r.outcome === 'executed' && r.scheduled_at.getTime() === at.getTime())).toBe(
        true,
      );
      expect(executed(pids)).toHaveLength(20);
      for (const { gid } of made) {
        const s = await call('GET', `${a.url}/v1/groups/${gid}/state`);
        expect(s.body.desiredCapacity).toBe(1);
      }
      const p = await call('GET', `${a.url}/v1/groups/${made[0]!.gid}/policies/${pids[0]}`);
      expect(p.body.nextFiringAt).toBeNull();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('runs a firing missed during downtime once on recovery, and records older ones as missed', async () => {
    let app = await startScaler(env());
    const { gid, pid } = await groupWithSchedule(app.url, new Date(Date.now() + 800), 'downtime');
    await app.close(); // no replica runs when the firing is due
    await sleep(1500);
    app = await startScaler(env()); // default grace: 5 minutes
    try {
      await waitFor(async () => (await firings([pid])).length === 1, { what: 'the recovered firing' });
      expect((await firings([pid]))[0]!.outcome).toBe('executed');
      await waitFor(() => executed([pid]).length === 1);
      expect((await call('GET', `${app.url}/v1/groups/${gid}/state`)).body.desiredCapacity).toBe(1);
    } finally {
      await app.close();
    }

    app = await startScaler(env());
    const late = await groupWithSchedule(app.url, new Date(Date.now() + 800), 'too-late');
    await app.close();
    await sleep(1500);
    app = await startScaler({ ...env(), SCALER_SCHEDULE_GRACE_MS: '200' });
    try {
      await waitFor(async () => (await firings([late.pid])).length === 1, { what: 'the missed firing' });
      expect((await firings([late.pid]))[0]!.outcome).toMatch(/^missed/);
      expect(executed([late.pid])).toHaveLength(0);
      expect((await call('GET', `${app.url}/v1/groups/${late.gid}/state`)).body.desiredCapacity).toBe(0);
    } finally {
      await app.close();
    }
  });
});
