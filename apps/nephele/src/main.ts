import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { agentPrincipal, createBus, EdgeListener, EdgePrincipal, managementPrincipal } from '@nephele/bus';
import { NepheleClient, seedLocalBroker } from '@nephele/client';
import { AppLogger, createLogger } from '@nephele/observability';
import { restrictDataDir } from '@nephele/persistence';
import {
  createHttpApp,
  HealthRegistry,
  TOKEN_REVOCATIONS,
  TOKEN_VERIFIER,
  TokenRevocations,
  masterKeyFrom,
  TokenVerifier,
} from '@nephele/service-kit';
import { AgentCredentials, CpeConfig, loadCpeConfig } from '../../cloud-policy-engine/src';
import { DpeHost } from '../../dpe-worker/src';
import { AllInOneModule } from './app.module';
import { AllInOneEnv, loadAllInOneEnv } from './config/env';
import { missingPeersLines } from './debian-peers';

/** A secret kept in the data dir (mode 600): given by env, else read, else made once. */
function keptSecret(
  dataDir: string,
  file: string,
  fromEnv: string | undefined,
  make: () => string,
): { value: string; fresh: boolean } {
  if (fromEnv) return { value: fromEnv, fresh: false };
  const p = path.join(dataDir, file);
  if (existsSync(p)) return { value: readFileSync(p, 'utf8').trim(), fresh: false };
  mkdirSync(dataDir, { recursive: true });
  const value = make();
  writeFileSync(p, `${value}\n`, { mode: 0o600 });
  return { value, fresh: true };
}

/**
 * Management clients log in to the edge with SASL PLAIN, password = an API token (any username),
 * checked by the verifier REST uses (its cache follows revocations, Note [Revocation]). The
 * principal is re-checked before each message and every 500 ms (see Note [Edge listener]), and
 * the connections of a revoked token are closed when the revocation arrives.
 */
function tokenLogin(verifier: TokenVerifier) {
  return async (_username: string, password: string): Promise<EdgePrincipal | null> => {
    if (!password) return null;
    const p = await verifier.verify(password);
    if (!p) return null;
    return managementPrincipal({ tokenId: p.tokenId, role: p.role, project: p.project }, async () => {
      const now = await verifier.verify(password);
      return !!now && now.tokenId === p.tokenId && now.role === p.role && now.project === p.project;
    });
  };
}

/** An example appliance: a web server on one assembly, its URL as an output. */
async function seedExampleAppliance(c: NepheleClient, project: string, providerId: string): Promise<void> {
  const existing = (await c.all<{ id: string; name: string }>(`/v1/appliances?project=${project}`)).find(
    (a) => a.name === 'hello-web',
  );
  if (existing) return;
  const app = await c.post<{ id: string }>('/v1/appliances', {
    project,
    name: 'hello-web',
    description: 'A static web server (example)',
  });
  await c.post(`/v1/appliances/${app.id}/implementations`, {
    providerId,
    templateVersion: '1.0.0',
    parameters: [{ name: 'port', type: 'integer', default: 8088, description: 'HTTP port' }],
    outputs: [
      { name: 'url', description: 'Where it serves', value: 'http://{{assemblies.web1.address}}:{{port}}/' },
    ],
    template: {
      name: 'hello-web',
      assemblies: [
        {
          name: 'web1',
          image: 'debian-12',
          hardwareProfile: 'small',
          services: [
            {
              name: 'httpd',
              class: 'process',
              command: ['sh', '-c', 'exec python3 -m http.server {{port}} --bind 127.0.0.1'],
              monitor: { interval: '5s', timeout: '2s', tcp: { port: '{{port}}' } },
              escalation: { failures: 3, period: '60s' },
            },
          ],
        },
      ],
    },
  });
}

/**
 * The AMQP 1.0 edge: Nephele itself listens (no broker needed). Nobody is anonymous (see Note
 * [Edge authentication]): management clients log in with an API token (verifier added once the
 * bus is up), agents as their assembly.
 */
