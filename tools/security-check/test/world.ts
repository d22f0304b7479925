import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Client } from 'pg';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  ServiceProcess,
  TestResource,
  WORKSPACE_ROOT,
} from '@nephele/testing';

/** The services that answer REST, each started as its own process. */
export const SERVICES = [
  'config-api',
  'iaas-gateway',
  'state-tracker',
  'cloud-policy-engine',
  'event-log',
  'scaler',
  'feed-poller',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Secrets of the deployment itself, known to the tests so they can look for them. */
export interface WorldSecrets {
  bootstrapToken: string;
  masterKey: string;
  callbackSecret: string;
  alertmanagerToken: string;
}

export interface World {
  label: string;
  db: TestResource;
  vhost: TestResource;
  dataDir: string;
  secrets: WorldSecrets;
  procs: Record<ServiceName, ServiceProcess>;
  /** Every process, in start order. */
  all: ServiceProcess[];
  stop(): Promise<void>;
}

/**
 * Every REST service as its own process (`node dist/apps/<app>/main.js`) on a fresh database and
 * vhost, the CPE with the `process` runtime. The deployment's own secrets are random per run.
 */
export async function startWorld(
  label: string,
  extraEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
  opts: { logLevel?: string } = {},
): Promise<World> {
  buildApps(...SERVICES, 'dpe-worker', 'agent');
  const made = await Promise.allSettled([createTestDatabase(label), createTestVhost(label)]);
  const failed = made.find((m) => m.status === 'rejected');
  if (failed) {
    for (const m of made) if (m.status === 'fulfilled') await m.value.drop().catch(() => undefined);
    throw (failed as PromiseRejectedResult).reason;
  }
  const [db, vhost] = made.map((m) => (m as PromiseFulfilledResult<TestResource>).value) as [
    TestResource,
    TestResource,
  ];
  const dataDir = mkdtempSync(path.join(tmpdir(), `nephele-${label}-`));
  const secrets: WorldSecrets = {
    bootstrapToken: `boot-${randomBytes(16).toString('hex')}`,
    masterKey: randomBytes(32).toString('base64'),
    callbackSecret: `cb-${randomBytes(16).toString('hex')}`,
    alertmanagerToken: `am-${randomBytes(16).toString('hex')}`,
  };
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    NEPHELE_BOOTSTRAP_TOKEN: secrets.bootstrapToken,
    NEPHELE_MASTER_KEY: secrets.masterKey,
    NEPHELE_DATA_DIR: dataDir,
    LOG_LEVEL: opts.logLevel ?? 'warn',
  };
  const own: Record<ServiceName, Record<string, string>> = {
    'config-api': {},
    'iaas-gateway': { GATEWAY_CONFIG_TTL_MS: '1000' },
    'state-tracker': { NEPHELE_CALLBACK_SECRET: secrets.callbackSecret },
    'cloud-policy-engine': {
      CPE_RUNTIME: 'process',
      DPE_WORKER_MAIN: path.join(WORKSPACE_ROOT, 'dist/apps/dpe-worker/main.js'),
    },
    'event-log': {},
    scaler: { SCALER_ALERTMANAGER_TOKEN: secrets.alertmanagerToken },
    'feed-poller': {},
  };
  const started: ServiceProcess[] = [];
  const stop = async () => {
    // DPE workers and local instances outlive their parents by design (they are adopted on the
    // next start): this run's are found through the CPE's registry and the local driver's records.
    const workers = await dpeWorkerPids(db.url);
    for (const p of [...started].reverse()) await p.kill('SIGTERM').catch(() => undefined);
    for (const pid of workers) kill(pid);
    for (const pgid of localInstanceGroups(dataDir)) kill(-pgid);
    rmSync(dataDir, { recursive: true, force: true });
    await Promise.all([db.drop().catch(() => undefined), vhost.drop().catch(() => undefined)]);
  };
  try {
    // The config-api answers token introspection for the others: it goes first.
    const procs = {} as Record<ServiceName, ServiceProcess>;
    const start = async (s: ServiceName) => {
      const p = await ServiceProcess.start(s, { ...env, ...own[s], ...(extraEnv[s] ?? {}) });
      started.push(p);
      procs[s] = p;
    };
    await start('config-api');
    for (const s of SERVICES.slice(1)) await start(s);
    return { label, db, vhost, dataDir, secrets, procs, all: started, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

async function dpeWorkerPids(url: string): Promise<number[]> {
  const pg = new Client({ connectionString: url });
  try {
    await pg.connect();
    const r = await pg.query<{ pid: number }>(`SELECT pid FROM cpe.dpe_registry WHERE pid IS NOT NULL`);
    return r.rows.map((x) => Number(x.pid));
  } catch {
    return [];
  } finally {
    await pg.end().catch(() => undefined);
  }
}

/** Process groups of the `local` driver's instances (`<dataDir>/local-driver/<provider>/instances/<id>`). */
function localInstanceGroups(dataDir: string): number[] {
  const ls = (d: string) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  const root = path.join(dataDir, 'local-driver');
  return ls(root).flatMap((provider) =>
    ls(path.join(root, provider, 'instances')).flatMap((id) => {
      try {
        const rec = JSON.parse(
          readFileSync(path.join(root, provider, 'instances', id, 'instance.json'), 'utf8'),
        );
        return rec?.process?.pid ? [Number(rec.process.pid)] : [];
      } catch {
        return [];
      }
    }),
  );
}
