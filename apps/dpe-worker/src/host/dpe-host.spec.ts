import { EdgeConnection, EdgeListener, MemoryBus, Outcome, silentLogger } from '@nephele/bus';
import {
  CloudEvent,
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  createEvent,
  DpeControl,
  DpeHeartbeat,
  InstanceQuery,
  Topology,
} from '@nephele/contracts';
import { waitFor } from '@nephele/testing';
import { DpeHost } from './dpe-host';

const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** A DpeHost on an in-memory bus (the CPE's and tracker's answers) and an in-process edge listener. */
describe('DpeHost', () => {
  let bus: MemoryBus;
  let listener: EdgeListener;
  let host: DpeHost;
  const edges: EdgeConnection[] = [];
  const beats: CloudEvent[] = [];

  beforeEach(async () => {
    beats.length = 0;
    bus = new MemoryBus();
    await bus.start();
    await bus.respond(
      't.cpe',
      [CpeDeployableGet.type, CpeDpeStateGet.type, CpeDpeStatePut.type],
      async (e) => {
        if (e.type === CpeDeployableGet.type)
          return {
            id: (e.data as { deployableId: string }).deployableId,
            name: 'd',
            version: 1,
            desired: 'started',
            document: {
              name: 'd',
              pool: 'default',
              monitor: { heartbeatIntervalMs: 1000, missedHeartbeats: 3 },
              assemblies: [{ name: 'a1', image: 'debian-12', hardwareProfile: 'small', services: [] }],
              constraints: [],
            },
            agentKey: 'k',
          };
        if (e.type === CpeDpeStateGet.type) return { state: null };
        return { ok: true };
      },
    );
    await bus.respond('t.tracker', [InstanceQuery.type], async () => ({ items: [] }));
    await bus.subscribe({
      queue: 't.beats',
      exchange: Topology.events,
      bindings: [DpeHeartbeat.type],
      validate: false,
      handler: async (e) => {
        beats.push(e);
        return Outcome.ack();
      },
    });
    listener = new EdgeListener({ port: 0, host: '127.0.0.1', logger: silentLogger });
    await listener.start();
    const first = listener.connect('t-0');
    await first.start();
    edges.length = 0;
    edges.push(first);
    host = new DpeHost({
      bus,
      edge: first,
      log: silentLogger,
      workerId: 'w1',
      agentEdgeUrl: 'amqp://127.0.0.1:0',
      heartbeatMs: 60_000, // no periodic beat within a test: every heartbeat seen is a start's
      dpesPerEdge: 2,
      openEdge: async (n) => {
        const c = listener.connect(`t-${n}`);
        await c.start();
        edges.push(c);
        return c;
      },
    });
    await host.start();
  });

  afterEach(async () => {
    await host.close();
    for (const e of edges) await e.close();
    await listener.close();
    await bus.close();
  });

  it('heartbeats each DPE once as it starts (not every DPE on every start), one edge connection per 2 DPEs', async () => {
    for (let i = 0; i < 5; i++) await host.run(id(i), 1);
    await waitFor(() => beats.length >= 5, { what: 'five heartbeats' });
    expect(beats.map((b) => (b.data as { deployableId: string }).deployableId)).toEqual(
      [0, 1, 2, 3, 4].map(id),
    );
    expect(edges).toHaveLength(3);
    expect(host.size()).toBe(5);
  });

  it('a stop naming an older epoch leaves the newer DPE running; one naming its epoch stops it', async () => {
    await host.run(id(0), 1);
    await host.run(id(0), 2);
    const control = (deployableId: string, action: 'start' | 'stop', epoch: number) =>
      bus.publish(
        createEvent('cloud-policy-engine', DpeControl.type, { workerId: 'w1', deployableId, action, epoch }),
        { exchange: Topology.commands },
      );
    await control(id(0), 'stop', 1);
    // A start sent after it, as a barrier: once it ran, the stop before it was handled.
    await control(id(1), 'start', 1);
    await waitFor(() => host.get(id(1)), { what: 'the barrier DPE started' });
    expect(host.get(id(0))?.epoch).toBe(2);
    await control(id(0), 'stop', 2);
    await waitFor(() => host.get(id(0)) === undefined, { what: 'the epoch-2 DPE stopped' });
    expect(host.size()).toBe(1);
  });

  it('its queues are exclusive to it and named after its worker id; another worker\'s control is left alone, an invalid one dead-lettered with the reason', async () => {
    const send = (data: object) =>
      bus.publish(createEvent('cloud-policy-engine', DpeControl.type, data as never), {
        exchange: Topology.commands,
      });
    await send({ workerId: 'w2', deployableId: id(7), action: 'start', epoch: 1 });
    await send({ workerId: 'w1', deployableId: id(8), action: 'launch', epoch: 1 });
    await send({ workerId: 'w1', deployableId: id(9), action: 'start', epoch: 1 });
    await waitFor(() => host.get(id(9)), { what: 'the DPE started by a valid control' });
    expect(host.get(id(7))).toBeUndefined();
    expect(host.get(id(8))).toBeUndefined();
    expect(bus.deadLetters.map((d) => [d.queue, d.reason])).toEqual([
      [expect.stringMatching(/^dpe-worker\.control\.w1\.[0-9a-f]{8}$/), expect.stringMatching(/action/)],
    ]);
  });
});
