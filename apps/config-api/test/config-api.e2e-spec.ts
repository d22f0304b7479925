import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { RabbitMqBus } from '@nephele/bus';
import { AccountCredentials, createEvent } from '@nephele/contracts';
import { generateMasterKey } from '@nephele/crypto';
import {
  createTestDatabase,
  createTestVhost,
  ServiceProcess,
  TestResource,
  waitFor,
  WORKSPACE_ROOT,
} from '@nephele/testing';
import { Client } from '../src/test/harness';

const run = promisify(execFile);
const EVENT_LOG_TOKEN = 'e2e-event-log-admin-token-0123456789abcdef';
const K1 = generateMasterKey();
const K2 = generateMasterKey();
const PASSWORD = `e2e-password-${Date.now()}`;

/** The config-api and the event log as their own processes on PostgreSQL and RabbitMQ. */
describe('config-api process (E2E)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let eventLog: ServiceProcess;
  let configApi: ServiceProcess;
  let admin: Client;
  let adminTokenId: string;
  let project: string;
  let account: string;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('ca_e2e'), createTestVhost('ca_e2e')]);
    const shared = { DATABASE_URL: db.url, AMQP_URL: vhost.url };
    [eventLog, configApi] = await Promise.all([
      ServiceProcess.start('event-log', { ...shared, NEPHELE_BOOTSTRAP_TOKEN: EVENT_LOG_TOKEN }),
      ServiceProcess.start('config-api', { ...shared, NEPHELE_BOOTSTRAP_TOKEN: '', NEPHELE_MASTER_KEY: K1 }),
    ]);
  });

  afterAll(async () => {
    await configApi?.kill('SIGTERM');
    await eventLog?.kill('SIGTERM');
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  it('prints a first admin token once when no bootstrap token is set', async () => {
    const printed = configApi.output.match(/nph_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(printed).toHaveLength(1);
    admin = new Client(configApi.url, printed[0]);
    const tokens = await admin.get('/v1/tokens');
    expect(tokens.status).toBe(200);
    expect(tokens.body.items).toEqual([
      expect.objectContaining({ name: 'initial-admin', role: 'admin', createdBy: 'system' }),
    ]);
    adminTokenId = tokens.body.items[0].id;
  });

  it('creates a pool and the event log shows nephele.config.changed and the audit event, read with a config-api token', async () => {
    project = (await admin.create('/v1/projects', { name: 'e2e' })).id;
    const provider = (await admin.create('/v1/providers', { name: 'local', kind: 'local' })).id;
    account = (
      await admin.create('/v1/provider-accounts', {
        project,
        providerId: provider,
        name: 'acct',
        credentials: { password: PASSWORD },
      })
    ).id;
    const family = (await admin.create('/v1/pool-families', { project, name: 'fam', accountIds: [account] }))
      .id;
    const pool = (await admin.create('/v1/pools', { project, name: 'web', familyId: family })).id;

    // The event log resolves the config-api's token over the bus (nephele.config.token.introspect).
    const events = new Client(eventLog.url, admin.token);
    const stored = await waitFor(
      async () => {
        const r = await events.get(`/v1/events?subject=${pool}`);
        expect(r.status).toBe(200);
        return r.body.items.length >= 2 && r.body.items;
      },
      { timeoutMs: 20_000, what: 'the pool events in the event log' },
    );
    expect(stored.map((e: { type: string }) => e.type).sort()).toEqual([
      'nephele.audit.pools.created',
      'nephele.config.changed',
    ]);
    expect(stored.find((e: { type: string }) => e.type === 'nephele.config.changed').data).toEqual({
      resource: 'pools',
      id: pool,
      action: 'created',
      project,
      version: 1,
    });
    expect(stored.find((e: { type: string }) => e.type === 'nephele.audit.pools.created').data).toMatchObject(
      {
        actor: adminTokenId,
        resource: 'pools',
        after: { name: 'web', familyId: family },
      },
    );
  });

  it('refuses a revoked token in the other services too', async () => {
    const t = await admin.create('/v1/tokens', { project, role: 'viewer', name: 'short-lived' });
    expect((await admin.del(`/v1/tokens/${t.id}`)).status).toBe(204);
    expect((await new Client(eventLog.url, t.token).get('/v1/events?limit=1')).status).toBe(401);
    expect((await new Client(configApi.url, t.token).get('/v1/pools')).status).toBe(401);
  });

  it('rotates the master key with `main.js rotate-master-key`, and serves the credentials under the new key', async () => {
    const main = path.join(WORKSPACE_ROOT, 'dist/apps/config-api/main.js');
    const { stdout } = await run(process.execPath, [main, 'rotate-master-key'], {
      env: { ...process.env, DATABASE_URL: db.url, NEPHELE_MASTER_KEY: `${K2},${K1}`, LOG_LEVEL: 'warn' },
    });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({
      rewrapped: 1,
      alreadyCurrent: 0,
      failed: [],
    });
    const events = new Client(eventLog.url, EVENT_LOG_TOKEN);
    await waitFor(
      async () =>
        (await events.get('/v1/events?type=nephele.audit.master-key.rotated')).body.items.length === 1,
      { timeoutMs: 20_000, what: 'the rotation audit event' },
    );
    // Restart on the new key alone: nothing is lost, the first token is not printed again.
    await configApi.kill('SIGTERM');
    (configApi.env as Record<string, string>).NEPHELE_MASTER_KEY = K2;
    await configApi.start();
    expect(configApi.output.match(/nph_[A-Za-z0-9_-]{43}/g)).toHaveLength(1);
    expect((await admin.get(`/v1/provider-accounts/${account}`)).body).toMatchObject({
      name: 'acct',
      hasCredentials: true,
    });
    const bus = new RabbitMqBus({ url: vhost.url, service: 'e2e-gateway' });
    await bus.start();
    try {
      const creds: any = await bus.request(
        createEvent('e2e', AccountCredentials.type, { accountId: account }),
      );
      expect(creds.credentials).toEqual({ password: PASSWORD });
    } finally {
      await bus.close();
    }
  });

  it('serves health, readiness and OpenAPI, and never logs a credential', async () => {
    expect((await fetch(`${configApi.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${configApi.url}/readyz`)).json()).toEqual({
      status: 'ok',
      checks: { bus: 'ok', 'config-api-db': 'ok' },
    });
    const doc = (await (await fetch(`${configApi.url}/docs/openapi.json`)).json()) as any;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/pools', '/v1/hardware-profiles/{id}/matches', '/v1/tokens']),
    );
    expect(configApi.output).not.toContain(PASSWORD);
    expect(eventLog.output).not.toContain(PASSWORD);
  });
});
