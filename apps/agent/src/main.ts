import 'reflect-metadata';
import { createServer, Server } from 'node:http';
import { EdgeClient } from '@nephele/bus';
import { createLogger } from '@nephele/observability';
import { AgentConfig } from './config/env';
import { IdentitySource, resolveAgentConfig } from './config/identity';
import { AgentRunner } from './agent/agent.runner';
import { AgentService } from './agent/agent.service';
import { ServiceSupervisor } from './agent/service-supervisor';
import { createServiceAdapters } from './services/service-adapters';

/** `/healthz` (the process runs) and `/readyz` (connected to the edge), for container probes. */
function serveHealth(port: number, identity: Record<string, string>, connected: () => boolean): Server {
  const health = createServer((req, res) => {
    const ok = req.url === '/healthz' || req.url === '/readyz';
    const ready = req.url === '/healthz' || connected();
    res.writeHead(ok ? (ready ? 200 : 503) : 404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(ok ? { status: ready ? 'ok' : 'disconnected', ...identity } : { status: 'not found' }),
    );
  });
  health.listen(port, '0.0.0.0');
  return health;
}

// The in-guest agent (ARCHITECTURE §5): not an HTTP service. It connects to the AMQP 1.0 edge
// with its assembly id, heartbeats, runs the services the DPE asks for, and runs until SIGTERM.
const VERSION = '0.1.0';
const USAGE = `nephele-agent ${VERSION}: the in-guest agent of a Nephele assembly.

Identity, in order: NEPHELE_ASSEMBLY_ID / NEPHELE_DEPLOYABLE_ID / NEPHELE_AGENT_SECRET / AMQP10_URL,
systemd credentials (agent-secret, edge-url in $CREDENTIALS_DIRECTORY), NEPHELE_USER_DATA (JSON,
base64 JSON or Nephele's #cloud-config), then the metadata service (NEPHELE_METADATA=auto|openstack|
ec2|off at NEPHELE_METADATA_URL). Other variables: NEPHELE_HEARTBEAT_INTERVAL, NEPHELE_OCF_ROOT,
NEPHELE_LSB_DIR, NEPHELE_AGENT_STATE_DIR, PORT (health), LOG_LEVEL.

Options: --version, --help`;

/** The agent's service side: adapters (adopting a previous run's processes), supervisor, state. */
async function buildAgent(
  config: AgentConfig,
  identity: { assemblyId: string; deployableId: string },
  log: ReturnType<typeof createLogger>,
) {
  // The process adapter reports exits to the supervisor, which is built from the adapters.
  const exits: { to?: ServiceSupervisor } = {};
  const adapters = createServiceAdapters({
    ocfRoot: config.ocfRoot,
    lsbDir: config.lsbDir,
    onProcessExit: (service, result) => exits.to?.exited(service, result),
    stateDir: config.stateDir,
  });
  // After a crash: the process services the previous run started are still running; take them
  // back rather than start them twice (the DPE's next monitor finds them running).
  const adopted = await adapters.process.adopt();
  if (adopted.length) log.info({ services: adopted }, 'adopted the process services of a previous run');
  const supervisor = new ServiceSupervisor(adapters.byClass);
  exits.to = supervisor;
  if (!config.secret)
    log.warn('no agent credential (agentSecret in user data): commands are not authenticated');
  const agent = new AgentService(identity, supervisor, config.stateDir, undefined, config.secret);
  await agent.restore();
  return { adapters, supervisor, agent };
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === '--version' || arg === '-v') {
    console.log(VERSION);
    return;
  }
  if (arg === '--help' || arg === '-h') {
    console.log(USAGE);
    return;
  }
  let config: AgentConfig;
  let source: IdentitySource;
  try {
    ({ config, source } = await resolveAgentConfig(process.env));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const log = createLogger('agent', config.logLevel);
  const identity = { assemblyId: config.assemblyId, deployableId: config.deployableId };

  const { adapters, supervisor, agent } = await buildAgent(config, identity, log);

  // Listen mode (all-in-one): the assembly id and its secret are the SASL PLAIN login. Through
  // RabbitMQ the URL carries the broker user.
  const urlHasUser = new URL(config.edgeUrl).username !== '';
  const edge = new EdgeClient({
    url: config.edgeUrl,
    id: config.assemblyId,
    ...(urlHasUser ? {} : { username: config.assemblyId, password: config.secret ?? '' }),
    logger: log,
  });
  const runner = new AgentRunner(
    identity,
    edge,
    agent,
    supervisor,
    config.heartbeatIntervalMs,
    log,
    config.secret,
  );

  const health = config.port ? serveHealth(config.port, identity, () => edge.isConnected()) : undefined;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'agent stopping');
    await runner.stop();
    // Plain processes are this agent's children: they go with it. systemd/LSB/OCF services belong
    // to the system and keep running.
    await adapters.process.stopAll(5000);
    await adapters.process.flushed();
    await edge.close();
    health?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  log.info(
    {
      ...identity,
      identityFrom: source,
      edge: config.edgeUrl.replace(/\/\/[^@/]*@/, '//***@'),
      heartbeatMs: config.heartbeatIntervalMs,
    },
    'agent starting',
  );
  await runner.start();
}

void main().catch((e: Error) => {
  console.error(`agent failed: ${e.stack ?? e.message}`);
  process.exit(1);
});
