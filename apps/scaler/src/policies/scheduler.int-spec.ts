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
    [db, vhost] = await Promise.all([
      createTestDatabase('scale_scaler_sched'),
      createTestVhost('scale_scaler_sched'),
    ]);
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

  it('fires 400 schedules due at the same instant exactly once with two replicas claiming batches: staged, none before its time', async () => {
    const [a, b] = await Promise.all([startScaler(env()), startScaler(env())]);
    try {
      // One group made through the API, 399 copies of it in SQL (400 HTTP creations would take
      // long on a loaded machine); then all 400 schedules are moved to one instant.
      const template = await groupWithSchedule(a.url, new Date(Date.now() + 3_600_000), 'many-0');
      await pg.query(
        `WITH g AS (
           INSERT INTO scaler.groups (id, project, name, min_entities, max_entities, cooldown_ms, metadata,
             launch_config, desired)
           SELECT gen_random_uuid(), t.project, 'many-' || i, t.min_entities, t.max_entities, t.cooldown_ms,
             t.metadata, t.launch_config, t.desired
           FROM scaler.groups t, generate_series(1, 399) i WHERE t.id = $1 RETURNING id)
         INSERT INTO scaler.policies (id, group_id, name, type, cooldown_ms, change, args, next_firing_at)
         SELECT gen_random_uuid(), g.id, p.name, p.type, p.cooldown_ms, p.change, p.args, p.next_firing_at
         FROM g, scaler.policies p WHERE p.id = $2`,
        [template.gid, template.pid],
      );
      const { rows } = await pg.query(
        `SELECT p.id FROM scaler.policies p JOIN scaler.groups g ON g.id = p.group_id WHERE g.name LIKE 'many-%'`,
      );
      const pids = rows.map((r: { id: string }) => r.id);
      expect(pids).toHaveLength(400);
      const at = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
      await pg.query(
        `UPDATE scaler.policies SET args = jsonb_set(args, '{at}', to_jsonb($2::text)), next_firing_at = $1
         WHERE id = ANY($3::uuid[])`,
        [at, at.toISOString(), pids],
      );
      // Staged ahead (Note [Staged firings]), yet nothing shows before the due time.
      await sleep(Math.max(0, at.getTime() - 300 - Date.now()));
      const early = await pg.query(
        `SELECT (SELECT count(*)::int FROM scaler.groups WHERE name LIKE 'many-%' AND desired <> 0) AS scaled,
           (SELECT count(*)::int FROM scaler.schedule_firings WHERE policy_id = ANY($1::uuid[])) AS fired`,
        [pids],
      );
      // The staging replicas hold the claimed groups (a reader that skips locked rows misses them).
      const free = await pg.query(
        `SELECT count(*)::int AS n FROM (SELECT id FROM scaler.groups WHERE name LIKE 'many-%' FOR UPDATE SKIP LOCKED) x`,
      );
      if (Date.now() < at.getTime()) {
        expect(early.rows[0]).toEqual({ scaled: 0, fired: 0 });
        expect(free.rows[0].n).toBeLessThan(400);
      }
      await waitFor(async () => (await firings(pids)).filter((f) => f.outcome !== 'pending').length === 400, {
        what: '400 firings',
        timeoutMs: 60_000,
      });
      await waitFor(() => executed(pids).length >= 400, {
        what: '400 policy.executed events',
        timeoutMs: 30_000,
      });
      await sleep(1000); // a duplicate would have shown up by now
      const fired = await firings(pids);
      expect(fired).toHaveLength(400);
      expect(fired.every((r) => r.outcome === 'executed' && r.scheduled_at.getTime() === at.getTime())).toBe(
        true,
      );
      expect(executed(pids)).toHaveLength(400);
      const { rows: late } = await pg.query(
        `SELECT count(*)::int AS n FROM scaler.schedule_firings WHERE policy_id = ANY($1::uuid[]) AND executed_at >= scheduled_at`,
        [pids],
      );
      expect(late).toEqual([{ n: 400 }]);
      const { rows: desired } = await pg.query(
        `SELECT desired, count(*)::int AS n FROM scaler.groups WHERE name LIKE 'many-%' GROUP BY desired`,
      );
      expect(desired).toEqual([{ desired: 1, n: 400 }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fires a policy whose group another transaction holds once the group is free, exactly once', async () => {
    const [a, b] = await Promise.all([startScaler(env()), startScaler(env())]);
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      const at = new Date(Date.now() + 3000);
      const { gid, pid } = await groupWithSchedule(a.url, at, 'held');
      // Something else (an API change, a convergence pass) holds the group row across the due time.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM scaler.groups WHERE id = $1 FOR UPDATE', [gid]);
      await sleep(Math.max(0, at.getTime() - Date.now()) + 1000);
      expect(await firings([pid])).toHaveLength(0); // nothing can commit a firing of this group yet
      await holder.query('COMMIT');
      await waitFor(async () => (await firings([pid])).length === 1, { what: 'the firing' });
      await waitFor(() => executed([pid]).length === 1, { what: 'its policy.executed event' });
      await sleep(500); // a duplicate would have shown up by now
      expect((await firings([pid])).map((f) => f.outcome)).toEqual(['executed']);
      expect(executed([pid])).toHaveLength(1);
      expect((await call('GET', `${a.url}/v1/groups/${gid}/state`)).body.desiredCapacity).toBe(1);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
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
