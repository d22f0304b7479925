import { EdgeConnection, EdgeHandler, EdgeMessage, MemoryBus, silentLogger } from '@nephele/bus';
import {
  AgentCommand,
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  DeployableDocument,
  InstanceQuery,
  agentCredential,
  signAgentMessage,
} from '@nephele/contracts';
import { Dpe } from './dpe';

const KEY = 'groups-test-agent-key';
const ASSEMBLY_ID = 'd1.web1.1';
const CREDENTIAL = agentCredential(KEY, ASSEMBLY_ID);

/** An edge with one fake agent on web1: it records the commands and answers each with success. */
class AgentEdge implements EdgeConnection {
  readonly mode = 'broker' as const;
  readonly id = 'dpe-groups-test';
  readonly commands: string[] = [];
  private readonly handlers = new Map<string, EdgeHandler>();
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  isConnected(): boolean {
    return true;
  }
  onConnected(): () => void {
    return () => undefined;
  }
  async send(): Promise<void> {}
  async receive(address: string, handler: EdgeHandler) {
    this.handlers.set(address, handler);
    return { close: async () => void this.handlers.delete(address) };
  }
  async request(address: string, body: unknown): Promise<EdgeMessage> {
    const cmd = body as AgentCommand;
    this.commands.push(`${cmd.action} ${cmd.service.name} on ${address}`);
    const reply = signAgentMessage(CREDENTIAL, {
      kind: 'service-status',
      assemblyId: ASSEMBLY_ID,
      deployableId: 'd1',
      service: cmd.service.name,
      state: cmd.action === 'start' ? 'running' : 'stopped',
      reason: 'done',
      epoch: cmd.epoch,
      requestId: cmd.requestId,
      action: cmd.action,
      at: new Date().toISOString(),
    });
    return {
      address,
      body: reply,
      bodyFormat: 'json',
      applicationProperties: {},
      durable: false,
      deliveryCount: 0,
    };
  }
  async serve() {
    return { close: async () => undefined };
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

const proc = (name: string) => ({
  name,
  class: 'process' as const,
  command: [name],
  parameters: {},
  monitor: { intervalMs: 5000, timeoutMs: 2000 },
});

// Services declared sidecar, cache, httpd; the group starts them httpd, cache, sidecar.
const doc: DeployableDocument = {
  name: 'd1',
  pool: 'default',
  monitor: { heartbeatIntervalMs: 1000, missedHeartbeats: 3 },
  assemblies: [
    {
      name: 'web1',
      image: 'debian-12',
      hardwareProfile: 'small',
      services: [proc('sidecar'), proc('cache'), proc('httpd')],
    },
  ],
  constraints: [],
  groups: [{ name: 'web', services: ['web1/httpd', 'web1/cache', 'web1/sidecar'] }],
};

describe('DPE with a service group', () => {
  let dpe: Dpe;
  let edge: AgentEdge;

  beforeEach(async () => {
    const bus = new MemoryBus();
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
            items: [
              { id: 'i1', owner: 'deployable:d1/web1#1', state: 'running', addresses: [], name: 'web1' },
            ],
          };
        default:
          return undefined;
      }
    });
    edge = new AgentEdge();
    dpe = new Dpe({
      deployableId: 'd1',
      epoch: 1,
      workerId: 'w1',
      bus,
      edge,
      log: silentLogger,
      agentEdgeUrl: 'amqp://127.0.0.1:5672/test',
    });
    await dpe.start();
  });

  afterEach(() => dpe.stop());

  it("starts the group's services in the group's order on its assembly, each after the previous one runs", async () => {
    await edge.deliver(
      'nephele.agent.events.d1',
      signAgentMessage(CREDENTIAL, {
        kind: 'heartbeat',
        assemblyId: ASSEMBLY_ID,
        deployableId: 'd1',
        seq: 0,
        sentAt: new Date().toISOString(),
        services: {},
      }),
    );
    for (let i = 0; i < 200 && edge.commands.length < 3; i++) await new Promise((r) => setTimeout(r, 25));
    expect(edge.commands).toEqual([
      `start web1.httpd on nephele.agent.${ASSEMBLY_ID}`,
      `start web1.cache on nephele.agent.${ASSEMBLY_ID}`,
      `start web1.sidecar on nephele.agent.${ASSEMBLY_ID}`,
    ]);
  });
});
