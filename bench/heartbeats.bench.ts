// heartbeats: 10,000 assemblies (1,000 deployables × 10) heartbeating every second through the
// AMQP 1.0 edge (an in-process listener: generated agents, no broker), their DPEs in one host.
// 1% are silenced at random moments. Prints detection latency (last heartbeat → heartbeat_missed)
// p50/p99, detection → first recovery command (the replacement's create) p99, the host's CPU and
// memory, and the memory cost per deployable. Baseline in the same run: the interval × misses
// floor that detection cannot beat.
import { randomBytes } from 'node:crypto';
import {
  agentCredential,
  CloudEvent,
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  InstanceCreate,
  InstanceQuery,
  signAgentMessage,
  Topology,
} from '@nephele/contracts';
import { EdgeListener, MemoryBus, Outcome, silentLogger } from '@nephele/bus';
import { DpeHost } from '../apps/dpe-worker/src/host/dpe-host';
import type { BenchRow } from './bench.types';

const DEPLOYABLES = Number(process.env.BENCH_HB_DEPLOYABLES ?? 1000);
const ASSEMBLIES = 10;
const INTERVAL_MS = 1000;
const MISSES = 3;
const SILENCED = Math.round((DEPLOYABLES * ASSEMBLIES) / 100);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

export default async function run(): Promise<BenchRow[]> {
  const bus = new MemoryBus();
  await bus.start();
  const ids = Array.from(
    { length: DEPLOYABLES },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  );
  const asm = Array.from({ length: ASSEMBLIES }, (_, i) => `a${i}`);
  const doc = {
    name: 'bench',
    pool: 'default',
    monitor: { heartbeatIntervalMs: INTERVAL_MS, missedHeartbeats: MISSES },
    assemblies: asm.map((name) => ({ name, image: 'debian-12', hardwareProfile: 'small', services: [] })),
    constraints: [],
  };
  // The generated agents sign their heartbeats as real ones do (Note [Agent identity]).
  const AGENT_KEY = randomBytes(32).toString('base64url');
  const credentials = new Map<string, string>();
  const credentialOf = (assemblyId: string) => {
    let c = credentials.get(assemblyId);
    if (!c) credentials.set(assemblyId, (c = agentCredential(AGENT_KEY, assemblyId)));
    return c;
  };
  // The CPE's and the state tracker's side: configuration, saved state, running instances.
  await bus.respond(
    'bench.cpe',
    [CpeDeployableGet.type, CpeDpeStateGet.type, CpeDpeStatePut.type],
    async (e) => {
      if (e.type === CpeDeployableGet.type)
        return {
          id: (e.data as { deployableId: string }).deployableId,
          name: 'bench',
          version: 1,
          desired: 'started',
          document: doc,
          agentKey: AGENT_KEY,
        };
      if (e.type === CpeDpeStateGet.type) return { state: null };
      return { ok: true };
    },
  );
  await bus.respond('bench.tracker', [InstanceQuery.type], async (e) => {
    const prefix = (e.data as { ownerPrefix: string }).ownerPrefix;
    const id = prefix.slice('deployable:'.length, -1);
    return {
      items: asm.map((a) => ({
        id: `${id}-${a}`,
        owner: `deployable:${id}/${a}#1`,
        state: 'running',
        addresses: ['127.0.0.1'],
        name: null,
      })),
    };
  });
  const missedAt = new Map<string, number>();
  const recoveryAt = new Map<string, number>();
  await bus.subscribe({
    queue: 'bench.events',
    exchange: Topology.events,
    bindings: ['nephele.assembly.heartbeat_missed'],
    validate: false,
    handler: async (e: CloudEvent) => {
      const d = e.data as { deployableId: string; assembly: string };
      missedAt.set(`${d.deployableId}/${d.assembly}`, performance.now());
      return Outcome.ack();
    },
  });
  await bus.subscribe({
    queue: 'bench.commands',
    exchange: Topology.commands,
    bindings: [InstanceCreate.type],
    validate: false,
    handler: async (e: CloudEvent) => {
      const owner = (e.data as { owner: string }).owner; // deployable:<id>/<asm>#<n>
      const m = /^deployable:([^/]+)\/([^#]+)#(\d+)$/.exec(owner);
      if (m && m[3] !== '1') {
        const key = `${m[1]}/${m[2]}`;
        if (!recoveryAt.has(key)) recoveryAt.set(key, performance.now());
      }
      return Outcome.ack();
    },
  });

  const listener = new EdgeListener({
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
  });
  await listener.start();
  const dpeEdge = listener.connect('bench-dpe');
  await dpeEdge.start();
  const gen = listener.connect('bench-agents');
  await gen.start();

  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const host = new DpeHost({
    bus,
    edge: dpeEdge,
    log: silentLogger,
    workerId: 'bench',
    agentEdgeUrl: 'amqp://127.0.0.1:0',
    heartbeatMs: 1000,
  });
  await host.start();
  for (const id of ids) await host.run(id, 1);

  // Generated agents: every assembly heartbeats once per interval, spread over the interval.
  const silencedAt = new Map<string, number>();
  const lastSent = new Map<string, number>();
  let seq = 0;
  let stop = false;
  const all = ids.flatMap((id) => asm.map((a) => ({ id, a, key: `${id}/${a}` })));
  const slices = 20;
  const beat = async (slice: number) => {
    const now = new Date().toISOString();
    const t = performance.now();
    await Promise.all(
      all
        .filter((_, i) => i % slices === slice)
        .filter((x) => !silencedAt.has(x.key))
        .map((x) => {
          lastSent.set(x.key, t);
          return gen
            .send(
              `nephele.agent.events.${x.id}`,
              signAgentMessage(credentialOf(`${x.id}.${x.a}.1`), {
                kind: 'heartbeat' as const,
                assemblyId: `${x.id}.${x.a}.1`,
                deployableId: x.id,
                seq: seq++,
                sentAt: now,
                services: {},
              }),
              { ttlMs: 3000 },
            )
            .catch(() => undefined);
        }),
    );
  };
  const ticker = (async () => {
    let slice = 0;
    while (!stop) {
      const t0 = performance.now();
      await beat(slice);
      slice = (slice + 1) % slices;
      const wait = INTERVAL_MS / slices - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();

  // Warm-up: every assembly online.
  await new Promise((r) => setTimeout(r, 5000));
  global.gc?.();
  const rssSteady = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  // Silence 1% at random moments over 5 s (seeded choice: every 100th assembly, offset by a stride).
  const victims = all.filter((_, i) => (i * 7919) % 100 === 0).slice(0, SILENCED);
  victims.forEach((v, i) =>
    setTimeout(() => silencedAt.set(v.key, performance.now()), (i * 5000) / victims.length),
  );
  await new Promise((r) => setTimeout(r, 5000 + INTERVAL_MS * MISSES + 4000));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  stop = true;
  await ticker;
  await host.close();
  await gen.close();
  await dpeEdge.close();
  await listener.close();

  const detection: number[] = [];
  const toRecovery: number[] = [];
  for (const v of victims) {
    const m = missedAt.get(v.key);
    const last = lastSent.get(v.key);
    if (m !== undefined && last !== undefined) detection.push(m - last);
    const r = recoveryAt.get(v.key);
    if (m !== undefined && r !== undefined) toRecovery.push(r - m);
  }
  const falseAlarms = [...missedAt.keys()].filter((k) => !silencedAt.has(k)).length;
  const floor = INTERVAL_MS * MISSES;
  const p99d = pct(detection, 99);
  const p99r = pct(toRecovery, 99);
  return [
    {
      benchmark: 'heartbeats',
      figure: `detection latency p50 (${victims.length} of ${all.length} silenced)`,
      value: pct(detection, 50),
      unit: 'ms',
      baseline: 'interval × misses',
      baselineValue: floor,
      ratio: pct(detection, 50) / floor,
    },
    {
      benchmark: 'heartbeats',
      figure: 'detection latency p99',
      value: p99d,
      unit: 'ms',
      baseline: 'interval × misses',
      baselineValue: floor,
      ratio: p99d / floor,
      target: '<= 3600 ms',
      met: p99d <= 3600,
    },
    {
      benchmark: 'heartbeats',
      figure: 'detected / silenced; false alarms',
      value: detection.length / victims.length,
      unit: `(false alarms: ${falseAlarms})`,
    },
    {
      benchmark: 'heartbeats',
      figure: 'detection → first recovery command p99',
      value: p99r,
      unit: 'ms',
      target: '<= 100 ms',
      met: p99r <= 100,
    },
    {
      benchmark: 'heartbeats',
      figure: `DPE host CPU (with the generated agents, ${all.length} heartbeats/s)`,
      value: ((cpu.user + cpu.system) / 1000 / wall) * 100,
      unit: '% of one core',
    },
    { benchmark: 'heartbeats', figure: 'DPE host RSS, steady', value: rssSteady / 1048576, unit: 'MiB' },
    {
      benchmark: 'heartbeats',
      figure: 'memory per deployable (10 assemblies)',
      value: (rssSteady - rssBefore) / DEPLOYABLES / 1024,
      unit: 'KiB',
      target: '1,000 deployables on this machine',
      met: (rssSteady - rssBefore) / 1048576 < 4096,
    },
  ];
}
