import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createBus, EdgeListener } from '@nephele/bus';
import { NepheleClient, seedLocalBroker } from '@nephele/client';
import { createLogger } from '@nephele/observability';
import { createHttpApp } from '@nephele/service-kit';
import { loadCpeConfig } from '../../cloud-policy-engine/src';
import { DpeHost } from '../../dpe-worker/src';
import { AllInOneModule } from './app.module';
import { loadAllInOneEnv } from './config/env';
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

async function main(): Promise<void> {
  const env = loadAllInOneEnv();
  const dataDir = path.resolve(env.NEPHELE_DATA_DIR ?? '.nephele');
  const logger = createLogger('nephele', env.LOG_LEVEL);
  const token = keptSecret(
    dataDir,
    'admin-token',
    env.NEPHELE_BOOTSTRAP_TOKEN,
    () => `nph_${randomBytes(32).toString('base64url')}`,
  );
  const masterKey = keptSecret(dataDir, 'master-key', env.NEPHELE_MASTER_KEY, () =>
    randomBytes(32).toString('base64'),
  );
  const edgeUrl = `amqp://${env.NEPHELE_EDGE_HOST === '0.0.0.0' ? '127.0.0.1' : env.NEPHELE_EDGE_HOST}:${env.NEPHELE_EDGE_PORT}`;
  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    NEPHELE_DATA_DIR: dataDir,
    NEPHELE_BOOTSTRAP_TOKEN: token.value,
    NEPHELE_MASTER_KEY: masterKey.value,
  };
  process.env.NEPHELE_DATA_DIR = dataDir;

  // The AMQP 1.0 edge: Nephele itself listens (no broker needed). Peers on this machine only by
  // default, so anonymous agents are accepted; tokens authenticate management clients.
  const edge = new EdgeListener({
    port: env.NEPHELE_EDGE_PORT,
    host: env.NEPHELE_EDGE_HOST,
    allowAnonymous: true,
    logger,
  });
  await edge.start();

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
  });
  await host.start();

  const cpeConfig = loadCpeConfig({ ...shared, CPE_RUNTIME: 'inline', NEPHELE_AGENT_EDGE_URL: edgeUrl });
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
  await app.listen(env.PORT, '0.0.0.0');
  const base = `http://localhost:${env.PORT}`;

  let seeded = '';
  if (env.NEPHELE_SEED === 'true') {
    const agentMain = path.resolve(__dirname, '../agent/main.js');
    const world = await seedLocalBroker(
      new NepheleClient({ url: `http://127.0.0.1:${env.PORT}`, token: token.value }),
      {
        project: 'default',
        images: {
          agent: { command: [process.execPath, agentMain] },
          sleeper: { command: ['sleep', 'infinity'] },
        },
        imageNames: { 'debian-12': 'agent', sleeper: 'sleeper' },
        hardwareProfiles: ['small'],
        pool: 'default',
      },
    );
    cpeConfig.defaultProject = world.projectId;
    await seedExampleAppliance(
      new NepheleClient({ url: `http://127.0.0.1:${env.PORT}`, token: token.value }),
      world.projectId,
      world.providerId,
    );
    seeded = `  default       project ${world.projectId}, pool "default" (local driver), images "debian-12" (runs the agent) and "sleeper", profile "small"`;
  }

  const lines = [
    '',
    `Nephele is running (all-in-one) on ${base}`,
    `  API docs      ${base}/docs`,
    `  events        ${base}/v1/events   (live: ${base}/v1/events/stream)`,
    `  deployables   ${base}/v1/deployables   AMQP 1.0 management: ${edgeUrl} address nephele.cpe`,
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
  process.stderr.write(`\n${lines.join('\n')}\n\n`);

  const stop = async () => {
    await host.close().catch(() => undefined);
    await dpeEdge.close().catch(() => undefined);
    await dpeBus.close().catch(() => undefined);
    await edge.close().catch(() => undefined);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
