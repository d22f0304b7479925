import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Bus, EdgeConnection, LoggerLike } from '@nephele/bus';
import {
  CloudEvent,
  createEvent,
  DeployableConfigChangedData,
  DpeControlData,
  DpeHeartbeat,
} from '@nephele/contracts';
import { BusServer } from '@nephele/service-kit';
import { Dpe, parseOwner } from '../dpe/dpe';
import { DpeHostModule, DpeHostPort } from './dpe-host.consumer';

export interface DpeHostOptions {
  bus: Bus;
  edge: EdgeConnection;
  log: LoggerLike;
  workerId: string;
  agentEdgeUrl: string;
  /** `nephele.dpe.heartbeat` period (default 1 s). */
  heartbeatMs?: number;
  bootTimeoutMs?: number;
  /**
   * Opens the host's n-th edge connection (n ≥ 1; the first is `edge`): one per `dpesPerEdge` DPEs
   * (Note [Edge connections per host]). Without it every DPE uses `edge`.
   */
  openEdge?: (n: number) => Promise<EdgeConnection>;
  /** DPEs per edge connection (default 200). */
  dpesPerEdge?: number;
  /** Called when the last DPE of the host stopped (a worker process exits then). */
  onEmpty?: () => void;
}

// Note [Edge connections per host]
// Each DPE holds a receiver for its agents' events and the edge client gives every link a session
// of its own (Note [Edge client]). rhea walks every session of a connection on each pass over it,
// so one connection carrying the links of 2,500 DPEs spent its time walking sessions (the profile of
// the 25,000-assembly bench: rhea's Session._process on top, on both ends), and RabbitMQ refuses
// more sessions than its channel_max (2,047 by default) on one connection. So a host opens one more
// edge connection per DPE_PER_EDGE DPEs (default 200) and gives each new DPE the least loaded one.

interface EdgeSlot {
  edge: EdgeConnection;
  dpes: number;
  owned: boolean;
}

/**
 * Runs the DPEs of one worker (a process, a pod, or the all-in-one process): one queue for the
 * instance events of all of them, dispatched by owner (`DpeHostConsumer`); DPE heartbeats;
 * start/stop by the CPE.
 */
export class DpeHost implements DpeHostPort {
  private readonly dpes = new Map<string, Dpe>();
  private readonly edges: EdgeSlot[];
  private readonly slotOf = new Map<Dpe, EdgeSlot>();
  private opening?: Promise<EdgeSlot>;
  private heartbeat?: NodeJS.Timeout;
  private app?: INestMicroservice;

  constructor(private readonly o: DpeHostOptions) {
    this.edges = [{ edge: o.edge, dpes: 0, owned: false }];
  }

  /** The edge connection a new DPE uses (Note [Edge connections per host]). */
  private async edgeFor(): Promise<EdgeSlot> {
    const cap = this.o.dpesPerEdge ?? 200;
    const least = () => this.edges.reduce((a, b) => (b.dpes < a.dpes ? b : a));
    while (this.opening) await this.opening;
    let slot = least();
    if (slot.dpes >= cap && this.o.openEdge) {
      const open = this.o.openEdge(this.edges.length).then((edge) => {
        const s: EdgeSlot = { edge, dpes: 0, owned: true };
        this.edges.push(s);
        return s;
      });
      this.opening = open;
      try {
        slot = await open;
      } finally {
        this.opening = undefined;
      }
    }
    slot.dpes++;
    return slot;
  }

  private release(dpe: Dpe): void {
    const slot = this.slotOf.get(dpe);
    if (slot) slot.dpes--;
    this.slotOf.delete(dpe);
  }

