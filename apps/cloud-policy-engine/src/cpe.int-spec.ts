import * as amqp from 'amqplib';
import { INestApplication } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { RabbitMqBus } from '@nephele/bus';
import { CloudEvent, InstanceQuery, TokenIntrospect, Topology } from '@nephele/contracts';
import { createHttpApp } from '@nephele/service-kit';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  TestResource,
  waitFor,
  WORKSPACE_ROOT,
} from '@nephele/testing';
import { CpeAppModule } from './app.module';
import { loadCpeConfig } from './config/env';
import { DeployablesRepository } from './deployables/deployables.repository';

const run = promisify(execFile);
const TOKEN = 'cpe-int-admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const examples = path.resolve(WORKSPACE_ROOT, 'examples');
const QMF = path.join(WORKSPACE_ROOT, 'libs/bus/src/edge/fixtures/qmf_client.py');

/** The CPE against real PostgreSQL, RabbitMQ (0-9-1 and its AMQP 1.0 plugin) and DPE worker processes. */
describe('cloud policy engine (real PostgreSQL + RabbitMQ + DPE processes)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let app: INestApplication;
  let url: string;
  let pg: Client;
  let conn: amqp.ChannelModel;
  let peer: RabbitMqBus;
  const events: CloudEvent[] = [];

  beforeAll(async () => {
    buildApps('dpe-worker');
    [db, vhost] = await Promise.all([createTestDatabase('cpe'), createTestVhost('cpe')]);
    const amqp10 = `amqp://guest:guest@127.0.0.1:5672/${vhost.name}`;
    conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    await ch.assertExchange(Topology.events, 'topic', { durable: true });
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, Topology.events, 'nephele.#');
    await ch.consume(q.queue, (m) => m && events.push(JSON.parse(m.content.toString())), { noAck: true });
    // The state tracker's side of instance queries (this suite runs no instances).
    peer = new RabbitMqBus({ url: vhost.url, service: 'cpetest' });
    await peer.start();
    await peer.respond('cpetest.instances', [InstanceQuery.type], async () => ({ items: [] }));
    // The config-api's side of token checks: no token but the bootstrap one exists here.
    await peer.respond('cpetest.tokens', [TokenIntrospect.type], async () => null);
    app = await createHttpApp(
      CpeAppModule.forRoot(
        loadCpeConfig({
          DATABASE_URL: db.url,
          AMQP_URL: vhost.url,
          AMQP10_URL: amqp10,
          NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
          CPE_RUNTIME: 'process',
          CPE_DEFAULT_PROJECT: 'proj-amqp',
          DPE_HEARTBEAT_TIMEOUT_MS: '2000',
          DPE_WORKER_MAIN: path.join(WORKSPACE_ROOT, 'dist/apps/dpe-worker/main.js'),
          LOG_LEVEL: 'warn',
        }),
      ),
      { title: 'test' },
    );
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await app?.close();
    // DPE workers outlive a CPE on purpose (a standby adopts them): stop this test's workers.
    const { rows } = await pg.query(`SELECT pid FROM cpe.dpe_registry WHERE pid IS NOT NULL`);
    for (const r of rows) {
      try {
        process.kill(r.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await pg?.end();
    await conn?.close();
    await peer?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const post = (p: string, body: string, type: string) =>
    fetch(`${url}${p}`, { method: 'POST', headers: { ...auth, 'content-type': type }, body });
  const qmf = async (method: string, args: object, extra: string[] = []) => {
    const { stdout } = await run(
      '/usr/bin/python3',
      [
        QMF,
        'amqp://guest:guest@127.0.0.1:5672',
        '/queue/nephele.cpe',
        method,
        JSON.stringify(args),
        '--vhost',
        vhost.name,
        '--reply-to',
        '/queue/reply.cpe-test',
        '--token',
        TOKEN,
        ...extra,
      ],
      { timeout: 30_000 },
    );
    return JSON.parse(stdout.trim().split('\n').pop()!);
  };
  const registry = async (id: string) =>
    (await pg.query(`SELECT * FROM cpe.dpe_registry WHERE deployable_id = $1`, [id])).rows[0];

  let restId: string;

  it('creates a deployable from Nephele YAML over REST and starts its DPE as a process', async () => {
    const r = await post(
      '/v1/deployables?project=proj-rest',
      readFileSync(path.join(examples, 'shop.deployable.yaml'), 'utf8'),
      'application/yaml',
    );
    expect(r.status).toBe(201);
    const body = (await r.json()) as any;
    restId = body.id;
    expect(r.headers.get('location')).toBe(`/v1/deployables/${restId}`);
    expect(r.headers.get('etag')).toBe('W/"1"');
    expect(body).toMatchObject({ name: 'shop', project: 'proj-rest', version: 1, desired: 'started' });
    const reg = await waitFor(
      async () => ((await registry(restId))?.state === 'running' ? registry(restId) : undefined),
      {
        timeoutMs: 20_000,
        what: 'the DPE heartbeating',
      },
    );
    expect(reg.epoch).toBe(1);
    expect(events.some((e) => e.type === 'nephele.dpe.started' && e.subject === restId)).toBe(true);
  });

  it('accepts pacemaker-cloud XML over AMQP 1.0 from a real Python (qpid-proton) client', async () => {
    const xml = readFileSync(path.join(examples, 'shop.pcmk-cloud.xml'), 'utf8').replace(
      'name="shop"',
      'name="shop-xml"',
    );
    const r = await qmf('deployable_create', { config: xml, format: 'xml' });
    expect(r.properties['qmf.opcode']).toBe('_method_response');
    expect(r.correlation_id).toBe('py-corr-1');
    expect(r.body._arguments.name).toBe('shop-xml');
    const list = await qmf('deployable_list', {});
    expect(list.body._arguments.deployables.map((d: { name: string }) => d.name)).toContain('shop-xml');
    const status = await qmf('deployable_status', { name: 'shop-xml' });
    expect(['starting', 'running', 'degraded', 'recovering']).toContain(status.body._arguments.status);
  });

  it('answers bad management requests with a clear _exception, and rejects one without reply-to', async () => {
    const malformed = await qmf('deployable_create', {
      config: '<deployable name="x"><assemblies></deployable>',
      format: 'xml',
    });
    expect(malformed.properties['qmf.opcode']).toBe('_exception');
    expect(malformed.body._values.error_code).toBe(400);
    expect(malformed.body._values.error_text).toMatch(/xml/i);
    const bomb = await qmf('deployable_create', {
      config:
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><deployable name="&b;"/>',
    });
    expect(bomb.body._values.error_code).toBe(400);
    expect(bomb.body._values.error_text).toMatch(/DOCTYPE|ENTITY/);
    const unknown = await qmf('deployable_frobnicate', {});
    expect(unknown.body._values.error_text).toMatch(/unknown method/);
    const missing = await qmf('deployable_status', { name: 'no-such-deployable' });
    expect(missing.body._values.error_code).toBe(404);
    // Through RabbitMQ the broker accepts the message; the CPE cannot answer it (no reply-to), so it
    // rejects the delivery (logged) and goes on serving.
    // Through RabbitMQ the request says who sends it (application property authorization).
    const anonymous = await qmf('deployable_list', {}, ['--token', '']);
    expect(anonymous.body._values).toMatchObject({ error_code: 401 });
    expect(anonymous.body._values.error_text).toMatch(/authentication required/);
    const forged = await qmf('deployable_list', {}, ['--token', 'nph_not-a-token']);
    expect(forged.body._values).toMatchObject({ error_code: 401, error_text: 'invalid or revoked token' });
    const noReply = await qmf('deployable_list', {}, ['--no-reply-to']);
    expect(noReply).toEqual({ accepted: true });
    const after = await qmf('deployable_list', {});
    expect(after.properties['qmf.opcode']).toBe('_method_response');
  });

  it('refuses bad REST input with the field and reason', async () => {
    const unknownField = await post(
      '/v1/deployables?project=p',
      JSON.stringify({ name: 'x', colour: 'blue', assemblies: [] }),
      'application/json',
    );
    expect(unknownField.status).toBe(400);
    expect(((await unknownField.json()) as any).errors.map((e: { field: string }) => e.field)).toContain(
      'colour',
    );
    const badRef = await post(
      '/v1/deployables?project=p',
      JSON.stringify({
        name: 'badref',
        assemblies: [
          {
            name: 'a1',
            image: 'i',
            hardwareProfile: 'h',
            services: [
              {
                name: 's',
                class: 'process',
                command: ['x'],
                parameters: { d: { ref: { assembly: 'nope', parameter: 'address' } } },
              },
            ],
          },
        ],
      }),
      'application/json',
    );
    expect(badRef.status).toBe(400);
    expect(((await badRef.json()) as any).errors[0]).toEqual({
      field: 'assemblies[0].services[0].parameters.d.ref.assembly',
      message: 'unknown assembly nope',
    });
    const dup = await post(
      '/v1/deployables?project=proj-rest',
      readFileSync(path.join(examples, 'shop.deployable.yaml'), 'utf8'),
      'application/yaml',
    );
    expect(dup.status).toBe(409);
  });

  it('takes service groups through the YAML intake to the DPE, which shows each service with its group; refuses a bad group naming the field', async () => {
    const yaml = (groups: string) => `
name: grouped
assemblies:
  - name: db1
    image: debian-12
    hardwareProfile: small
    services:
      - { name: store, class: process, command: [store] }
  - name: web1
    image: debian-12
    hardwareProfile: small
    services:
      - { name: cache, class: process, command: [cache] }
      - { name: httpd, class: process, command: [httpd] }
groups:
${groups}
`;
    const spanning = await post(
      '/v1/deployables?project=proj-groups',
      yaml('  - { name: web, services: [web1/httpd, db1/store] }'),
      'application/yaml',
    );
    expect(spanning.status).toBe(400);
    expect(((await spanning.json()) as any).errors).toEqual([
      {
        field: 'groups[0].services[1]',
        message: 'a group runs on one assembly: db1/store is not on web1, where web1/httpd is',
      },
    ]);
    const unknown = await post(
      '/v1/deployables?project=proj-groups',
      yaml('  - { name: web, services: [web1/httpd, web1/x] }'),
      'application/yaml',
    );
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).errors).toEqual([
      { field: 'groups[0].services[1]', message: 'no service "x" on assembly web1' },
    ]);

    const r = await post(
      '/v1/deployables?project=proj-groups',
      yaml('  - { name: web, services: [web1/httpd, web1/cache] }'),
      'application/yaml',
    );
    expect(r.status).toBe(201);
    const id = ((await r.json()) as any).id as string;
    const { rows } = await pg.query(
      `SELECT document FROM cpe.deployable_versions WHERE deployable_id = $1 ORDER BY version DESC LIMIT 1`,
      [id],
    );
    expect(rows[0].document.groups).toEqual([{ name: 'web', services: ['web1/httpd', 'web1/cache'] }]);
    // The DPE process read the groups from the stored document: its snapshot names each service's group.
    const services = await waitFor(
      async () => {
        const v = (await (await fetch(`${url}/v1/deployables/${id}`, { headers: auth })).json()) as any;
        const all = (v.assemblies ?? []).flatMap((a: any) => a.services ?? []);
        return all.length === 3 ? all : undefined;
      },
      { timeoutMs: 20_000, what: 'the DPE snapshot with its services' },
    );
    expect(
      Object.fromEntries(services.map((s: { name: string; group?: string }) => [s.name, s.group ?? null])),
    ).toEqual({ 'db1/store': null, 'web1/cache': 'web', 'web1/httpd': 'web' });
  });

  it('takes a clone over AMQP 1.0 (YAML) to the DPE: deployable_status shows each instance under its assembly with its clone; a bad clone is an _exception naming the field', async () => {
    const yaml = (assemblies: string) => `
name: farm
assemblies:
  - { name: a1, image: debian-12, hardwareProfile: small }
  - { name: a2, image: debian-12, hardwareProfile: small }
  - { name: a3, image: debian-12, hardwareProfile: small }
clones:
  - { name: web, assemblies: ${assemblies}, service: { class: process, command: [web] } }
`;
    const bad = await qmf('deployable_create', { config: yaml('[a1, a2, a9]'), format: 'yaml' });
    expect(bad.properties['qmf.opcode']).toBe('_exception');
    expect(bad.body._values.error_code).toBe(400);
    expect(bad.body._values.error_text).toMatch(/clones\[0\]\.assemblies\[2\]: unknown assembly a9/);
    const r = await qmf('deployable_create', { config: yaml('[a1, a2, a3]'), format: 'yaml' });
    expect(r.properties['qmf.opcode']).toBe('_method_response');
    // The DPE process read the clone from the stored document: its snapshot names each instance's clone.
    const assemblies = await waitFor(
      async () => {
        const st = (await qmf('deployable_status', { name: 'farm' })).body._arguments;
        const all = (st?.assemblies ?? []).flatMap((a: any) => a.services ?? []);
        return all.length === 3 ? st.assemblies : undefined;
      },
      { timeoutMs: 30_000, what: 'the DPE snapshot with the clone instances' },
    );
    expect(
      assemblies.flatMap((a: any) => a.services.map((s: any) => [a.name, s.name, s.clone ?? null])),
    ).toEqual([
      ['a1', 'a1/web', 'web'],
      ['a2', 'a2/web', 'web'],
      ['a3', 'a3/web', 'web'],
    ]);
  });

  it('restarts a DPE killed with SIGKILL under a new epoch', async () => {
    const before = await registry(restId);
    process.kill(before.pid, 'SIGKILL');
    const after = await waitFor(
      async () => {
        const r = await registry(restId);
        return r.epoch > before.epoch && r.state === 'running' ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'the DPE restarted and heartbeating' },
    );
    expect(after.pid).not.toBe(before.pid);
    expect(events.some((e) => e.type === 'nephele.dpe.died' && e.subject === restId)).toBe(true);
    expect(
      events
        .filter((e) => e.type === 'nephele.dpe.started' && e.subject === restId)
        .map((e) => (e.data as any).epoch),
    ).toContain(after.epoch);
  });

  it('stores every version; a stale If-Match is refused', async () => {
    const yaml = readFileSync(path.join(examples, 'shop.deployable.yaml'), 'utf8').replace(
      'missedHeartbeats: 3',
      'missedHeartbeats: 4',
    );
    const stale = await fetch(`${url}/v1/deployables/${restId}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/yaml', 'if-match': 'W/"7"' },
      body: yaml,
    });
    expect(stale.status).toBe(412);
    const ok = await fetch(`${url}/v1/deployables/${restId}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/yaml', 'if-match': 'W/"1"' },
      body: yaml,
    });
    expect(ok.status).toBe(200);
    const versions = (await (
      await fetch(`${url}/v1/deployables/${restId}/versions`, { headers: auth })
    ).json()) as any;
    expect(versions.items.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    await waitFor(() =>
      events.some((e) => e.type === 'nephele.deployable.config_changed' && (e.data as any).version === 2),
    );
  });

  it('shows status and assemblies from one snapshot, whatever order concurrent reports land in', async () => {
    const repo = app.get(DeployablesRepository);
    const id = randomUUID();
    await pg.query(
      `INSERT INTO cpe.deployables (id, project, name, desired) VALUES ($1, 'proj-live', 'live', 'stopped')`,
      [id],
    );
    const snapshot = (status: string, services: string[]) => ({
      deployableId: id,
      status,
      assemblies: [
        { name: 'a1', state: 'online', services: services.map((name) => ({ name, state: 'running' })) },
      ],
    });
    const shown = async () => {
      const l = (await repo.live(id))!;
      return {
        epoch: l.epoch,
        status: l.status,
        services: (l.observed as ReturnType<typeof snapshot>).assemblies[0]!.services.length,
      };
    };
    // A bare status change before any snapshot counts.
    await repo.saveLive(id, 1, 'starting', 'booting', null);
    expect((await repo.live(id))!.status).toBe('starting');
    await repo.saveLive(id, 1, 'starting', null, snapshot('starting', []));
    // The DPE's `running` status change handled before the snapshot sent with it: not shown alone.
    await repo.saveLive(id, 1, 'running', 'all up', null);
    expect(await shown()).toEqual({ epoch: 1, status: 'starting', services: 0 });
    await repo.saveLive(id, 1, 'running', null, snapshot('running', ['a1/x', 'a1/y']));
    expect(await shown()).toEqual({ epoch: 1, status: 'running', services: 2 });
    // An older epoch is ignored; a newer epoch's status change counts at once.
    await repo.saveLive(id, 0, 'failed', 'old DPE', snapshot('failed', []));
    expect(await shown()).toEqual({ epoch: 1, status: 'running', services: 2 });
    await repo.saveLive(id, 2, 'recovering', 'new DPE', null);
    expect(await shown()).toEqual({ epoch: 2, status: 'recovering', services: 2 });
    await pg.query(`DELETE FROM cpe.deployables WHERE id = $1`, [id]);
  });

  it('destroys a deployable: DPE stopped, configuration gone, story kept as events', async () => {
    const pid = (await registry(restId)).pid;
    const r = await fetch(`${url}/v1/deployables/${restId}`, { method: 'DELETE', headers: auth });
    expect(r.status).toBe(202);
    expect((await fetch(`${url}/v1/deployables/${restId}`, { headers: auth })).status).toBe(404);
    await waitFor(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      { what: 'the DPE process gone' },
    );
    await waitFor(() =>
      events.some((e) => e.type === 'nephele.audit.deployable.delete' && e.subject === restId),
    );
  });
});
