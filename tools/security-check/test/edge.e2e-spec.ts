import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApps, freePort, waitFor } from '@nephele/testing';
import { EdgePeer, pythonQmf, startAllInOne } from './edge-peer';

const TOKEN = 'edge-security-admin-token-0123456789abcdef';

/** Resident memory of a process (kB), from /proc. */
function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/**
 * The all-in-one's AMQP 1.0 edge attacked from outside (issue 12): who may log in, what a token
 * may do over the management interface and which addresses it may use, bounds, and revocation.
 */
describe('AMQP 1.0 edge of the all-in-one (E2E security)', () => {
  let svc: Awaited<ReturnType<typeof startAllInOne>>;
  let dir: string;
  let edgePort: number;
  let projectA: string;
  let projectB: string;
  let memberA: { id: string; token: string };
  let viewerA: { id: string; token: string };
  const peers: EdgePeer[] = [];

  const api = async (method: string, p: string, body?: unknown, token = TOKEN) => {
    const r = await fetch(`${svc.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as any) : undefined };
  };
  const tokenFor = async (project: string, role: string) =>
    (await api('POST', '/v1/tokens', { project, role, name: `edge-${role}-${Date.now()}` })).body as {
      id: string;
      token: string;
    };
  const login = async (password: string) => {
    const p = await EdgePeer.connect(edgePort, { username: 'anyone', password });
    peers.push(p);
    return p;
  };
  const deployable = (name: string) =>
    JSON.stringify({
      name,
      pool: 'default',
      assemblies: [{ name: 'a1', image: 'sleeper', hardwareProfile: 'small', services: [] }],
    });
  const url = (password: string) => `amqp://user:${encodeURIComponent(password)}@127.0.0.1:${edgePort}`;

  beforeAll(async () => {
    buildApps('nephele', 'agent');
    dir = mkdtempSync(path.join(tmpdir(), 'nephele-edge-sec-'));
    edgePort = await freePort();
    svc = await startAllInOne({
      PORT: String(await freePort()),
      NEPHELE_EDGE_PORT: String(edgePort),
      NEPHELE_DATA_DIR: path.join(dir, 'data'),
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      NEPHELE_EDGE_MAX_CONNECTIONS: '8',
      LOG_LEVEL: 'warn',
    });
    await waitFor(
      async () => ((await api('GET', '/v1/projects?name=default')).body?.items ?? []).length === 1,
      { timeoutMs: 30_000, what: 'the seeded default project' },
    );
    projectA = (await api('GET', '/v1/projects?name=default')).body.items[0].id;
    projectB = (await api('POST', '/v1/projects', { name: `edge-b-${Date.now()}` })).body.id;
    memberA = await tokenFor(projectA, 'member');
    viewerA = await tokenFor(projectA, 'viewer');
  }, 330_000);

  afterEach(() => {
    for (const p of peers.splice(0)) p.close();
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await svc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses anonymous, SASL-less and wrong-token clients; a token logs in (any username)', async () => {
    const anonymous = await pythonQmf(`amqp://127.0.0.1:${edgePort}`, 'deployable_list', {}, [
      '--mech',
      'ANONYMOUS',
    ]);
    expect(anonymous.error).toBeDefined();
    expect(anonymous.body).toBeUndefined();
    const wrong = await pythonQmf(url('nph_not-a-token'), 'deployable_list', {});
    expect(wrong.error).toBeDefined();
    expect(wrong.body).toBeUndefined();
    await expect(EdgePeer.connect(edgePort)).rejects.toThrow(/refused/);
    await expect(EdgePeer.connect(edgePort, { password: '' })).rejects.toThrow(/refused/);

    const ok = await pythonQmf(url(memberA.token), 'deployable_list', {});
    expect(ok.properties['qmf.opcode']).toBe('_method_response');
  });

  it('a member acts in its own project only; a viewer reads; only an admin names a project, which must exist', async () => {
    const admin = await login(TOKEN);
    // An admin names a project (by name or id).
    const inA = await admin.qmf('deployable_create', {
      config: deployable('edge-admin-made'),
      project: 'default',
    });
    expect(inA.opcode).toBe('_method_response');
    await admin.qmf('deployable_stop', { uuid: inA.body._arguments.uuid, project: projectA });

    const member = await login(memberA.token);
    const elsewhere = await member.qmf('deployable_create', {
      config: deployable('sneaky'),
      project: projectB,
    });
    expect(elsewhere.opcode).toBe('_exception');
    expect(elsewhere.body._values).toMatchObject({ error_code: 403 });
    expect(elsewhere.body._values.error_text).toMatch(/own project/);
    const own = await member.qmf('deployable_create', { config: deployable('edge-in-a') });
    expect(own.opcode).toBe('_method_response');
    const aId = own.body._arguments.uuid;
    await member.qmf('deployable_stop', { uuid: aId });
    expect((await member.qmf('deployable_list', { project: projectA })).opcode).toBe('_method_response');
    const names = (await member.qmf('deployable_list', {})).body._arguments.deployables.map(
      (d: { name: string }) => d.name,
    );
    expect(names).toEqual(expect.arrayContaining(['edge-in-a', 'edge-admin-made']));

    // Project B's member sees nothing of project A and cannot act there.
    const memberB = await login((await tokenFor(projectB, 'member')).token);
    // (rhea's decoder turns the empty list of the reply into nulls: no deployable either way.)
    const seenByB = (await memberB.qmf('deployable_list', {})).body._arguments.deployables;
    expect(seenByB.filter(Boolean)).toEqual([]);
    for (const method of ['deployable_status', 'deployable_stop', 'deployable_destroy', 'deployable_start']) {
      const r = await memberB.qmf(method, { uuid: aId });
      expect([method, r.body._values?.error_code]).toEqual([method, 404]);
    }
    const intoA = await memberB.qmf('deployable_create', { config: deployable('sneaky'), project: projectA });
    expect(intoA.body._values).toMatchObject({ error_code: 403 });
    expect((await api('GET', `/v1/deployables?project=${projectB}`)).body.items).toEqual([]);

    const viewer = await login(viewerA.token);
    const create = await viewer.qmf('deployable_create', { config: deployable('viewer-made') });
    expect(create.body._values).toMatchObject({ error_code: 403 });
    expect(create.body._values.error_text).toMatch(/viewer/);
    expect((await viewer.qmf('deployable_stop', { name: 'edge-in-a' })).body._values.error_code).toBe(403);
    expect((await viewer.qmf('deployable_status', { name: 'edge-in-a' })).opcode).toBe('_method_response');

    const nowhere = await admin.qmf('deployable_list', { project: '0b0b0b0b-0000-4000-8000-000000000000' });
    expect(nowhere.body._values).toMatchObject({ error_code: 404 });
    expect(nowhere.body._values.error_text).toMatch(/no such project/);
    expect((await admin.qmf('deployable_list', { project: 'no-such-project' })).body._values.error_code).toBe(
      404,
    );
  });

  it('a token may use only nephele.cpe and its own reply address: not agents’, not others’ replies', async () => {
    const member = await login(memberA.token);
    const assembly = `${projectB}.a1.1`;
    await expect(member.receive(`nephele.agent.${assembly}`)).rejects.toMatchObject({
      condition: 'amqp:unauthorized-access',
    });
    const forged = await member.send(`nephele.agent.${assembly}`, { body: { kind: 'start', epoch: 1e9 } });
    expect(forged).toMatchObject({ accepted: false, condition: 'amqp:unauthorized-access' });
    const status = await member.send(`nephele.agent.events.${projectB}`, { body: { kind: 'heartbeat' } });
    expect(status).toMatchObject({ accepted: false, condition: 'amqp:unauthorized-access' });
    // The DPE's reply address (where agents answer it) and arbitrary queues are not a client's.
    await expect(member.receive('reply.dpe-inline')).rejects.toMatchObject({
      condition: 'amqp:resource-locked',
    });
    await expect(member.receive('anything')).rejects.toMatchObject({ condition: 'amqp:unauthorized-access' });
    const park = await member.send('parking-lot', { body: 'x' });
    expect(park).toMatchObject({ accepted: false, condition: 'amqp:unauthorized-access' });
    // Another client's reply address: neither read nor written.
    const other = await login(memberA.token);
    await other.qmf('deployable_list', {});
    await expect(member.receive(other.replyTo)).rejects.toMatchObject({ condition: 'amqp:resource-locked' });
    expect(await member.send(other.replyTo, { body: 'forged reply' })).toMatchObject({ accepted: false });

    // Nobody logs in as an agent without its assembly's credential.
    const admin = await login(TOKEN);
    const made = await admin.qmf('deployable_create', { config: deployable('edge-scope') });
    await admin.qmf('deployable_stop', { uuid: made.body._arguments.uuid });
    const assemblyOfA = `${made.body._arguments.uuid}.a1.1`;
    for (const password of ['', 'guessed']) {
      await expect(EdgePeer.connect(edgePort, { username: assemblyOfA, password })).rejects.toThrow(
        /refused/,
      );
    }
    // A token with an assembly's id as username is still only a management client.
    const posing = await EdgePeer.connect(edgePort, { username: assemblyOfA, password: memberA.token });
    peers.push(posing);
    await expect(posing.receive(`nephele.agent.${assemblyOfA}`)).rejects.toMatchObject({
      condition: 'amqp:unauthorized-access',
    });
  });

  it('agents started by the local driver log in with their assembly credential and run their services', async () => {
    const admin = await login(TOKEN);
    const doc = JSON.stringify({
      name: 'edge-agents',
      pool: 'default',
      monitor: { heartbeatInterval: '1s', missedHeartbeats: 3 },
      assemblies: [
        {
          name: 'a1',
          image: 'debian-12',
          hardwareProfile: 'small',
          services: [
            { name: 'nap', class: 'process', command: ['sleep', '600'], monitor: { interval: '2s' } },
          ],
        },
      ],
    });
    const made = await admin.qmf('deployable_create', { config: doc });
    expect(made.opcode).toBe('_method_response');
    const uuid = made.body._arguments.uuid;
    await waitFor(
      async () => (await admin.qmf('deployable_status', { uuid })).body._arguments?.status === 'running',
      { timeoutMs: 90_000, what: 'the deployable running (its agent connected)' },
    );
    expect((await admin.qmf('deployable_destroy', { uuid })).opcode).toBe('_method_response');
  });

  it('caps connections per credential', async () => {
    const viewer: EdgePeer[] = [];
    let refused: any;
    for (let i = 0; i < 12 && !refused; i++) {
      try {
        viewer.push(await login(viewerA.token));
      } catch (e) {
        refused = e;
      }
    }
    expect(refused).toMatchObject({ condition: 'amqp:resource-limit-exceeded' });
    expect(viewer.length).toBeLessThanOrEqual(8);
    for (const p of viewer) p.close();
  });

  it('refuses a 64 MB message without buffering it, and stays up', async () => {
    const before = rssKb(svc.child.pid!);
    const member = await login(memberA.token);
    const big = Buffer.alloc(64 * 1024 * 1024, 0x61);
    const r = await member.send('nephele.cpe', {
      body: { _method_name: 'deployable_list', _arguments: { pad: big.toString('latin1') } },
      application_properties: { 'qmf.opcode': '_method_request' },
    });
    expect(r.accepted).toBe(false);
    await waitFor(async () => member.closed !== undefined, {
      timeoutMs: 20_000,
      what: 'the connection closed',
    });
    expect(member.closed?.condition ?? 'socket dropped').toMatch(
      /message-size-exceeded|socket dropped|disconnected/,
    );
    const after = rssKb(svc.child.pid!);
    console.log(`edge: 64 MB message refused; server RSS ${before} kB → ${after} kB`);
    expect(after - before).toBeLessThan(48 * 1024);
    // A normal request on a new connection still works.
    expect((await (await login(memberA.token)).qmf('deployable_list', {})).opcode).toBe('_method_response');
  });

  it('a revoked token is refused at once and its open connection closed', async () => {
    const t = await tokenFor(projectA, 'member');
    const peer = await login(t.token);
    expect((await peer.qmf('deployable_list', {})).opcode).toBe('_method_response');
    const revokedAt = Date.now();
    expect((await api('DELETE', `/v1/tokens/${t.id}`)).status).toBe(204);
    await waitFor(async () => peer.closed !== undefined, {
      timeoutMs: 10_000,
      what: 'the revoked connection closed',
    });
    console.log(
      `edge: revoked token's connection closed ${peer.closed!.at - revokedAt} ms after the revocation`,
    );
    expect(peer.closed).toMatchObject({ condition: 'amqp:unauthorized-access' });
    await expect(EdgePeer.connect(edgePort, { password: t.token })).rejects.toThrow(/refused/);
  });
});
