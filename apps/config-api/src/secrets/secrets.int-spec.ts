import { randomBytes, randomUUID } from 'node:crypto';
import { Client as Pg } from 'pg';
import { DataSource } from 'typeorm';
import { AccountCredentials, createEvent } from '@nephele/contracts';
import { generateMasterKey, keyId, parseMasterKeys, SealedSecret, SecretBox } from '@nephele/crypto';
import { createAppDataSource } from '@nephele/persistence';
import { createTestVhost, waitFor } from '@nephele/testing';
import { CONFIG_API_SCHEMA, configApiEntities, configApiMigrations } from '../data-source';
import { ADMIN, Client, Harness, startApp, startHarness } from '../test/harness';
import { rotateMasterKey } from './rotate-master-key';

const K1 = generateMasterKey();
const K2 = generateMasterKey();
const plant = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;

describe('credentials at rest (real PostgreSQL + RabbitMQ)', () => {
  let h: Harness;
  let pg: Pg;
  let project: string;
  let provider: string;
  const consoleLines: string[] = [];
  const spies: jest.SpyInstance[] = [];
  const planted: string[] = [];

  beforeAll(async () => {
    // TypeORM prints failed queries (with their parameters) on the console: capture that too.
    for (const m of ['log', 'warn', 'error', 'info', 'debug'] as const) {
      spies.push(
        jest
          .spyOn(global.console, m)
          .mockImplementation((...args: unknown[]) => void consoleLines.push(args.map(String).join(' '))),
      );
    }
    h = await startHarness('configapi_secrets', { NEPHELE_MASTER_KEY: K1 });
    pg = new Pg({ connectionString: h.db.url });
    await pg.connect();
    project = (await h.admin.create('/v1/projects', { name: 'vault' })).id;
    provider = (await h.admin.create('/v1/providers', { name: 'cloud', kind: 'openstack' })).id;
  });

  afterAll(async () => {
    for (const s of spies) s.mockRestore();
    await pg?.end();
    await h?.close();
  });

  it('stores credentials only sealed, returns them only over the bus, and leaves no plaintext anywhere', async () => {
    const user = plant('user');
    const password = plant('password');
    const token = plant('token');
    const rotated = plant('rotated');
    const refused = plant('refused');
    const invalid = plant('invalid');
    planted.push(user, password, token, rotated, refused, invalid);

    const acct = await h.admin.create('/v1/provider-accounts', {
      project,
      providerId: provider,
      name: 'main',
      credentials: { username: user, password, nested: { token } },
    });
    expect(JSON.stringify(acct)).not.toMatch(/user-|password-|token-/);
    expect(acct.hasCredentials).toBe(true);
    const second = await h.admin.create('/v1/provider-accounts', {
      project,
      providerId: provider,
      name: 'second',
      credentials: { password: rotated },
    });
    await h.admin.patch(`/v1/provider-accounts/${second.id}`, {
      credentials: { password: rotated, extra: 'x' },
    });
    // Refused writes carrying credentials: a name clash (409) and an invalid body (400).
    expect(
      (
        await h.admin.post('/v1/provider-accounts', {
          project,
          providerId: provider,
          name: 'main',
          credentials: { password: refused },
        })
      ).status,
    ).toBe(409);
    const bad = await h.admin.post('/v1/provider-accounts', {
      project,
      providerId: provider,
      name: '',
      credentials: { password: invalid },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toContain(invalid);
    for (const path of [`/v1/provider-accounts/${acct.id}`, '/v1/provider-accounts']) {
      expect(JSON.stringify((await h.admin.get(path)).body)).not.toMatch(/user-|password-|token-|rotated-/);
    }

    // The only way out: the bus request of the iaas-gateway.
    const creds: any = await h.bus.request(
      createEvent('int', AccountCredentials.type, { accountId: acct.id }),
    );
    expect(creds.credentials).toEqual({ username: user, password, nested: { token } });

    // The audit events are on the bus before we scan (outbox drained).
    await waitFor(
      async () =>
        (await pg.query(`SELECT count(*)::int AS n FROM config_api.outbox WHERE sent_at IS NULL`)).rows[0]
          .n === 0,
    );
    await waitFor(() =>
      h.events().some((e) => e.type === 'nephele.audit.provider-accounts.updated' && e.subject === second.id),
    );

    const hits = await scanDatabase(pg, planted);
    expect(hits).toEqual([]);
    // The scan does find what is there: the account's name (positive control).
    expect(await scanDatabase(pg, ['second'])).toContain('provider_accounts.name contains second');
    const { rows } = await pg.query(`SELECT credentials FROM config_api.provider_accounts WHERE id = $1`, [
      acct.id,
    ]);
    expect(rows[0].credentials).toEqual({
      v: 1,
      kid: keyId(parseMasterKeys(K1)[0]!.key),
      dk: expect.any(String),
      ct: expect.any(String),
    });
    const everything = [...h.logs, ...consoleLines, ...h.published].join('\n');
    expect(h.logs.length).toBeGreaterThan(10);
    for (const p of planted) expect(everything).not.toContain(p);
  });

  it('answers 503 (not a crash) when credentials arrive and no master key is configured', async () => {
    const vhost = await createTestVhost('configapi_nokey');
    const logs: string[] = [];
    const { app, url } = await startApp(
      { DATABASE_URL: h.db.url, AMQP_URL: vhost.url, NEPHELE_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'debug' },
      logs,
    );
    try {
      const admin = new Client(url, ADMIN);
      const secret = plant('nokey');
      planted.push(secret);
      const r = await admin.post('/v1/provider-accounts', {
        project,
        providerId: provider,
        name: 'nokey',
        credentials: { password: secret },
      });
      expect(r.status).toBe(503);
      expect(r.body.detail).toMatch(/NEPHELE_MASTER_KEY is not configured/);
      expect(
        (await admin.post('/v1/provider-accounts', { project, providerId: provider, name: 'nokey' })).status,
      ).toBe(201);
      expect([...logs, ...consoleLines].join('\n')).not.toContain(secret);
      expect(await scanDatabase(pg, [secret])).toEqual([]);
    } finally {
      await app.close();
      await vhost.drop();
    }
  });

  describe(rotateMasterKey.name, () => {
    let ds: DataSource;
    beforeAll(async () => {
      ds = (
        await createAppDataSource({
          schema: CONFIG_API_SCHEMA,
          url: h.db.url,
          entities: configApiEntities,
          migrations: configApiMigrations,
          poolSize: 2,
        })
      ).dataSource;
    });
    afterAll(async () => {
      await ds?.destroy();
    });

    it('re-wraps every data key under the first key, leaves the ciphertexts, and is idempotent', async () => {
      const before: { id: string; credentials: SealedSecret }[] = (
        await pg.query(
          `SELECT id, credentials FROM config_api.provider_accounts WHERE credentials IS NOT NULL ORDER BY id`,
        )
      ).rows;
      expect(before).toHaveLength(2);
      const report = await rotateMasterKey(ds, `${K2},${K1}`);
      expect(report).toEqual({
        keyId: keyId(parseMasterKeys(K2)[0]!.key),
        rewrapped: 2,
        alreadyCurrent: 0,
        failed: [],
      });
      const after: { id: string; credentials: SealedSecret }[] = (
        await pg.query(
          `SELECT id, credentials FROM config_api.provider_accounts WHERE credentials IS NOT NULL ORDER BY id`,
        )
      ).rows;
      const k2only = new SecretBox(K2);
      for (const [i, row] of after.entries()) {
        expect(row.credentials.kid).toBe(report.keyId);
        expect(row.credentials.ct).toBe(before[i]!.credentials.ct);
        expect(row.credentials.dk).not.toBe(before[i]!.credentials.dk);
        expect(k2only.open(row.id, row.credentials)).toEqual(
          new SecretBox(K1).open(row.id, before[i]!.credentials),
        );
      }
      expect(await rotateMasterKey(ds, `${K2},${K1}`)).toEqual({
        ...report,
        rewrapped: 0,
        alreadyCurrent: 2,
      });
      await waitFor(() => h.events().find((e) => e.type === 'nephele.audit.master-key.rotated'), {
        what: 'the rotation audit event',
      });
    });

    it('reports (and skips) a secret sealed under a key it was not given', async () => {
      const id = randomUUID();
      const stranger = new SecretBox(generateMasterKey()).seal(id, { password: 'x' });
      await pg.query(
        `INSERT INTO config_api.provider_accounts (id, project_id, provider_id, name, credentials) VALUES ($1, $2, $3, 'stranger', $4)`,
        [id, project, provider, JSON.stringify(stranger)],
      );
      const report = await rotateMasterKey(ds, `${K1},${K2}`);
      expect(report.rewrapped).toBe(2);
      expect(report.failed).toEqual([
        { accountId: id, reason: expect.stringMatching(/no master key with id/) },
      ]);
    });
  });
});

/** pg_dump-like: every text, varchar, json and jsonb column of every table of the schema, searched. */
async function scanDatabase(pg: Pg, needles: string[]): Promise<string[]> {
  const { rows: cols } = await pg.query(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = 'config_api' AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')`,
  );
  expect(cols.length).toBeGreaterThan(30);
  const hits: string[] = [];
  for (const c of cols) {
    for (const n of needles) {
      const { rows } = await pg.query(
        `SELECT count(*)::int AS n FROM config_api."${c.table_name}" WHERE strpos("${c.column_name}"::text, $1) > 0`,
        [n],
      );
      if (rows[0].n > 0) hits.push(`${c.table_name}.${c.column_name} contains ${n}`);
    }
  }
  return hits;
}
