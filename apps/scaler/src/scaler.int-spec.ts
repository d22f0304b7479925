import { generateMasterKey } from '@nephele/crypto';
import { createEvent } from '@nephele/contracts';
import { createTestDatabase, createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { Client } from 'pg';
import {
  ALERTMANAGER_TOKEN,
  call,
  FakeGateway,
  Haproxy,
  startHaproxy,
  startReceiver,
  startScaler,
} from '../test/scaler.test-kit';
import { verifyWebhook } from './notifications/signature.util';

const SECRET = 'customer-webhook-secret-0123456789';

/**
 * The scaler against real PostgreSQL, RabbitMQ and HAProxy. A bus peer plays the iaas-gateway and
 * the state tracker (their own suites test them with real drivers); the customer webhook target
 * is an HTTP server of this test.
 */
describe('scaler (real PostgreSQL + RabbitMQ + HAProxy)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let haproxy: Haproxy;
  let gateway: FakeGateway;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let scaler: Awaited<ReturnType<typeof startScaler>>;
  let url: string;

  beforeAll(async () => {
    [db, vhost, haproxy, receiver] = await Promise.all([
      createTestDatabase('scaler'),
      createTestVhost('scaler'),
      startHaproxy(),
      startReceiver(),
    ]);
    gateway = new FakeGateway();
    await gateway.start(vhost.url);
    scaler = await startScaler({
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_MASTER_KEY: generateMasterKey(),
      SCALER_LOAD_BALANCERS: JSON.stringify([
        { id: 'front', kind: 'haproxy', socketPath: haproxy.socketPath, backend: 'web', pollMs: 20 },
      ]),
    });
    url = scaler.url;
  });

  afterAll(async () => {
    await scaler?.close();
    await gateway?.close();
    await Promise.all([haproxy?.stop(), receiver?.close()]);
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const state = async (gid: string) => (await call('GET', `${url}/v1/groups/${gid}/state`)).body;
  const active = async (gid: string, n: number) => {
    let last: unknown;
    try {
      return await waitFor(
        async () => {
          const s = await state(gid);
          last = s;
          return s.activeCapacity === n && s.servers.length === n ? s : undefined;
        },
        { what: `${n} active servers`, timeoutMs: 20_000 },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}; last state: ${JSON.stringify(last)}`);
    }
  };
  const members = async () => (await haproxy.driver.listMembers('web')).filter((m) => m.state === 'ready');

  const launchConfig = { image: 'img-web', hardwareProfile: 'small', pool: 'pool-a' };

  describe('a group with a load balancer and a ready webhook', () => {
    let gid: string;
    let policies: Record<string, string>;

    it('creates a group min 2 max 5: two servers become active and join HAProxy', async () => {
      const r = await call('POST', `${url}/v1/groups`, {
        config: {
          name: 'web',
          minEntities: 2,
          maxEntities: 5,
          cooldown: 0,
          metadata: { team: 'a' },
          serverReadyWebhook: { url: `${receiver.url}/ready`, secret: SECRET },
        },
        launchConfig: { ...launchConfig, loadBalancers: [{ id: 'front', port: 8080 }] },
        policies: [
          { name: 'up2', type: 'webhook', change: 2 },
          { name: 'up10', type: 'webhook', change: 10 },
          { name: 'slow', type: 'webhook', change: 1, cooldown: 3600 },
        ],
        project: 'proj-web',
      });
      expect(r.status).toBe(201);
      expect(r.body.project).toBe('proj-web');
      expect(r.headers.get('location')).toBe(`/v1/groups/${r.body.id}`);
      expect(r.headers.get('etag')).toBe('W/"1"');
      expect(r.body.config.serverReadyWebhook).toEqual({ url: `${receiver.url}/ready`, hasSecret: true });
      expect(JSON.stringify(r.body)).not.toContain(SECRET);
      gid = r.body.id;
      policies = Object.fromEntries(r.body.policies.map((p: { name: string; id: string }) => [p.name, p.id]));

      const s = await active(gid, 2);
      expect(s.desiredCapacity).toBe(2);
      await waitFor(async () => (await members()).length === 2, { what: '2 HAProxy members' });
      const names = (await members()).map((m) => m.name).sort();
      expect(names).toEqual(s.servers.map((x: { id: string }) => x.id).sort());
      expect(gateway.creates.every((c) => c.owner === `group:${gid}` && c.pool === 'pool-a')).toBe(true);
      // Who created it, in the group's project, and no secret in the trail.
      const audit = await waitFor(() => gateway.events.find((e) => e.type === 'nephele.audit.groups.create'));
      expect(audit).toMatchObject({
        subject: gid,
        project: 'proj-web',
        data: {
          actor: 'bootstrap',
          action: 'create',
          resource: 'groups',
          resourceId: gid,
          project: 'proj-web',
        },
      });
      expect(JSON.stringify(audit)).not.toContain(SECRET);
    });

    it('calls the customer webhook for each ready server with a valid HMAC signature', async () => {
      await waitFor(() => receiver.received.length >= 2, { what: 'two ready webhooks' });
      const s = await state(gid);
      for (const req of receiver.received) {
        expect(req.path).toBe('/ready');
        const ok = verifyWebhook(
          SECRET,
          {
            signature: req.headers['x-nephele-signature'] as string,
            timestamp: req.headers['x-nephele-timestamp'] as string,
          },
          req.body,
          Math.floor(Date.now() / 1000),
        );
        expect(ok).toBe(true);
        expect(
          verifyWebhook(
            'another-secret-0123456789',
            {
              signature: req.headers['x-nephele-signature'] as string,
              timestamp: req.headers['x-nephele-timestamp'] as string,
            },
            req.body,
            Math.floor(Date.now() / 1000),
          ),
        ).toBe(false);
        const payload = JSON.parse(req.body);
        expect(payload).toMatchObject({ event: 'server.ready', groupId: gid, addresses: ['127.0.0.1'] });
      }
      expect(receiver.received.map((q) => JSON.parse(q.body).serverId).sort()).toEqual(
        s.servers.map((x: { id: string }) => x.id).sort(),
      );
      await waitFor(() => gateway.events.filter((e) => e.type === 'nephele.webhook.delivered').length >= 2, {
        what: 'webhook.delivered events',
      });
      // Filed under the group's project, so that project's tokens read them in the event log.
      expect(
        gateway.events.filter((e) => e.type === 'nephele.webhook.delivered').map((e) => e.project),
      ).toEqual(['proj-web', 'proj-web']);
      const log = await call('GET', `${url}/v1/groups/${gid}/webhook-deliveries`);
      expect(log.body.items).toHaveLength(2);
      expect(log.body.items[0].attempts[0]).toMatchObject({ attempt: 1, ok: true, status: 204 });
    });

    it('executes a +2 capability webhook (202): four servers, four members', async () => {
      const w = await call('POST', `${url}/v1/groups/${gid}/policies/${policies.up2}/webhooks`, {
        name: 'ci',
      });
      expect(w.status).toBe(201);
      expect(w.body.capabilityUrl).toMatch(/^\/v1\/execute\/1\/[0-9a-f]{64}$/);
      // Shown once: never listed again.
      const listed = await call('GET', `${url}/v1/groups/${gid}/policies/${policies.up2}/webhooks`);
      expect(JSON.stringify(listed.body)).not.toContain(w.body.capabilityUrl.split('/').pop());
      const webhookAudit = await waitFor(() =>
        gateway.events.find((e) => e.type === 'nephele.audit.webhooks.create' && e.subject === w.body.id),
      );
      expect(webhookAudit.data).toMatchObject({ resource: 'webhooks', after: { groupId: gid, name: 'ci' } });
      expect(JSON.stringify(webhookAudit)).not.toContain(w.body.capabilityUrl.split('/').pop());
      const hit = await fetch(`${url}${w.body.capabilityUrl}`, { method: 'POST' });
      expect(hit.status).toBe(202);
      await active(gid, 4);
      await waitFor(async () => (await members()).length === 4, { what: '4 HAProxy members' });
      await waitFor(() =>
        gateway.events.some(
          (e) =>
            e.type === 'nephele.group.scaled' &&
            (e.data as { to: number }).to === 4 &&
            e.subject === gid &&
            e.project === 'proj-web',
        ),
      );
    });

    it('answers 202 to unknown and malformed capabilities alike, and rate-limits each capability', async () => {
      const unknown = await fetch(`${url}/v1/execute/1/${'ab'.repeat(32)}`, { method: 'POST' });
      const malformed = await fetch(`${url}/v1/execute/1/not-hex`, { method: 'POST' });
      expect([unknown.status, malformed.status]).toEqual([202, 202]);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        statuses.push((await fetch(`${url}/v1/execute/1/${'cd'.repeat(32)}`, { method: 'POST' })).status);
      }
      expect(statuses).toEqual(Array(10).fill(202)); // burst 10
      const limited = await fetch(`${url}/v1/execute/1/${'cd'.repeat(32)}`, { method: 'POST' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    it('clamps +10 to maxEntities 5', async () => {
      const r = await call('POST', `${url}/v1/groups/${gid}/policies/${policies.up10}/execute`);
      expect(r.status).toBe(202);
      expect(r.body).toMatchObject({ desiredBefore: 4, desiredAfter: 5, changed: true });
      expect(r.body.reason).toContain('clamped to maxEntities 5');
      await active(gid, 5);
      await waitFor(async () => (await members()).length === 5, { what: '5 HAProxy members' });
    });

    it('starts no cooldown for an execution that changes nothing (Otter)', async () => {
      const first = await call('POST', `${url}/v1/groups/${gid}/policies/${policies.slow}/execute`);
      expect(first.status).toBe(202);
      expect(first.body.changed).toBe(false); // already at max
      const second = await call('POST', `${url}/v1/groups/${gid}/policies/${policies.slow}/execute`);
      expect(second.status).toBe(202);
      expect(second.body.changed).toBe(false);
      const pol = await call('GET', `${url}/v1/groups/${gid}/policies/${policies.slow}`);
      expect(pol.body.lastExecutedAt).toBeNull();
    });

    it('takes back the config it returned (GET then PUT keeps the ready webhook and its secret)', async () => {
      const read = await call('GET', `${url}/v1/groups/${gid}/config`);
      expect(read.body.serverReadyWebhook).toEqual({ url: `${receiver.url}/ready`, hasSecret: true });
      const back = await call('PUT', `${url}/v1/groups/${gid}/config`, read.body, {
        ...authHeaders(),
        'if-match': read.headers.get('etag')!,
      });
      expect(back.status).toBe(200);
      expect(back.body.serverReadyWebhook).toEqual({ url: `${receiver.url}/ready`, hasSecret: true });
      const wrong = await call('PUT', `${url}/v1/groups/${gid}/config`, {
        ...read.body,
        serverReadyWebhook: { url: `${receiver.url}/ready`, hasSecret: 'yes' },
      });
      expect(wrong.status).toBe(400);
      expect(JSON.stringify(wrong.body)).toContain('serverReadyWebhook.hasSecret');
    });

    it('replaces the group config only with a fresh If-Match (412 when stale)', async () => {
      const g = await call('GET', `${url}/v1/groups/${gid}`);
      const etag = g.headers.get('etag')!;
      const stale = await call(
        'PUT',
        `${url}/v1/groups/${gid}/config`,
        { name: 'web', minEntities: 2, maxEntities: 5, cooldown: 0 },
        { ...authHeaders(), 'if-match': 'W/"999"' },
      );
      expect(stale.status).toBe(412);
      const ok = await call(
        'PUT',
        `${url}/v1/groups/${gid}/config`,
        { name: 'web', minEntities: 2, maxEntities: 5, cooldown: 0, metadata: { team: 'b' } },
        { ...authHeaders(), 'if-match': etag },
      );
      expect(ok.status).toBe(200);
      expect(ok.body.serverReadyWebhook).toBeUndefined();
      expect(ok.headers.get('etag')).not.toBe(etag);
    });

    it('refuses to delete a group with servers (409), and force-deletes it with its servers', async () => {
      const refused = await call('DELETE', `${url}/v1/groups/${gid}`);
      expect(refused.status).toBe(409);
      expect(refused.body.servers).toBe(5);
      const forced = await call('DELETE', `${url}/v1/groups/${gid}?force=true`);
      expect(forced.status).toBe(202);
      await waitFor(async () => (await call('GET', `${url}/v1/groups/${gid}`)).status === 404, {
        what: 'the group gone',
        timeoutMs: 20_000,
      });
      expect(await members()).toHaveLength(0);
      const ids = [...gateway.byId.values()]
        .filter((i) => i.owner === `group:${gid}`)
        .map((i) => i.instanceId);
      expect(new Set(gateway.destroys.map((d) => d.instanceId))).toEqual(new Set(ids));
    });
  });

  describe('scale-down, replacement and alarms', () => {
    let gid: string;
    let pid: Record<string, string>;
    const servers = async () =>
      (await state(gid)).servers as { id: string; instanceId: string; state: string; createdAt: string }[];

    it('scales down by cancelling the newest pending servers first, then the oldest active', async () => {
      const r = await call('POST', `${url}/v1/groups`, {
        config: { name: 'batch', minEntities: 0, maxEntities: 10 },
        launchConfig,
        policies: [
          { name: 'two', type: 'webhook', desiredCapacity: 2 },
          { name: 'four', type: 'webhook', desiredCapacity: 4 },
          { name: 'one', type: 'webhook', desiredCapacity: 1 },
          {
            name: 'cpu',
            type: 'alarm',
            change: 1,
            args: {
              alarmCriteria: {
                labels: { alertname: 'HighCPU' },
                matchers: [{ name: 'group', op: '=~', value: 'bat.*' }],
              },
            },
          },
        ],
      });
      expect(r.status).toBe(201);
      gid = r.body.id;
      pid = Object.fromEntries(r.body.policies.map((p: { name: string; id: string }) => [p.name, p.id]));
      expect((await call('POST', `${url}/v1/groups/${gid}/policies/${pid.two}/execute`)).status).toBe(202);
      const [a1, a2] = (await active(gid, 2)).servers as { id: string; instanceId: string }[];
      gateway.holdPending = true;
      await call('POST', `${url}/v1/groups/${gid}/policies/${pid.four}/execute`);
      const pending = await waitFor(async () => {
        const s = (await servers()).filter((x) => x.state === 'building' && x.instanceId);
        return s.length === 2 ? s : undefined;
      });
      gateway.holdPending = false;
      const destroyedBefore = gateway.destroys.length;
      await call('POST', `${url}/v1/groups/${gid}/policies/${pid.one}/execute`);
      await waitFor(async () => (await servers()).length === 1, { what: 'one server left' });
      const order = gateway.destroys.slice(destroyedBefore).map((d) => d.instanceId);
      // The planner's order: newest (created, then id) pending first, then the oldest active.
      const newestFirst = [...pending]
        .sort((x, y) => y.createdAt.localeCompare(x.createdAt) || (y.id < x.id ? -1 : 1))
        .map((p) => p.instanceId);
      expect(order).toEqual([...newestFirst, a1!.instanceId]);
      expect((await servers()).map((s) => s.id)).toEqual([a2!.id]);
    });

    it('replaces a server that goes to ERROR', async () => {
      const [before] = await servers();
      await gateway.setState(before!.instanceId, 'error');
      const after = await waitFor(async () => {
        const s = await servers();
        return s.length === 1 && s[0]!.id !== before!.id && s[0]!.state === 'active' ? s : undefined;
      });
      expect(after[0]!.id).not.toBe(before!.id);
      expect(gateway.destroys.map((d) => d.instanceId)).toContain(before!.instanceId);
    });

    it('executes the matching alarm policy for an Alertmanager alert, once per alert', async () => {
      const alert = {
        status: 'firing',
        labels: { alertname: 'HighCPU', group: 'batch', severity: 'page' },
        annotations: { summary: 'cpu > 90%' },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus/graph',
        fingerprint: 'c0ffee0123456789',
      };
      const body = {
        version: '4',
        groupKey: '{}:{alertname="HighCPU"}',
        truncatedAlerts: 0,
        status: 'firing',
        receiver: 'nephele',
        groupLabels: { alertname: 'HighCPU' },
        commonLabels: alert.labels,
        commonAnnotations: alert.annotations,
        externalURL: 'http://alertmanager:9093',
        alerts: [alert, { ...alert, labels: { alertname: 'HighCPU', group: 'other' }, fingerprint: 'aa' }],
      };
      const headers = { authorization: `Bearer ${ALERTMANAGER_TOKEN}`, 'content-type': 'application/json' };
      const denied = await call('POST', `${url}/v1/alarms/alertmanager`, body, {
        ...headers,
        authorization: 'Bearer nope',
      });
      expect(denied.status).toBe(401);
      const r = await call('POST', `${url}/v1/alarms/alertmanager`, body, headers);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ received: 2, firing: 2, duplicates: 0 });
      expect(r.body.executions).toEqual([
        expect.objectContaining({ policyId: pid.cpu, groupId: gid, executed: true }),
      ]);
      await active(gid, 2);
      const again = await call('POST', `${url}/v1/alarms/alertmanager`, body, headers);
      expect(again.body).toMatchObject({ duplicates: 2, executions: [] });
      // Fields newer Alertmanagers add are ignored, not refused.
      const newer = await call(
        'POST',
        `${url}/v1/alarms/alertmanager`,
        { ...body, newField: { x: 1 }, alerts: body.alerts.map((a) => ({ ...a, silencedBy: [] })) },
        headers,
      );
      expect([newer.status, newer.body.duplicates]).toEqual([200, 2]);
      // The bearer token is checked before the body: a wrong token with a bad body is a 401.
      const deniedBad = await call('POST', `${url}/v1/alarms/alertmanager`, { version: '3' }, {
        ...headers,
        authorization: 'Bearer nope',
      });
      expect(deniedBad.status).toBe(401);
      const bad = await call(
        'POST',
        `${url}/v1/alarms/alertmanager`,
        { ...body, version: '3', alerts: [{ status: 'x' }] },
        headers,
      );
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(
        expect.arrayContaining(['version', 'alerts[0].status', 'alerts[0].labels', 'alerts[0].startsAt']),
      );
    });

    it('executes alarm policies from nephele.alarm.triggered events, idempotently', async () => {
      const ev = createEvent('monitor', 'nephele.alarm.triggered', {
        alarmId: 'a-1',
        labels: { alertname: 'HighCPU', group: 'batch' },
        status: 'firing',
      });
      await gateway.bus.publishAll([ev, ev]);
      await active(gid, 3);
      const executed = () =>
        gateway.events.filter(
          (e) =>
            e.type === 'nephele.policy.executed' && (e.data as { trigger: string }).trigger === 'alarm:a-1',
        );
      await waitFor(() => executed().length === 1);
      expect((await state(gid)).desiredCapacity).toBe(3);
    });

    it('removes a server on request, replacing it or lowering the capacity', async () => {
      const [s1] = await servers();
      expect((await call('DELETE', `${url}/v1/groups/${gid}/servers/${s1!.id}?replace=true`)).status).toBe(
        202,
      );
      await waitFor(async () => {
        const s = await servers();
        return s.length === 3 && !s.some((x) => x.id === s1!.id) && s.every((x) => x.state === 'active');
      });
      const [s2] = await servers();
      expect((await call('DELETE', `${url}/v1/groups/${gid}/servers/${s2!.id}?replace=false`)).status).toBe(
        202,
      );
      await active(gid, 2);
      expect((await state(gid)).desiredCapacity).toBe(2);
      expect((await call('DELETE', `${url}/v1/groups/${gid}/servers/${s2!.id}`)).status).toBe(404);
      expect((await call('DELETE', `${url}/v1/groups/${gid}/servers/${s1!.id}?replace=maybe`)).status).toBe(
        400,
      );
    });

    it('refuses executions while paused (409) and converges again on resume', async () => {
      expect((await call('POST', `${url}/v1/groups/${gid}/pause`)).status).toBe(204);
      const r = await call('POST', `${url}/v1/groups/${gid}/policies/${pid.four}/execute`);
      expect(r.status).toBe(409);
      expect(r.body.refusedBy).toBe('paused');
      expect((await call('POST', `${url}/v1/groups/${gid}/resume`)).status).toBe(204);
      expect((await call('POST', `${url}/v1/groups/${gid}/policies/${pid.four}/execute`)).status).toBe(202);
      await active(gid, 4);
    });
  });

  it('drains a leaving server in HAProxy before deleting it, and retries a failing ready webhook', async () => {
    const flaky = await startReceiver((n) => (n === 1 ? 500 : 204));
    try {
      const r = await call('POST', `${url}/v1/groups`, {
        config: {
          name: 'drainer',
          minEntities: 1,
          maxEntities: 3,
          serverReadyWebhook: { url: `${flaky.url}/hook`, secret: SECRET },
        },
        launchConfig: { ...launchConfig, loadBalancers: [{ id: 'front', port: 9090 }], drainingTimeout: 1 },
        policies: [
          { name: 'two', type: 'webhook', desiredCapacity: 2 },
          { name: 'one', type: 'webhook', desiredCapacity: 1 },
        ],
      });
      const gid = r.body.id;
      const pid = Object.fromEntries(
        r.body.policies.map((p: { name: string; id: string }) => [p.name, p.id]),
      );
      await active(gid, 1);
      // The first delivery attempt got a 500: it is retried with backoff and every attempt is kept.
      const log = await waitFor(async () => {
        const l = await call('GET', `${url}/v1/groups/${gid}/webhook-deliveries`);
        return l.body.items[0]?.status === 'delivered' ? l.body.items[0] : undefined;
      });
      expect(log.attempts.map((a: { ok: boolean; status: number }) => [a.ok, a.status])).toEqual([
        [false, 500],
        [true, 204],
      ]);

      await call('POST', `${url}/v1/groups/${gid}/policies/${pid.two}/execute`);
      await active(gid, 2);
      const mine = async () =>
        (await haproxy.driver.listMembers('web'))
          .filter((m) => m.port === 9090)
          .map((m) => [m.name, m.state]);
      await waitFor(async () => (await mine()).length === 2, { what: 'two members on port 9090' });
      const [oldest] = (await state(gid)).servers as { id: string }[];
      await call('POST', `${url}/v1/groups/${gid}/policies/${pid.one}/execute`);
      const draining = await waitFor(async () => {
        const s = await state(gid);
        return s.servers.find(
          (x: { id: string; state: string }) => x.id === oldest!.id && x.state === 'draining',
        );
      });
      expect(draining).toBeDefined();
      expect(await mine()).toContainEqual([oldest!.id, 'drain']);
      // After the draining timeout (1 s) it leaves HAProxy and is deleted.
      await active(gid, 1);
      expect((await mine()).map(([name]) => name)).not.toContain(oldest!.id);
      expect((await state(gid)).servers[0].id).not.toBe(oldest!.id);
    } finally {
      await flaky.close();
    }
  });

  it('replaces a build that exceeds the launch config build timeout', async () => {
    gateway.holdPending = true;
    try {
      const r = await call('POST', `${url}/v1/groups`, {
        config: { name: 'slow-builds', minEntities: 1, maxEntities: 1 },
        launchConfig: { ...launchConfig, buildTimeout: 1 },
      });
      const gid = r.body.id;
      const first = await waitFor(async () => {
        const s = await state(gid);
        return s.servers[0]?.instanceId ? s.servers[0] : undefined;
      });
      expect(first.state).toBe('building');
      await waitFor(() => gateway.destroys.some((d) => d.instanceId === first.instanceId), {
        what: 'the stuck build destroyed',
      });
      gateway.holdPending = false;
      const s = await active(gid, 1);
      expect(s.servers[0].id).not.toBe(first.id);
    } finally {
      gateway.holdPending = false;
    }
  });

  it('puts a group whose launches keep failing in ERROR, and resumes after a new launch config', async () => {
    gateway.failLaunches = true;
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name: 'broken', minEntities: 1, maxEntities: 2 },
      launchConfig,
    });
    const gid = r.body.id;
    const s = await waitFor(async () => {
      const x = await state(gid);
      return x.status === 'ERROR' ? x : undefined;
    });
    expect(s.errors.join(' ')).toContain('quota exceeded');
    const launched = gateway.creates.filter((c) => c.owner === `group:${gid}`).length;
    expect(launched).toBe(3);
    gateway.failLaunches = false;
    const put = await call('PUT', `${url}/v1/groups/${gid}/launch`, { ...launchConfig, image: 'img-fixed' });
    expect(put.status).toBe(200);
    const ok = await active(gid, 1);
    expect(ok.status).toBe('ACTIVE');
    expect(gateway.creates.filter((c) => c.owner === `group:${gid}`).pop()!.image).toBe('img-fixed');
  });

  it('documents every operation in /docs: a 2xx with its schema and at least one 4xx', async () => {
    type Op = {
      requestBody?: { content: Record<string, { schema?: unknown }> };
      responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
    };
    const r = await call('GET', `${url}/docs/openapi.json`);
    expect(r.status).toBe(200);
    const paths = r.body.paths as Record<string, Record<string, Op>>;
    const gaps: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(paths).filter(([p]) => p.startsWith('/v1/'))) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const name = `${method.toUpperCase()} ${path}`;
        const codes = Object.keys(op.responses);
        const ok = codes.filter((c) => /^2\d\d$/.test(c));
        if (!ok.length) gaps.push(`${name}: no 2xx`);
        // 202 and 204 answers of this API carry no body; every other 2xx has its schema.
        for (const c of ok.filter((c) => c !== '202' && c !== '204'))
          if (!op.responses[c]!.content?.['application/json']?.schema) gaps.push(`${name}: ${c} has no schema`);
        for (const c of ok.filter((c) => c === '202'))
          if (op.responses[c]!.content && !op.responses[c]!.content['application/json']?.schema)
            gaps.push(`${name}: 202 has a body without a schema`);
        if (!codes.some((c) => /^4\d\d$/.test(c))) gaps.push(`${name}: no 4xx`);
        // Operations without a body (pause, converge, execute …) have none; a body has its schema.
        if (op.requestBody && !op.requestBody.content['application/json']?.schema)
          gaps.push(`${name}: request body without a schema`);
      }
    }
    expect(gaps).toEqual([]);
    expect(operations).toBeGreaterThanOrEqual(35);
    // The bodies validated by hand are documented too.
    expect(paths['/v1/groups']!.post!.requestBody).toBeDefined();
    expect(paths['/v1/groups/{id}/launch']!.put!.requestBody).toBeDefined();
    expect(paths['/v1/groups/{id}/policies']!.post!.requestBody).toBeDefined();
    expect(paths['/v1/alarms/alertmanager']!.post!.requestBody).toBeDefined();
  });

  it('answers 400 naming every bad field, and 404 for unknown ids', async () => {
    const r = await call('POST', `${url}/v1/groups`, {
      config: { name: '', minEntities: 3, maxEntities: 2000, cooldown: -1 },
      launchConfig: { image: 'x', loadBalancers: [{ id: 'nope', port: 0 }], extra: 1 },
      policies: [
        { name: 'p', type: 'schedule', change: 1, desiredCapacity: 2, args: { cron: '* * *' } },
        { name: 'q', type: 'schedule', change: 1, args: { cron: '0 9 * * *', timezone: 'Mars/Base' } },
        { name: 'r', type: 'alarm', changePercent: 10, args: { alarmCriteria: {} } },
      ],
      bogus: true,
    });
    expect(r.status).toBe(400);
    const fields = r.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'bogus',
        'config.name',
        'config.cooldown',
        'launchConfig.hardwareProfile',
        'launchConfig.extra',
        'launchConfig.loadBalancers[0].port',
        'policies[0].desiredCapacity',
        'policies[0].args.cron',
        'policies[1].args.timezone',
        'policies[2].args.alarmCriteria',
      ]),
    );
    // Rules that need the scaler's configuration (its maxEntities limit, its balancers) are
    // checked once the body is well-formed, and name their fields the same way.
    const configured = await call('POST', `${url}/v1/groups`, {
      config: { name: 'x', minEntities: 3, maxEntities: 2000 },
      launchConfig: { image: 'x', hardwareProfile: 'h', loadBalancers: [{ id: 'nope', port: 80 }] },
    });
    expect(configured.status).toBe(400);
    expect(configured.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'config.maxEntities',
      'launchConfig.loadBalancers[0].id',
    ]);
    expect((await call('GET', `${url}/v1/groups/not-a-uuid`)).status).toBe(404);
    // A group or policy the caller cannot see is a 404 even with a bad body (guards before pipes):
    // a bad body must not tell another project's ids from random ones.
    const nobody = '00000000-0000-4000-8000-000000000000';
    const own = (await call('GET', `${url}/v1/groups`)).body.items[0].id as string;
    for (const [method, path] of [
      ['PUT', `/v1/groups/${nobody}/config`],
      ['PUT', `/v1/groups/${nobody}/launch`],
      ['POST', `/v1/groups/${nobody}/refresh`],
      ['PUT', `/v1/groups/${nobody}/lifecycle-hooks/h`],
      ['PUT', `/v1/groups/${nobody}/servers/${nobody}/protection`],
      ['POST', `/v1/groups/${nobody}/policies`],
      ['PUT', `/v1/groups/${own}/policies/${nobody}`],
      ['POST', `/v1/groups/${own}/policies/${nobody}/webhooks`],
    ] as const) {
      const bad = await call(method, `${url}${path}`, { bogus: true });
      expect([path, bad.status]).toEqual([path, 404]);
    }
    expect((await call('GET', `${url}/v1/groups/00000000-0000-4000-8000-000000000000/state`)).status).toBe(
      404,
    );
    expect((await call('POST', `${url}/v1/groups`, 'just a string')).status).toBe(400);
    expect((await call('GET', `${url}/v1/groups?limit=0`)).status).toBe(400);
    expect((await fetch(`${url}/v1/groups`)).status).toBe(401);
  });

  it('lists groups with keyset pagination', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const r = await call('GET', `${url}/v1/groups?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((g: { id: string }) => g.id));
      if (!r.body.nextCursor) break;
      cursor = r.body.nextCursor;
    }
    const all = await call('GET', `${url}/v1/groups`);
    expect(seen).toEqual(all.body.items.map((g: { id: string }) => g.id));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect((await call('GET', `${url}/v1/groups?cursor=garbage`)).status).toBe(400);
  });

  it('never stores a capability or a webhook secret in clear', async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT ready_webhook::text AS h FROM scaler.groups`);
      for (const r of rows) expect(r.h ?? '').not.toContain(SECRET);
      const hooks = await c.query(`SELECT capability_hash FROM scaler.webhooks`);
      for (const h of hooks.rows) expect(h.capability_hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await c.end();
    }
  });
});

function authHeaders(): Record<string, string> {
  return { authorization: `Bearer scaler-int-admin-token-0123456789`, 'content-type': 'application/json' };
}