  /**
   * Opens the host's queues — a NestJS microservice context whose bus transport discovers
   * `DpeHostConsumer`'s handlers (the queues are exclusive, named after the worker id) — and starts
   * the heartbeats.
   */
  async start(): Promise<void> {
    const strategy = new BusServer(this.o.bus, {
      service: 'dpe-worker',
      log: this.o.log,
      instance: this.o.workerId,
    });
    const app = await NestFactory.createMicroservice(DpeHostModule.forHost(this), {
      strategy,
      logger: false,
      abortOnError: false,
    });
    this.app = app;
    await app.listen();
    this.heartbeat = setInterval(() => void this.beat(), this.o.heartbeatMs ?? 1000);
  }

  instanceEvent(e: CloudEvent): void {
    const owner = (e.data as { owner?: string }).owner;
    const o = owner ? parseOwner(owner) : undefined;
    if (o) this.dpes.get(o.deployableId)?.onInstanceEvent(e);
  }

  configChanged(d: DeployableConfigChangedData): void {
    void this.dpes.get(d.deployableId)?.configChanged(d.version);
  }

  async control(d: DpeControlData): Promise<void> {
    if (d.workerId !== this.o.workerId) return;
    // A stop names the epoch it ends (0: whichever runs): a newer DPE of ours is not touched.
    if (d.action === 'stop') await this.stopDpe(d.deployableId, d.epoch || undefined);
    else await this.run(d.deployableId, d.epoch);
  }

  /** One `nephele.dpe.heartbeat` per DPE of this host (or of the DPEs given). */
  private async beat(dpes: Iterable<Dpe> = this.dpes.values()): Promise<void> {
    const events = [...dpes].map((d) =>
      createEvent(
        'dpe-worker',
        DpeHeartbeat.type,
        { deployableId: d.deployableId, epoch: d.epoch, workerId: this.o.workerId, pid: process.pid },
        { subject: d.deployableId },
      ),
    );
    await this.o.bus
      .publishAll(events)
      .catch((e: Error) => this.o.log.warn({ err: e.message }, 'DPE heartbeat failed'));
  }

  /** Starts (or restarts under a newer epoch) the DPE of a deployable. */
  async run(deployableId: string, epoch: number): Promise<Dpe> {
    const existing = this.dpes.get(deployableId);
    if (existing && existing.epoch >= epoch) return existing;
    if (existing) {
      this.release(existing);
      await existing.stop();
    }
    const slot = await this.edgeFor();
    const dpe: Dpe = new Dpe({
      deployableId,
      epoch,
      workerId: this.o.workerId,
      bus: this.o.bus,
      edge: slot.edge,
      log: this.o.log,
      agentEdgeUrl: this.o.agentEdgeUrl,
      bootTimeoutMs: this.o.bootTimeoutMs,
      onStop: (reason) => {
        this.release(dpe);
        if (this.dpes.get(deployableId) === dpe) this.dpes.delete(deployableId);
        this.o.log.info({ deployableId, epoch, reason }, 'DPE stopped');
        if (this.dpes.size === 0) this.o.onEmpty?.();
      },
    });
    this.dpes.set(deployableId, dpe);
    this.slotOf.set(dpe, slot);
    // Heard at once (not with the host's next beat): only this DPE, so starting n DPEs costs n
    // heartbeats, not n²/2.
    await this.beat([dpe]);
    await dpe.start();
    return dpe;
  }

  async stopDpe(deployableId: string, epoch?: number): Promise<void> {
    const d = this.dpes.get(deployableId);
    if (!d || (epoch !== undefined && d.epoch > epoch)) return;
    this.dpes.delete(deployableId);
    this.release(d);
    await d.stop();
  }

  get(deployableId: string): Dpe | undefined {
    return this.dpes.get(deployableId);
  }

  size(): number {
    return this.dpes.size;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await Promise.all([...this.dpes.values()].map((d) => d.stop()));
    this.dpes.clear();
    this.slotOf.clear();
    await this.app?.close().catch(() => undefined);
    this.app = undefined;
    for (const s of this.edges.splice(1)) if (s.owned) await s.edge.close().catch(() => undefined);
  }
}
