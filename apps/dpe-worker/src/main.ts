import 'reflect-metadata';
import { createServer } from 'node:http';
import { createBus, createEdgeConnection } from '@nephele/bus';
import { createLogger } from '@nephele/observability';
import { loadDpeWorkerConfig } from './config/env';
import { DpeHost } from './host/dpe-host';

/**
 * A DPE worker process (runtimes `process` and `kubernetes`): hosts the DPEs named in
 * DPE_ASSIGNMENTS, serves /healthz when PORT is set, and exits when it has no DPE left.
 */
async function main(): Promise<void> {
  const env = loadDpeWorkerConfig();
  const log = createLogger('dpe-worker', env.LOG_LEVEL).child({ workerId: env.DPE_WORKER_ID });
  if (!env.AMQP_URL)
    throw new Error('AMQP_URL is required: a DPE worker process talks to the others over RabbitMQ');
  const bus = createBus({ url: env.AMQP_URL, service: 'dpe-worker', logger: log });
  await bus.start();
  const openEdge = async (n: number) => {
    const e = createEdgeConnection({
      mode: 'broker',
      url: env.AMQP10_URL,
      id: n ? `dpe-${env.DPE_WORKER_ID}-${n}` : `dpe-${env.DPE_WORKER_ID}`,
      logger: log,
    });
    await e.start();
    return e;
  };
  const edge = await openEdge(0);
  let shuttingDown = false;
  const host = new DpeHost({
    bus,
    edge,
    log,
    workerId: env.DPE_WORKER_ID,
    agentEdgeUrl: env.NEPHELE_AGENT_EDGE_URL ?? env.AMQP10_URL,
    bootTimeoutMs: env.DPE_BOOT_TIMEOUT_MS,
    openEdge,
    dpesPerEdge: env.DPE_PER_EDGE,
    onEmpty: () => void shutdown(0),
  });
  await host.start();
  // The CPE's process runtime sends control messages once the control queue is bound.
  process.send?.({ ready: true });
  process.channel?.unref();
  const server = env.PORT
    ? createServer((req, res) => {
        const ok = bus.isReady() && edge.isConnected();
        res.writeHead(req.url === '/healthz' ? (ok ? 200 : 503) : 404, {
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', dpes: host.size() }));
      }).listen(env.PORT)
    : undefined;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    await host.close().catch(() => undefined);
    await edge.close().catch(() => undefined);
    await bus.close().catch(() => undefined);
    server?.close();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  for (const a of env.DPE_ASSIGNMENTS.split(',').filter(Boolean)) {
    const [id, epoch] = a.split(':');
    await host.run(id!, Number(epoch));
  }
  log.info({ dpes: host.size() }, 'DPE worker running');
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
