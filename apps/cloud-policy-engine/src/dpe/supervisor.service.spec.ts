import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { Bus, OutboxRelay, silentLogger } from '@nephele/bus';
import { createEvent, DpeHeartbeat } from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import { CpeConfig } from '../config/env';
import { DeployablesRepository, RegistryRow } from '../deployables/deployables.repository';
import { SupervisorService } from './supervisor.service';

/** Supervision of one running DPE with the database, the bus and the runtime stubbed out. */
describe('CPE supervisor: DPE heartbeat timeout', () => {
  const T0 = Date.parse('2025-01-01T00:00:00Z');
  let ready: boolean;
  let marks: Partial<RegistryRow>[];
  let stops: string[];
  let sut: SupervisorService;

  beforeEach(async () => {
    jest.useFakeTimers({ now: T0 });
    ready = true;
    marks = [];
    stops = [];
    const row = {
      deployable_id: 'd1',
      epoch: 1,
      worker_id: 'inline',
      pid: null,
      runtime: 'inline',
      state: 'running',
      restarts: 0,
      started_at: new Date(T0 - 60_000),
      next_start_at: null,
      last_reason: null,
      desired: 'started',
    };
    const repo = {
      registryAll: async () => [row],
      registry: async () => row,
      markRegistry: async (_id: string, f: Partial<RegistryRow>) => void marks.push(f),
      transaction: async (f: (tx: unknown) => Promise<unknown>) => f({ query: async () => [] }),
    } as unknown as DeployablesRepository;
    const bus = {
      isReady: () => ready,
      subscribe: async () => ({ cancel: async () => undefined }),
    } as unknown as Bus;
    const outbox = { nudge: () => undefined, drain: async () => 0 } as unknown as OutboxRelay;
    const config = { runtime: 'inline', heartbeatTimeoutMs: 3000, startGraceMs: 15_000 } as CpeConfig;
    const host = { run: async () => undefined, stopDpe: async (id: string) => void stops.push(id) };
    sut = new SupervisorService(
      repo,
      bus,
      outbox,
      config,
      {} as DataSource,
      true, // embedded: always the leader
      silentLogger as AppLogger,
      new Registry(),
      host,
    );
    await sut.onApplicationBootstrap();
    jest.setSystemTime(T0 + 20_000); // past the grace a new leader gives every DPE
  });

  afterEach(async () => {
    await sut.onApplicationShutdown();
    jest.useRealTimers();
  });

  // What DpeHeartbeatsConsumer does with a heartbeat off the bus.
  const beat = () =>
    sut.heard(
      createEvent('dpe-worker', DpeHeartbeat.type, {
        deployableId: 'd1',
        epoch: 1,
        workerId: 'inline',
        pid: 1,
      }).data!,
    );
  const pass = async (ms: number) => {
    jest.setSystemTime(Date.now() + ms);
    await (sut as any).pass();
  };
  const died = () => marks.some((m) => m.state === 'dead');

  it('declares a silent DPE dead after the heartbeat timeout', async () => {
    await beat();
    await pass(2900);
    expect(died()).toBe(false);
    await pass(200);
    expect(died()).toBe(true);
    expect(stops).toEqual(['d1']);
  });

  it('does not judge DPEs while its own bus connection is down, and gives them time after', async () => {
    await beat();
    await pass(500);
    ready = false; // the broker restarts: no heartbeat can arrive
    await pass(5000);
    await pass(5000);
    expect(died()).toBe(false);
    ready = true;
    await pass(1000); // back: DPEs reconnect with backoff too
    await pass(10_000);
    expect(died()).toBe(false);
    await beat();
    await pass(2900);
    expect(died()).toBe(false);
    await pass(200);
    expect(died()).toBe(false); // still within the grace after the bus came back
    await pass(5000);
    expect(died()).toBe(true); // silent past grace and timeout: dead
  });
});
