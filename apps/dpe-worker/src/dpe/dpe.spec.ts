import { EdgeConnection, EdgeHandler, EdgeMessage, MemoryBus, Outcome, silentLogger } from '@nephele/bus';
import {
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  DeployableDocument,
  InstanceQuery,
  agentCredential,
  signAgentMessage,
} from '@nephele/contracts';
import { Dpe } from './dpe';

/** An edge whose connection the test drops and restores. */
class FakeEdge implements EdgeConnection {
  readonly mode = 'broker' as const;
  readonly id = 'dpe-test';
  connected = true;
  private readonly handlers = new Map<string, EdgeHandler>();
  private readonly listeners = new Set<() => void>();
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  isConnected(): boolean {
    return this.connected;
  }
  onConnected(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async send(): Promise<void> {}
  async receive(address: string, handler: EdgeHandler) {
    this.handlers.set(address, handler);
    return { close: async () => void this.handlers.delete(address) };
  }
  async request(): Promise<EdgeMessage> {
    throw new Error('not in this test');
  }
  async serve() {
    return { close: async () => undefined };
  }
  drop(): void {
    this.connected = false;
  }
  restore(): void {
    this.connected = true;
    for (const l of this.listeners) l();
  }
  async deliver(address: string, body: unknown): Promise<void> {
    await this.handlers.get(address)!({
      address,
      body,
      bodyFormat: 'json',
      applicationProperties: {},
      durable: false,
      deliveryCount: 0,
    });
  }
}

const KEY = 'test-deployable-agent-key';
const CREDENTIAL = agentCredential(KEY, 'd1.a1.1');

const doc: DeployableDocument = {
  name: 'd1',
  pool: 'default',
  monitor: { heartbeatIntervalMs: 1000, missedHeartbeats: 3 },
  assemblies: [{ name: 'a1', image: 'debian-12', hardwareProfile: 'small', services: [] }],
  constraints: [],
};

describe('DPE heartbeat deadlines', () => {
  let t: number;
  let seq: number;
  let dpe: Dpe;
  let edge: FakeEdge;
  let bus: MemoryBus;

  beforeEach(async () => {
    t = Date.parse('2025-01-01T00:00:00Z');
    seq = 0;
    bus = new MemoryBus();
    await bus.respond('test.cpe', ['#'], async (e) => {
      switch (e.type) {
        case CpeDeployableGet.type:
          return { version: 1, document: doc, desired: 'started', project: 'p1', agentKey: KEY };
        case CpeDpeStateGet.type:
          return { state: null };
        case CpeDpeStatePut.type:
          return { ok: true };
        case InstanceQuery.type:
          return {
            items: [{ id: 'i1', owner: 'deployable:d1/a1#1', state: 'running', addresses: [], name: 'a1' }],
          };
        default:
          throw new Error(`unexpected ${e.type}`);
      }
    });
    edge = new FakeEdge();
    dpe = new Dpe({
      deployableId: 'd1',
      epoch: 1,
      workerId: 'w1',
      bus,
      edge,
      log: silentLogger,
      agentEdgeUrl: 'amqp://127.0.0.1:5672/test',
      now: () => t,
    });
    await dpe.start();
  });

  afterEach(() => dpe.stop());

  const heartbeat = () =>
    edge.deliver(
      'nephele.agent.events.d1',
      signAgentMessage(CREDENTIAL, {
        kind: 'heartbeat',
        assemblyId: 'd1.a1.1',
        deployableId: 'd1',
        seq: seq++,
        sentAt: new Date(t).toISOString(),
        services: {},
      }),
    );
  const after = (ms: number) => {
    t += ms;
    (dpe as any).tick();
    return dpe.observed().assemblies.a1!.state;
  };

  it('fails an assembly whose agent is silent past interval × missed', async () => {
    await heartbeat();
    expect(after(2900)).toBe('online');
    expect(after(200)).toBe('failed');
  });

  it('does not count the time the DPE itself could not hear (its edge down), and lets agents reconnect', async () => {
    await heartbeat();
    edge.drop();
    expect(after(8000)).toBe('online'); // the broker is restarting: nobody can be heard
    edge.restore();
    expect(after(9000)).toBe('online'); // agents reconnect with backoff (up to 10 s)
    await heartbeat();
    expect(after(2900)).toBe('online');
    expect(after(200)).toBe('failed'); // heard again, then silent: the usual deadline
  });

  it('waits for its receivers to be attached again before it counts', async () => {
    await heartbeat();
    edge.drop();
    expect(after(4000)).toBe('online');
    edge.connected = true; // the connection is open again, the receivers not attached yet
    expect(after(1000)).toBe('online');
    edge.restore();
    expect(after(10_000 + 2900)).toBe('online');
    expect(after(200)).toBe('failed');
  });

  it('does not count the time the broker is unreachable (its bus down) while the edge still looks connected', async () => {
    await heartbeat();
    const ready = jest.spyOn(bus, 'isReady').mockReturnValue(false); // RabbitMQ stopping
    expect(after(6000)).toBe('online');
    ready.mockReturnValue(true);
    expect(after(0)).toBe('online'); // the clock's next look (every 250 ms)
    expect(after(10_000 + 2900)).toBe('online');
    expect(after(200)).toBe('failed');
  });

  it('still fails an agent that does not come back after the DPE reconnected', async () => {
    await heartbeat();
    edge.drop();
    t += 5000;
    edge.restore();
    expect(after(10_000 + 2900)).toBe('online');
    expect(after(200)).toBe('failed');
  });
});

describe('DPE agent identity', () => {
  let t: number;
  let dpe: Dpe;
  let edge: FakeEdge;
  let bus: MemoryBus;
  let stopped: string | undefined;
  const audits: unknown[] = [];
  const stateEpochs: number[] = [];

  beforeEach(async () => {
    t = Date.parse('2025-01-01T00:00:00Z');
    stopped = undefined;
    audits.length = 0;
    stateEpochs.length = 0;
    bus = new MemoryBus();
    await bus.respond('test.cpe', ['#'], async (e) => {
      switch (e.type) {
        case CpeDeployableGet.type:
          return { version: 1, document: doc, desired: 'started', project: 'p1', agentKey: KEY };
        case CpeDpeStateGet.type:
          return { state: null };
        case CpeDpeStatePut.type:
          stateEpochs.push((e.data as { epoch: number }).epoch);
          return { ok: true }; // the CPE says epoch 1 is current
        case InstanceQuery.type:
          return {
            items: [{ id: 'i1', owner: 'deployable:d1/a1#1', state: 'running', addresses: [], name: 'a1' }],
          };
        default:
          throw new Error(`unexpected ${e.type}`);
      }
    });
    await bus.subscribe({
      queue: 'test.audit',
      exchange: 'nephele.events',
      bindings: ['nephele.audit.agent.refused'],
      handler: async (e) => {
        audits.push(e.data);
        return Outcome.ack();
      },
    });
    edge = new FakeEdge();
    dpe = new Dpe({
      deployableId: 'd1',
      epoch: 1,
      workerId: 'w1',
      bus,
      edge,
      log: silentLogger,
      agentEdgeUrl: 'amqp://127.0.0.1:5672/test',
      now: () => t,
      onStop: (r) => (stopped = r),
    });
    await dpe.start();
  });

  afterEach(() => dpe.stop());

  const hb = (extra: object = {}) => ({
    kind: 'heartbeat',
    assemblyId: 'd1.a1.1',
    deployableId: 'd1',
    seq: 1,
    sentAt: new Date(t).toISOString(),
    services: { 'a1.web': 'failed' },
    ...extra,
  });

  it("refuses and audits an unsigned heartbeat, one signed with another assembly's credential, and a tampered one", async () => {
    await edge.deliver('nephele.agent.events.d1', hb());
    await edge.deliver('nephele.agent.events.d1', signAgentMessage(agentCredential(KEY, 'd1.a2.1'), hb()));
    const signed = signAgentMessage(CREDENTIAL, hb());
    await edge.deliver('nephele.agent.events.d1', { ...signed, services: { 'a1.web': 'running' } });
    expect(dpe.observed().assemblies.a1!.state).toBe('pending'); // nothing was believed
    await new Promise((r) => setImmediate(r));
    expect(audits.length).toBeGreaterThanOrEqual(1);
    expect(audits[0]).toMatchObject({ deployableId: 'd1', assemblyId: 'd1.a1.1', kind: 'heartbeat' });
    await edge.deliver('nephele.agent.events.d1', signed);
    expect(dpe.observed().assemblies.a1!.state).toBe('online');
  });

  it('a forged huge epoch does not fence it out; even a signed one only makes it ask the CPE, which keeps it', async () => {
    await edge.deliver('nephele.agent.events.d1', hb({ epoch: 2 ** 31 }));
    await edge.deliver('nephele.agent.events.d1', signAgentMessage(CREDENTIAL, hb({ epoch: 5 })));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBeUndefined();
    expect(stateEpochs).toContain(1);
  });
});
