// One DPE host of bench/heartbeats.bench.ts: in the bench's process (its DPEs on in-process edge
// connections), or in a process of its own (BENCH_HB_PROCESSES=1, as a worker runs: its DPEs
// receive the generated agents' heartbeats over AMQP 1.0 from the bench's edge listener, as they
// would from RabbitMQ's plugin). The CPE's and the state tracker's answers come from an in-process
// bus. Reports (over IPC in a process of its own; times as epoch milliseconds, comparable across
// processes): heartbeat_missed and first recovery commands, its process's CPU and RSS.
import {
  CloudEvent,
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  InstanceCreate,
  InstanceQuery,
  Topology,
} from '@nephele/contracts';
import { createEdgeConnection, EdgeConnection, MemoryBus, Outcome, silentLogger } from '@nephele/bus';
import { DpeHost } from '../apps/dpe-worker/src/host/dpe-host';

export interface HostSetup {
  workerId: string;
  /** The edge listener's URL (a host in a process of its own connects there). */
  edgeUrl: string;
  ids: string[];
  assemblies: string[];
  agentKey: string;
  intervalMs: number;
  misses: number;
  /** DPEs per edge connection (Note [Edge connections per host]). */
  dpesPerEdge: number;
}

export type HostMessage =
  | { kind: 'ready'; rssBefore: number }
  | { kind: 'steady'; rss: number }
  | {
      kind: 'report';
      cpuMs: number;
      wallMs: number;
      missed: [string, number][];
      recovery: [string, number][];
    };

const now = () => performance.timeOrigin + performance.now();

type OpenEdge = (n: number) => Promise<EdgeConnection>;

async function setUp(
  s: HostSetup,
  sink: { missed: Map<string, number>; recovery: Map<string, number> },
  openEdge: OpenEdge,
): Promise<DpeHost> {
  const { missed, recovery } = sink;
  const bus = new MemoryBus();
  await bus.start();
  const doc = {
    name: 'bench',
    pool: 'default',
    monitor: { heartbeatIntervalMs: s.intervalMs, missedHeartbeats: s.misses },
    assemblies: s.assemblies.map((name) => ({
      name,
      image: 'debian-12',
      hardwareProfile: 'small',
      services: [],
    })),
    constraints: [],
  };
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
          agentKey: s.agentKey,
        };
      if (e.type === CpeDpeStateGet.type) return { state: null };
      return { ok: true };
    },
  );
  await bus.respond('bench.tracker', [InstanceQuery.type], async (e) => {
    const id = (e.data as { ownerPrefix: string }).ownerPrefix.slice('deployable:'.length, -1);
    return {
      items: s.assemblies.map((a) => ({
        id: `${id}-${a}`,
        owner: `deployable:${id}/${a}#1`,
        state: 'running',
        addresses: ['127.0.0.1'],
        name: null,
      })),
    };
  });
  await bus.subscribe({
    queue: 'bench.events',
    exchange: Topology.events,
    bindings: ['nephele.assembly.heartbeat_missed'],
    validate: false,
    handler: async (e: CloudEvent) => {
      const d = e.data as { deployableId: string; assembly: string };
      missed.set(`${d.deployableId}/${d.assembly}`, now());
      return Outcome.ack();
    },
  });
  await bus.subscribe({
    queue: 'bench.commands',
    exchange: Topology.commands,
    bindings: [InstanceCreate.type],
    validate: false,
    handler: async (e: CloudEvent) => {
      const m = /^deployable:([^/]+)\/([^#]+)#(\d+)$/.exec((e.data as { owner: string }).owner);
      if (m && m[3] !== '1' && !recovery.has(`${m[1]}/${m[2]}`)) recovery.set(`${m[1]}/${m[2]}`, now());
      return Outcome.ack();
    },
  });
  const edge = await openEdge(0);
  const host = new DpeHost({
    bus,
    edge,
    log: silentLogger,
    workerId: s.workerId,
    agentEdgeUrl: s.edgeUrl,
    heartbeatMs: 1000,
    openEdge,
    dpesPerEdge: s.dpesPerEdge,
  });
  await host.start();
  for (const id of s.ids) await host.run(id, 1);
  return host;
}

/** One host's side of the bench protocol (setup → ready, measure → steady, report, exit). */
export class BenchHost {
  private readonly missed = new Map<string, number>();
  private readonly recovery = new Map<string, number>();
  private host?: DpeHost;
  private cpu0?: NodeJS.CpuUsage;
  private wall0 = 0;

  constructor(private readonly openEdge: (s: HostSetup) => OpenEdge) {}

  async handle(m: { kind: string; setup?: HostSetup }): Promise<HostMessage | undefined> {
    switch (m.kind) {
      case 'setup': {
        global.gc?.();
        const rssBefore = process.memoryUsage().rss;
        this.host = await setUp(
          m.setup!,
          { missed: this.missed, recovery: this.recovery },
          this.openEdge(m.setup!),
        );
        return { kind: 'ready', rssBefore };
      }
      case 'measure':
        global.gc?.();
        this.cpu0 = process.cpuUsage();
        this.wall0 = performance.now();
        return { kind: 'steady', rss: process.memoryUsage().rss };
      case 'report': {
        const cpu = process.cpuUsage(this.cpu0);
        return {
          kind: 'report',
          cpuMs: (cpu.user + cpu.system) / 1000,
          wallMs: performance.now() - this.wall0,
          missed: [...this.missed],
          recovery: [...this.recovery],
        };
      }
      case 'exit':
        await this.host?.close();
        return undefined;
    }
    return undefined;
  }
}

if (process.env.BENCH_HB_CHILD) {
  const h = new BenchHost((s) => async (n) => {
    const e = createEdgeConnection({
      mode: 'broker',
      url: s.edgeUrl,
      id: `bench-${s.workerId}-${n}`,
      logger: silentLogger,
    });
    await e.start();
    return e;
  });
  process.on('message', (m: { kind: string }) => {
    // (exit: a CPU profile, when asked for, is written on exit)
    if (m.kind === 'exit') process.exit(0);
    void h.handle(m).then((r) => r && process.send!(r));
  });
}