function edgeListener(
  env: AllInOneEnv,
  tls: { cert: Buffer; key: Buffer } | undefined,
  logger: AppLogger,
): EdgeListener {
  const allowAnonymous = env.NEPHELE_EDGE_ALLOW_ANONYMOUS === 'true';
  const edge = new EdgeListener({
    port: env.NEPHELE_EDGE_PORT,
    host: env.NEPHELE_EDGE_HOST,
    tls,
    allowAnonymous,
    // The loopback demo: an anonymous peer is a management client with an admin's rights.
    anonymousPrincipal: managementPrincipal({ tokenId: 'anonymous', role: 'admin' }),
    maxMessageBytes: env.NEPHELE_EDGE_MAX_MESSAGE_BYTES,
    maxConnectionsPerPrincipal: env.NEPHELE_EDGE_MAX_CONNECTIONS,
    maxQueueBytes: env.NEPHELE_EDGE_MAX_QUEUE_BYTES,
    maxQueueLength: env.NEPHELE_EDGE_MAX_QUEUE_LENGTH,
    maxHoldMs: env.NEPHELE_EDGE_MAX_HOLD_MS,
    logger,
  });
  if (allowAnonymous)
    logger.warn('NEPHELE_EDGE_ALLOW_ANONYMOUS=true: anonymous loopback peers act as admins on the edge');
  return edge;
}

/** The default project, pool, images and profile on the local driver, and the example appliance. */
async function seedDefaults(port: number, token: string, cpeConfig: CpeConfig): Promise<string> {
  const agentMain = path.resolve(__dirname, '../agent/main.js');
  const world = await seedLocalBroker(new NepheleClient({ url: `http://127.0.0.1:${port}`, token }), {
    project: 'default',
    images: {
      agent: { command: [process.execPath, agentMain] },
      sleeper: { command: ['sleep', 'infinity'] },
    },
    imageNames: { 'debian-12': 'agent', sleeper: 'sleeper' },
    hardwareProfiles: ['small'],
    pool: 'default',
  });
  cpeConfig.defaultProject = world.projectId;
  await seedExampleAppliance(
    new NepheleClient({ url: `http://127.0.0.1:${port}`, token }),
    world.projectId,
    world.providerId,
  );
  return `  default       project ${world.projectId}, pool "default" (local driver), images "debian-12" (runs the agent) and "sleeper", profile "small"`;
}

/**
 * Agents (started by the local driver) prove their assembly with its own credential (Note [Agent
 * identity] in @nephele/contracts); management clients log in with an API token, and lose their
 * connections when it is revoked.
 */
function wireEdgeAuth(edge: EdgeListener, app: INestApplication): void {
  const agentCredentials = app.get(AgentCredentials, { strict: false });
  edge.auth.add(
    'agent',
    async (username, password) => {
      const a = await agentCredentials.verify(username, password);
      return a ? agentPrincipal(a.assemblyId, a.deployableId) : null;
    },
    { first: true },
  );
  edge.auth.add('token', tokenLogin(app.get<TokenVerifier>(TOKEN_VERIFIER)));
  app
    .get<TokenRevocations>(TOKEN_REVOCATIONS)
    .onTokenRevoked((id) => edge.closeWhere((p) => p.claims?.tokenId === id, 'token revoked'));
}

