import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { LocalBroker, NepheleClient } from '@nephele/client';
import { freePort, ServiceProcess, TestResource, waitFor, WORKSPACE_ROOT } from '@nephele/testing';
import { localRecords as localRecordsIn, pgrep, startCpeWorld } from './cpe-world';

const run = promisify(execFile);
const TOKEN = 'deployables-e2e-admin-token-0123456789';
const QMF = path.join(WORKSPACE_ROOT, 'libs/bus/src/edge/fixtures/qmf_client.py');
// Service commands carry markers unique to this run, so pgrep finds this run's processes only.
const RUN = 100_000 + Math.floor(Math.random() * 800_000);
const mark = (n: number) => `${RUN * 10 + n}`;

interface View {
  id: string;
  status: string;
  reason: string;
  version: number;
  assemblies: {
    name: string;
    state: string;
    instanceId?: string;
    services: { name: string; state: string }[];
  }[];
}

/**
 * The Cloud Policy Engine's program flows, every service its own process on real PostgreSQL and
 * RabbitMQ (0-9-1 core bus, AMQP 1.0 edge through its plugin), the `local` driver launching real
 * agent processes, DPEs as worker processes of the CPE.
 */
describe('deployables kept healthy (E2E: CPE, DPE workers, agents, gateway, tracker, event log)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let dataDir: string;
  let world: LocalBroker;
  const procs: ServiceProcess[] = [];
  let eventLog: ServiceProcess;
  let api: NepheleClient;
  let pg: Client;
  let webPort: number;
  let restId: string;
  let xmlId: string;

  beforeAll(async () => {
    ({ db, vhost, dataDir, world, eventLog, api } = await startCpeWorld({
      tag: 'dpl',
      token: TOKEN,
      keyByte: 9,
      procs,
    }));
    webPort = await freePort();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  }, 400_000); // builds seven apps; a loaded 2-core machine needs minutes

  afterAll(async () => {
    for (const id of [restId, xmlId])
      if (id) await api.delete(`/v1/deployables/${id}`).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1500));
    const workers = (
      await pg.query(`SELECT pid FROM cpe.dpe_registry WHERE pid IS NOT NULL`).catch(() => ({ rows: [] }))
    ).rows;
    for (const p of [...procs].reverse()) await p.kill('SIGTERM');
    for (const w of workers as { pid: number }[]) kill(w.pid, 'SIGKILL');
    for (const r of localRecords()) if (r.process) kill(-r.process.pid, 'SIGKILL');
    for (const p of [...pgrep(`sleep ${RUN}`), ...pgrep(`http.server ${webPort}`)]) kill(p, 'SIGKILL');
    await pg?.end();
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
  const instancesOf = (deployableId: string) =>
    localRecords().filter((r) => r.metadata?.nephele_deployable === deployableId);
  const view = (id: string) => api.get<View>(`/v1/deployables/${id}`);
  /** Where a service runs (a running report wins over a stopped one left on another assembly). */
  const svc = (v: View, name: string) => {
    const all = v.assemblies
      .flatMap((a) => a.services.map((s) => ({ ...s, assembly: a.name })))
      .filter((s) => s.name === name);
    return all.find((s) => s.state === 'running') ?? all[0];
  };
  const untilRunning = (id: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const v = await view(id);
        return v.status === 'running' ? v : undefined;
      },
      { timeoutMs, intervalMs: 250, what: `deployable ${id} running` },
    );
  const events = async (subject: string, type?: string) =>
    await new NepheleClient({ url: eventLog.url, token: TOKEN }).all<{
      type: string;
      project?: string;
      data: Record<string, unknown>;
    }>(`/v1/events?subject=${subject}${type ? `&type=${type}` : ''}`);

  const yaml = (extra = '') => `
name: shop
pool: default
monitor: { heartbeatInterval: 1s, missedHeartbeats: 3 }
assemblies:
  - name: db1
    image: debian-12
    hardwareProfile: small
    escalation: { failures: 3, period: 10m }
    services:
      - name: store
        class: ocf
        provider: heartbeat
        type: Dummy
        parameters: { state: ${dataDir}/shop-store.state }
        monitor: { interval: 2s, timeout: 5s }
      - name: cache
        class: process
        command: ["sleep", "${mark(1)}"]
        monitor: { interval: 2s, timeout: 1s }
  - name: web1
    image: debian-12
    hardwareProfile: small
    escalation: { failures: 3, period: 10m }
    services:
      - name: httpd
        class: process
        command: ["python3", "-m", "http.server", "${webPort}", "--bind", "127.0.0.1"]
        parameters:
          DB_HOST: { ref: { assembly: db1, parameter: address } }
        monitor: { interval: 2s, timeout: 1s, tcp: { port: ${webPort} } }
      - name: worker
        class: process
        command: ["sleep", "${mark(3)}"]
        monitor: { interval: 2s, timeout: 1s }
        escalation: { failures: 2, period: 60s }
        placement: { assemblies: [web1, db1] }
${extra}
constraints:
  - order: { first: db1/store, then: web1/httpd }
`;

  it('1. creates a deployable over REST (YAML) and one over AMQP 1.0 (pacemaker-cloud XML): both running', async () => {
    const created = await api.request<View>('POST', '/v1/deployables', yaml(), {
      'content-type': 'application/yaml',
    });
    expect(created.status).toBe(201);
    restId = created.body.id;
    const xml = `<?xml version="1.0"?>
<deployable name="ledger">
  <assemblies>
    <assembly name="a1" image="debian-12" hardware_profile="small" escalation_failures="3" escalation_period="600">
      <services>
        <service name="journal" class="ocf" provider="heartbeat" type="Dummy" monitor_interval="2s" escalation_failures="3" escalation_period="60">
          <parameters><parameter name="state"><value>${dataDir}/ledger-journal.state</value></parameter></parameters>
        </service>
        <service name="api" class="process" command="sleep ${mark(5)}" monitor_interval="2s"/>
      </services>
    </assembly>
    <assembly name="a2" image="debian-12" hardware_profile="small">
      <services>
        <service name="report" class="process" command="sleep ${mark(6)}" monitor_interval="2s"/>
        <service name="audit" class="process" command="sleep ${mark(7)}" monitor_interval="2s"/>
      </services>
    </assembly>
  </assemblies>
  <constraints><service_dependancy id="journal-first" first="rsc_a1_journal" then="rsc_a2_report"/></constraints>
</deployable>`;
    const { stdout } = await run(
      '/usr/bin/python3',
      [
        QMF,
        'amqp://guest:guest@127.0.0.1:5672',
        '/queue/nephele.cpe',
        'deployable_create',
        JSON.stringify({ config: xml, format: 'xml', project: world.projectId }),
        '--vhost',
        vhost.name,
        '--reply-to',
        '/queue/reply.e2e',
        '--token',
        TOKEN,
      ],
      { timeout: 30_000 },
    );
    const reply = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(reply.properties['qmf.opcode']).toBe('_method_response');
    xmlId = reply.body._arguments.uuid;
    const [a, b] = await Promise.all([untilRunning(restId, 90_000), untilRunning(xmlId, 90_000)]);
    expect(a.assemblies.map((x) => x.state)).toEqual(['online', 'online']);
    expect(svc(a, 'web1/httpd')?.state).toBe('running');
    expect(b.assemblies.flatMap((x) => x.services.map((s) => s.state))).toEqual([
      'running',
      'running',
      'running',
      'running',
    ]);
    expect(instancesOf(restId)).toHaveLength(2);
    // The management interface reports the same.
    const { stdout: s2 } = await run('/usr/bin/python3', [
      QMF,
      'amqp://guest:guest@127.0.0.1:5672',
      '/queue/nephele.cpe',
      'deployable_status',
      JSON.stringify({ uuid: xmlId }),
      '--vhost',
      vhost.name,
      '--reply-to',
      '/queue/reply.e2e',
      '--token',
      TOKEN,
    ]);
    expect(JSON.parse(s2.trim().split('\n').pop()!).body._arguments.status).toBe('running');
  }, 150_000);

  it('2. restarts a killed service in place, then escalates it (move) past escalation_failures', async () => {
    // The worker may run on either allowed assembly (it starts wherever is up first and stays).
    const home = svc(await view(restId), 'web1/worker')!.assembly;
    const other = home === 'web1' ? 'db1' : 'web1';
    const [pid1] = pgrep(`sleep ${mark(3)}`);
    expect(pid1).toBeDefined();
    process.kill(pid1!, 'SIGKILL');
    const restarted = await waitFor(() => pgrep(`sleep ${mark(3)}`).find((p) => p !== pid1), {
      timeoutMs: 20_000,
      what: 'the worker restarted',
    });
    let v = await untilRunning(restId, 20_000);
    expect(svc(v, 'web1/worker')?.assembly).toBe(home);
    process.kill(restarted, 'SIGKILL');
    v = await waitFor(
      async () => {
        const x = await view(restId);
        return x.status === 'running' && svc(x, 'web1/worker')?.assembly === other ? x : undefined;
      },
      { timeoutMs: 30_000, what: `the worker moved to ${other}` },
    ).catch(async (e: Error) => {
      const story = await events(restId);
      const lines = story
        .filter((x) => /service\.|decision|status_changed|assembly\./.test(x.type))
        .map((x) => `${x.type} ${JSON.stringify(x.data).slice(0, 300)}`);
      throw new Error(`${e.message}\n${lines.join('\n')}\n${JSON.stringify(await view(restId))}`);
    });
    expect(svc(v, 'web1/worker')?.state).toBe('running');
    const decisions = await events(restId, 'nephele.dpe.decision');
    expect(
      decisions.some((e) => e.data.rung === 'restart-in-place' && e.data.service === 'web1/worker'),
    ).toBe(true);
    expect(
      decisions.some(
        (e) =>
          e.data.rung === 'move' &&
          e.data.service === 'web1/worker' &&
          /escalat|threshold|fail/i.test(String(e.data.explanation)),
      ),
    ).toBe(true);
    expect(
      (await events(restId, 'nephele.service.failed')).filter((e) => e.data.service === 'web1/worker').length,
    ).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('3. replaces an assembly whose agent was killed: heartbeat missed, services back', async () => {
    const before = await view(restId);
    const web1 = before.assemblies.find((a) => a.name === 'web1')!;
    const rec = instancesOf(restId).find((r) => r.metadata?.nephele_assembly === 'web1')!;
    const t0 = Date.now();
    process.kill(rec.process!.pid, 'SIGKILL');
    const missed = await waitFor(
      async () =>
        (await events(restId, 'nephele.assembly.heartbeat_missed')).find((e) => e.data.assembly === 'web1'),
      {
        timeoutMs: 15_000,
        what: 'heartbeat_missed for web1',
      },
    );
    expect(missed).toBeDefined();
    const detectedWithin = Date.now() - t0;
    expect(detectedWithin).toBeLessThan(15_000);
    const after = await waitFor(
      async () => {
        const v = await view(restId);
        const a = v.assemblies.find((x) => x.name === 'web1');
        return v.status === 'running' && a?.instanceId && a.instanceId !== web1.instanceId ? v : undefined;
      },
      { timeoutMs: 60_000, what: 'web1 replaced and the deployable running again' },
    );
    expect(svc(after, 'web1/httpd')?.state).toBe('running');
    expect((await events(restId, 'nephele.assembly.failed')).some((e) => e.data.assembly === 'web1')).toBe(
      true,
    );
  }, 120_000);

  it('4. restarts a SIGKILLed DPE; no duplicate instance at the provider', async () => {
    const countBefore = instancesOf(restId).filter((r) => r.process).length;
    const reg = (await pg.query(`SELECT epoch, pid FROM cpe.dpe_registry WHERE deployable_id = $1`, [restId]))
      .rows[0];
    process.kill(reg.pid, 'SIGKILL');
    await waitFor(
      async () => {
        const r = (
          await pg.query(`SELECT epoch, state FROM cpe.dpe_registry WHERE deployable_id = $1`, [restId])
        ).rows[0];
        return r.epoch > reg.epoch && r.state === 'running';
      },
      { timeoutMs: 30_000, what: 'the DPE restarted under a new epoch' },
    );
    await untilRunning(restId, 30_000);
    await new Promise((r) => setTimeout(r, 3000)); // any duplicate launch would show by now
    expect(instancesOf(restId).filter((r) => r.process).length).toBe(countBefore);
    expect((await events(restId, 'nephele.dpe.died')).length).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('5. applies an added service without touching the rest', async () => {
    const pids = [...pgrep(`sleep ${mark(1)}`), ...pgrep(`http.server ${webPort}`)];
    const v1 = await view(restId);
    const extra = `
  - name: batch
    image: debian-12
    hardwareProfile: small
    services:
      - name: runner
        class: process
        command: ["sleep", "${mark(9)}"]
        monitor: { interval: 2s, timeout: 1s }`;
    const r = await api.request<View>('PUT', `/v1/deployables/${restId}`, yaml(extra), {
      'content-type': 'application/yaml',
      'if-match': `W/"${v1.version}"`,
    });
    expect(r.body.version).toBe(v1.version + 1);
    const v2 = await waitFor(
      async () => {
        const v = await view(restId);
        return v.status === 'running' && svc(v, 'batch/runner')?.state === 'running' ? v : undefined;
      },
      { timeoutMs: 60_000, what: 'the new service running' },
    );
    expect(v2.assemblies.map((a) => a.name)).toEqual(['db1', 'web1', 'batch']);
    for (const p of pids) expect(() => process.kill(p, 0)).not.toThrow();
  }, 90_000);

  it('6. destroys it: instances gone, configuration gone, the whole story in the event log', async () => {
    await api.delete(`/v1/deployables/${restId}`);
    await expect(view(restId)).rejects.toMatchObject({ status: 404 });
    await waitFor(() => instancesOf(restId).length === 0, {
      timeoutMs: 30_000,
      what: 'every instance destroyed',
    }).catch(async (e: Error) => {
      // Say which instances are left and what the tracker and the gateway know of them.
      const left = instancesOf(restId).map((r) => r.id);
      const tracked = await pg.query(
        `SELECT id, owner, state, provider_instance_id, reason FROM state_tracker.instances WHERE owner LIKE $1`,
        [`deployable:${restId}/%`],
      );
      const launches = await pg
        .query(`SELECT * FROM iaas_gateway.launch_attempts WHERE owner LIKE $1`, [`deployable:${restId}/%`])
        .catch((x: Error) => ({ rows: [x.message] }));
      throw new Error(
        `${e.message}; left at the provider: ${JSON.stringify(left)}; tracker: ${JSON.stringify(tracked.rows)}; launches: ${JSON.stringify(launches.rows)}`,
      );
    });
    expect(pgrep(`sleep ${mark(1)}`)).toEqual([]);
    const all = await events(restId);
    const story = all.map((e) => e.type);
    // The DPE's and the CPE's events are filed under the deployable's project (its tokens read them).
    const filed = all.filter((e) => /^nephele\.(deployable|service|assembly|dpe)\./.test(e.type));
    expect(filed.length).toBeGreaterThan(5);
    expect(filed.filter((e) => e.project !== world.projectId)).toEqual([]);
    for (const t of [
      'nephele.audit.deployable.create',
      'nephele.dpe.started',
      'nephele.deployable.status_changed',
      'nephele.service.failed',
      'nephele.assembly.heartbeat_missed',
      'nephele.assembly.failed',
      'nephele.dpe.died',
      'nephele.audit.deployable.update',
      'nephele.audit.deployable.delete',
    ]) {
      expect(story).toContain(t);
    }
    restId = '';
  }, 60_000);
});
