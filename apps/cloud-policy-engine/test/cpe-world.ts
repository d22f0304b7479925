import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalBroker, NepheleClient, seedLocalBroker } from '@nephele/client';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  ServiceProcess,
  TestResource,
  WORKSPACE_ROOT,
} from '@nephele/testing';

/** What the CPE E2E specs run against: every service as a process, agents on the `local` driver. */
export interface CpeWorld {
  db: TestResource;
  vhost: TestResource;
  dataDir: string;
  /** The AMQP 1.0 edge of the test's vhost. */
  edgeUrl: string;
  world: LocalBroker;
  eventLog: ServiceProcess;
  cpe: ServiceProcess;
  /** The CPE's REST API with the bootstrap token. */
  api: NepheleClient;
}

/**
 * Builds the apps and starts config-api, iaas-gateway, state-tracker, event-log and the CPE (DPEs as
 * worker processes) on a database and vhost of their own, with a `local` pool whose `debian-12`
 * image runs the real agent. Each process is pushed to `procs` as soon as it runs, so the caller's
 * afterAll stops what started even when start-up fails half-way.
 * `tag` names the database, vhost, data directory and project; `keyByte` fills the master key.
 */
export async function startCpeWorld(o: {
  tag: string;
  token: string;
  keyByte: number;
  procs: ServiceProcess[];
}): Promise<CpeWorld> {
  buildApps(
    'config-api',
    'iaas-gateway',
    'state-tracker',
    'cloud-policy-engine',
    'dpe-worker',
    'event-log',
    'agent',
  );
  const [db, vhost] = await Promise.all([
    createTestDatabase(`${o.tag}_e2e`),
    createTestVhost(`${o.tag}_e2e`),
  ]);
  const dataDir = mkdtempSync(path.join(tmpdir(), `nephele-${o.tag}-`));
  const edgeUrl = `amqp://guest:guest@127.0.0.1:5672/${vhost.name}`;
  const env = {
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    AMQP10_URL: edgeUrl,
    NEPHELE_BOOTSTRAP_TOKEN: o.token,
    NEPHELE_DATA_DIR: dataDir,
    NEPHELE_MASTER_KEY: Buffer.alloc(32, o.keyByte).toString('base64'),
    LOG_LEVEL: 'warn',
  };
  const start = async (name: string, extra: Record<string, string> = {}): Promise<ServiceProcess> => {
    const p = await ServiceProcess.start(name, { ...env, ...extra });
    o.procs.push(p);
    return p;
  };
  const config = await start('config-api');
  await start('iaas-gateway', { GATEWAY_CONFIG_TTL_MS: '2000' });
  await start('state-tracker', { TRACKER_POLL_MS: '1000', TRACKER_FAST_POLL_MS: '300' });
  const eventLog = await start('event-log');
  const world = await seedLocalBroker(new NepheleClient({ url: config.url, token: o.token }), {
    project: `${o.tag}-e2e`,
    images: { agent: { command: [process.execPath, path.join(WORKSPACE_ROOT, 'dist/apps/agent/main.js')] } },
    imageNames: { 'debian-12': 'agent' },
  });
  const cpe = await start('cloud-policy-engine', {
    CPE_RUNTIME: 'process',
    CPE_DEFAULT_PROJECT: world.projectId,
    DPE_HEARTBEAT_TIMEOUT_MS: '3000',
    DPE_WORKER_MAIN: path.join(WORKSPACE_ROOT, 'dist/apps/dpe-worker/main.js'),
  });
  return {
    db,
    vhost,
    dataDir,
    edgeUrl,
    world,
    eventLog,
    cpe,
    api: new NepheleClient({ url: cpe.url, token: o.token }),
  };
}

/** What the `local` driver keeps of an instance (the fields the specs read). */
export interface LocalRecord {
  id: string;
  metadata?: Record<string, string>;
  process?: { pid: number };
}

/** The `local` driver's instance records under a data directory (none yet: empty). */
export function localRecords(dataDir: string, providerId: string): LocalRecord[] {
  const root = path.join(dataDir, 'local-driver', providerId, 'instances');
  let ids: string[] = [];
  try {
    ids = readdirSync(root);
  } catch {
    return [];
  }
  return ids.flatMap((id) => {
    try {
      return [JSON.parse(readFileSync(path.join(root, id, 'instance.json'), 'utf8')) as LocalRecord];
    } catch {
      return [];
    }
  });
}

/** Pids of processes whose command line matches `pattern` (`pgrep -f`). */
export function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