/** What the all-in-one prints on stderr once it is up. */
function banner(o: {
  env: AllInOneEnv;
  base: string;
  edgeUrl: string;
  dataDir: string;
  seeded: string;
  token: { value: string; fresh: boolean };
}): string {
  const { env, base, edgeUrl, dataDir, seeded, token } = o;
  const lines = [
    '',
    `Nephele is running (all-in-one) on ${base}`,
    `  API docs      ${base}/docs`,
    `  events        ${base}/v1/events   (live: ${base}/v1/events/stream)`,
    `  deployables   ${base}/v1/deployables   AMQP 1.0 management: ${edgeUrl} address nephele.cpe (SASL PLAIN, password = an API token)`,
    `  health        ${base}/readyz   metrics ${base}/metrics`,
    `  database      ${env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${dataDir}/pgdata`}`,
    `  bus           ${env.AMQP_URL ? 'RabbitMQ (AMQP_URL)' : 'in-process'}`,
    seeded,
    token.fresh
      ? `  admin token   ${token.value}\n                (shown once; also saved in ${dataDir}/admin-token, mode 600)`
      : `  admin token   ${env.NEPHELE_BOOTSTRAP_TOKEN ? 'NEPHELE_BOOTSTRAP_TOKEN' : `in ${dataDir}/admin-token`}`,
    ...missingPeersLines(), // once, at start-up: what the optional Debian peers would enable
    '',
  ].filter((l) => l !== '');
  return `\n${lines.join('\n')}\n\n`;
}

/** The DPEs of the `inline` runtime: a DpeHost in this process on its own bus client and edge link. */
async function startInlineDpe(
  env: AllInOneEnv,
  edge: EdgeListener,
  logger: AppLogger,
  edgeUrl: string,
  bootTimeoutMs: number,
): Promise<{ host: DpeHost; close: () => Promise<void> }> {
  const dpeBus = createBus({ url: env.AMQP_URL, service: 'dpe-worker', logger });
  await dpeBus.start();
  const dpeEdge = edge.connect('dpe-inline');
  await dpeEdge.start();
  const host = new DpeHost({
    bus: dpeBus,
    edge: dpeEdge,
    log: logger.child({ part: 'dpe' }),
    workerId: `inline-${process.pid}`,
    agentEdgeUrl: edgeUrl,
    bootTimeoutMs,
  });
  await host.start();
  const close = async () => {
    await host.close().catch(() => undefined);
    await dpeEdge.close().catch(() => undefined);
    await dpeBus.close().catch(() => undefined);
  };
  return { host, close };
}

async function main(): Promise<void> {
  const env = loadAllInOneEnv();
  const dataDir = path.resolve(env.NEPHELE_DATA_DIR ?? '.nephele');
  const logger = createLogger('nephele', env.LOG_LEVEL);
  // The data dir holds the database, the admin token and (by default) the master key: 0700, files 0600.
  restrictDataDir(dataDir);
  const token = keptSecret(
    dataDir,
    'admin-token',
    env.NEPHELE_BOOTSTRAP_TOKEN,
    () => `nph_${randomBytes(32).toString('base64url')}`,
  );
  // The master key may live apart from the data it protects: NEPHELE_MASTER_KEY or _FILE.
  const masterKey = keptSecret(dataDir, 'master-key', masterKeyFrom(env), () =>
    randomBytes(32).toString('base64'),
  );
  const tls =
    env.NEPHELE_EDGE_TLS_CERT && env.NEPHELE_EDGE_TLS_KEY
      ? { cert: readFileSync(env.NEPHELE_EDGE_TLS_CERT), key: readFileSync(env.NEPHELE_EDGE_TLS_KEY) }
      : undefined;
  const edgeUrl = `${tls ? 'amqps' : 'amqp'}://${env.NEPHELE_EDGE_HOST === '0.0.0.0' ? '127.0.0.1' : env.NEPHELE_EDGE_HOST}:${env.NEPHELE_EDGE_PORT}`;
  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    NEPHELE_DATA_DIR: dataDir,
    NEPHELE_BOOTSTRAP_TOKEN: token.value,
    NEPHELE_MASTER_KEY: masterKey.value,
  };
  process.env.NEPHELE_DATA_DIR = dataDir;

  const edge = edgeListener(env, tls, logger);
  await edge.start();

  const cpeConfig = loadCpeConfig({ ...shared, CPE_RUNTIME: 'inline', NEPHELE_AGENT_EDGE_URL: edgeUrl });
  // DPE_BOOT_TIMEOUT_MS holds in the all-in-one too (a VM under software emulation boots in minutes).
  const { host, close: closeDpe } = await startInlineDpe(env, edge, logger, edgeUrl, cpeConfig.bootTimeoutMs);

  const app = await createHttpApp(
    AllInOneModule.forRoot({
      env,
      shared,
      logger,
      cpeConfig,
      edge: () => edge.connect('cpe'),
      dpeHost: () => host,
    }),
    { title: 'Nephele', bodyLimit: '5mb' },
  );
  app.enableShutdownHooks();
  wireEdgeAuth(edge, app);
  // Not ready until the defaults are seeded: a client that waits for /readyz (as the README's tour
  // and every E2E do) must find the pool, images and profile it is told about.
  let seedState: 'pending' | 'done' | Error = env.NEPHELE_SEED === 'true' ? 'pending' : 'done';
  app.get(HealthRegistry).register('seed', async () => {
    if (seedState === 'pending') throw new Error('seeding the default project, pool, images and profile');
    if (seedState instanceof Error) throw new Error(`seeding failed: ${seedState.message}`);
  });
  await app.listen(env.PORT, '0.0.0.0');
  const base = `http://localhost:${env.PORT}`;

  let seeded = '';
  if (env.NEPHELE_SEED === 'true') {
    try {
      seeded = await seedDefaults(env.PORT, token.value, cpeConfig);
      seedState = 'done';
    } catch (e) {
      seedState = e as Error;
      throw e;
    }
  }

  process.stderr.write(banner({ env, base, edgeUrl, dataDir, seeded, token }));

  const stop = async () => {
    await closeDpe();
    await edge.close().catch(() => undefined);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
