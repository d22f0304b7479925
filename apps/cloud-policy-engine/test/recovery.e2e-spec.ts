import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { EdgeClient } from '@nephele/bus';
import { LocalBroker, NepheleClient } from '@nephele/client';
import { freePort, ServiceProcess, TestResource, waitFor } from '@nephele/testing';
import { localRecords as localRecordsIn, pgrep, startCpeWorld } from './cpe-world';

const TOKEN = 'recovery-e2e-admin-token-0123456789abc';
const RUN = 100_000 + Math.floor(Math.random() * 800_000);
const mark = (n: number) => `${RUN * 10 + n}`;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}
interface View {
  id: string;
  status: string;
  reason: string;
  version: number;
  unchanged?: boolean;
  conditions: Condition[];
  assemblies: {
    name: string;
    state: string;
    assemblyId: string;
    conditions: Condition[];
    services: { name: string; state: string; conditions: Condition[] }[];
  }[];
}

/**
 * Failure is terminal and explained, destroy is orderly, agents have an identity (issues 13 and
 * 12.2): every service its own process on real PostgreSQL and RabbitMQ (the AMQP 1.0 edge through
 * its plugin), the `local` driver launching real agents, DPEs as worker processes of the CPE.
 */
describe('recovery budgets, conditions, orderly destroy and agent identity (E2E)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let dataDir: string;
  let world: LocalBroker;
  const procs: ServiceProcess[] = [];
  let eventLog: ServiceProcess;
  let api: NepheleClient;
  let edgeUrl: string;
  let webPort: number;
  const created: string[] = [];

  beforeAll(async () => {
    ({ db, vhost, dataDir, world, eventLog, api, edgeUrl } = await startCpeWorld({
      tag: 'rcv',
      token: TOKEN,
      keyByte: 7,
      procs,
    }));
    webPort = await freePort();
  }, 400_000); // builds seven apps on a loaded machine

  afterAll(async () => {
    for (const id of created) await api.delete(`/v1/deployables/${id}`).catch(() => undefined);
    for (const p of [...procs].reverse()) await p.kill('SIGTERM');
    for (const r of localRecords()) if (r.process) kill(-r.process.pid, 'SIGKILL');
    for (const p of [...pgrep(String(RUN)), ...pgrep(`http.server ${webPort}`)]) kill(p, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    await Promise.all([db?.drop(), vhost?.drop()]);
  }, 60_000);

  function kill(pid: number, sig: NodeJS.Signals): void {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
  const localRecords = () => localRecordsIn(dataDir, world.providerId);
  const instancesOf = (id: string) => localRecords().filter((r) => r.metadata?.nephele_deployable === id);
  const view = (id: string) => api.get<View>(`/v1/deployables/${id}`);
  const until = (id: string, status: string, timeoutMs: number) =>
    waitFor(
      async () => {
        const v = await view(id);
        return v.status === status ? v : undefined;
      },
      { timeoutMs, intervalMs: 300, what: `deployable ${id} ${status}` },
    );
  const events = (subject: string, type?: string) =>
    new NepheleClient({ url: eventLog.url, token: TOKEN }).all<{
      type: string;
      data: Record<string, unknown>;
    }>(`/v1/events?subject=${subject}${type ? `&type=${type}` : ''}`);
  const create = async (yaml: string) => {
    const r = await api.request<View>('POST', '/v1/deployables', yaml, {
      'content-type': 'application/yaml',
    });
    if (r.status === 201) created.push(r.body.id);
    return r;
  };

  it('refuses an image or hardware profile the pool does not have (422, naming the field)', async () => {
    const r = await api
      .request(
        'POST',
        '/v1/deployables',
        `name: badimage\nassemblies:\n  - { name: a1, image: nosuchimage, hardwareProfile: small }\n`,
        {
          'content-type': 'application/yaml',
        },
      )
      .catch((e: { status: number; problem: unknown }) => e);
    expect(r).toMatchObject({ status: 422 });
    expect(JSON.stringify((r as { problem: unknown }).problem)).toMatch(
      /assemblies\[0\]\.image.*unknown image nosuchimage/,
    );
  });

  const slowWeb = () => `
name: slowweb
monitor: { heartbeatInterval: 1s, missedHeartbeats: 3 }
assemblies:
  - name: web1
    image: debian-12
    hardwareProfile: small
    services:
      - name: httpd
        class: process
        command: ["sh", "-c", "sleep 3; exec python3 -m http.server ${webPort} --bind 127.0.0.1 # ${mark(1)}"]
        monitor: { interval: 2s, timeout: 1s, tcp: { port: ${webPort} } }
        escalation: { failures: 3, period: 60s }
`;
  let web: View;

  it('a service that binds after 3 s (monitor timeout 1 s) reaches running: start has its own timeout', async () => {
    const r = await create(slowWeb());
    expect(r.status).toBe(201);
    web = await until(r.body.id, 'running', 90_000);
    expect(web.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    expect((await events(web.id, 'nephele.service.failed')).length).toBe(0);
  }, 120_000);

  it('re-applying the unchanged document stores no new version (200, unchanged)', async () => {
    const r = await api.request<View>('PUT', `/v1/deployables/${web.id}`, slowWeb(), {
      'content-type': 'application/yaml',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: web.version, unchanged: true });
  });

  it('refuses forged agent commands, statuses, heartbeats and epochs, audits them, and the real DPE keeps control', async () => {
    const v = await view(web.id);
    const assemblyId = v.assemblies[0]!.assemblyId;
    const forger = new EdgeClient({ url: edgeUrl, id: `forger-${RUN}` });
    await forger.start();
    const proof = path.join(dataDir, `forged-${RUN}`);
    try {
      // A command as root on the assembly, with a huge epoch to fence the real DPE out.
      const reply = await forger.request(
        `nephele.agent.${assemblyId}`,
        {
          kind: 'command',
          action: 'start',
          requestId: `forged-${RUN}`,
          epoch: 2 ** 31 - 1,
          service: {
            name: 'evil',
            class: 'process',
            command: `touch ${proof}`,
            monitor: { intervalMs: 0, timeoutMs: 1000 },
          },
        },
        { timeoutMs: 20_000 },
      );
      expect(reply.body).toMatchObject({ kind: 'command-refused', highestEpoch: expect.any(Number) });
      expect((reply.body as { highestEpoch: number }).highestEpoch).toBeLessThan(1000);
      // A failed status, and a heartbeat following a huge epoch, in the agent's name.
      const at = new Date().toISOString();
      await forger.send(`nephele.agent.events.${web.id}`, {
        kind: 'service-status',
        assemblyId,
        deployableId: web.id,
        service: 'web1.httpd',
        state: 'failed',
        reason: 'forged',
        at,
      });
      await forger.send(`nephele.agent.events.${web.id}`, {
        kind: 'heartbeat',
        assemblyId,
        deployableId: web.id,
        seq: 1,
        sentAt: at,
        services: { 'web1.httpd': 'failed' },
        epoch: 2 ** 31 - 1,
      });
    } finally {
      await forger.close();
    }
    const audits = await waitFor(
      async () => {
        const e = await events(web.id, 'nephele.audit.agent.refused');
        return e.length ? e : undefined;
      },
      { timeoutMs: 20_000, what: 'the forgeries audited' },
    );
    expect(audits[0]!.data).toMatchObject({ deployableId: web.id, assemblyId });
    expect(existsSync(proof)).toBe(false);
    expect((await events(web.id, 'nephele.service.failed')).length).toBe(0);
    // The real DPE still acts: kill the service, it is restarted.
    const before = pgrep(`http.server ${webPort}`);
    expect(before.length).toBeGreaterThan(0);
    for (const p of before) kill(p, 'SIGKILL');
    await waitFor(async () => (await events(web.id, 'nephele.service.started')).length >= 2, {
      timeoutMs: 60_000,
      what: 'the real DPE restarted the service',
    });
    await until(web.id, 'running', 60_000);
    expect((await events(web.id, 'nephele.dpe.died')).length).toBe(0);
  }, 120_000);

  it('a service whose binary or OCF agent is missing reaches failed, says why, and stays failed (no more instances)', async () => {
    const missing = await create(`
name: nobinary
monitor: { heartbeatInterval: 1s, missedHeartbeats: 3 }
assemblies:
  - name: a1
    image: debian-12
    hardwareProfile: small
    services:
      - name: tool
        class: process
        command: ["/nonexistent/nephele-tool-${mark(2)}", "serve"]
        monitor: { interval: 2s, timeout: 1s }
`);
    const noAgent = await create(`
name: noagent
monitor: { heartbeatInterval: 1s, missedHeartbeats: 3 }
assemblies:
  - name: a1
    image: debian-12
    hardwareProfile: small
    services:
      - name: store
        class: ocf
        provider: heartbeat
        type: NoSuchAgent${mark(3)}
        monitor: { interval: 2s, timeout: 2s }
`);
    const [a, b] = await Promise.all([
      until(missing.body.id, 'failed', 90_000),
      until(noAgent.body.id, 'failed', 90_000),
    ]);
    const reasons = (v: View) =>
      [
        ...v.conditions,
        ...v.assemblies.flatMap((x) => [...x.conditions, ...x.services.flatMap((s) => s.conditions)]),
      ].map((c) => `${c.type}/${c.status}/${c.reason}: ${c.message}`);
    expect(reasons(a).join('\n')).toMatch(/Failed\/True\/BinaryNotFound: .*nephele-tool/);
    expect(reasons(b).join('\n')).toMatch(/Failed\/True\/AgentNotInstalled: .*install resource-agents/);
    const instances = [instancesOf(a.id).length, instancesOf(b.id).length];
    expect(instances).toEqual([1, 1]);
    await new Promise((r) => setTimeout(r, 8000));
    expect([(await view(a.id)).status, (await view(b.id)).status]).toEqual(['failed', 'failed']);
    expect([instancesOf(a.id).length, instancesOf(b.id).length]).toEqual(instances);
    // The user acts: retry starts the budgets again (and it fails again, for the same reason).
    const retried = await api.request<View>('POST', `/v1/deployables/${a.id}/retry`);
    expect(retried.status).toBe(202);
  }, 150_000);

  it('destroy stops every service through its agent in reverse order (OCF Dummy state files gone) before the instances go', async () => {
    const first = path.join(dataDir, `first-${RUN}.state`);
    const second = path.join(dataDir, `second-${RUN}.state`);
    const r = await create(`
name: dummies
monitor: { heartbeatInterval: 1s, missedHeartbeats: 3 }
assemblies:
  - name: a1
    image: debian-12
    hardwareProfile: small
    services:
      - { name: first, class: ocf, provider: heartbeat, type: Dummy, parameters: { state: ${first} }, monitor: { interval: 2s, timeout: 5s } }
  - name: a2
    image: debian-12
    hardwareProfile: small
    services:
      - { name: second, class: ocf, provider: heartbeat, type: Dummy, parameters: { state: ${second} }, monitor: { interval: 2s, timeout: 5s } }
constraints:
  - order: { first: a1/first, then: a2/second }
`);
    expect(r.status).toBe(201);
    await until(r.body.id, 'running', 90_000);
    expect([existsSync(first), existsSync(second)]).toEqual([true, true]);
    await api.delete(`/v1/deployables/${r.body.id}`);
    // The stops ran before DELETE answered: the instances were not yet asked to go.
    expect([existsSync(first), existsSync(second)]).toEqual([false, false]);
    const stopped = await waitFor(
      async () => {
        const e = (await events(r.body.id, 'nephele.service.stopped')).filter((x) =>
          /destroyed/.test(String(x.data.reason)),
        );
        return e.length >= 2 ? e : undefined;
      },
      { timeoutMs: 20_000, what: 'both stops in the event log' },
    );
    expect(stopped.map((e) => e.data.service).sort()).toEqual(['a1/first', 'a2/second']);
    await waitFor(() => instancesOf(r.body.id).length === 0, {
      timeoutMs: 60_000,
      what: 'instances destroyed',
    }).catch(async (e: Error) => {
      const pg = new Client({ connectionString: db.url });
      await pg.connect();
      const tracked = await pg.query(
        `SELECT id, owner, state, reason FROM state_tracker.instances WHERE owner LIKE $1`,
        [`deployable:${r.body.id}/%`],
      );
      const story = await new NepheleClient({ url: eventLog.url, token: TOKEN }).all<object>(
        `/v1/events?subject=${r.body.id}`,
      );
      await pg.end();
      throw new Error(
        `${e.message}; tracker: ${JSON.stringify(tracked.rows)}; events: ${JSON.stringify(story).slice(0, 8000)}`,
      );
    });
    created.splice(created.indexOf(r.body.id), 1);
  }, 150_000);
});
