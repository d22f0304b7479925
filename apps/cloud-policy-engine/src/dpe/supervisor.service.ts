import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Bus, enqueueEvents, LoggerLike, OutboxRelay } from '@nephele/bus';
import { createEvent, DpeControl, DpeDied, DpeEventData, DpeStarted, Topology } from '@nephele/contracts';
import { AppLogger, gauge } from '@nephele/observability';
import { LeaderLock } from '@nephele/persistence';
import {
  BUS,
  executeInOrder,
  LOGGER,
  METRICS,
  ReconcilePlan,
  ReconcileResult,
  Reconciler,
  runReconcile,
} from '@nephele/service-kit';
import { Registry } from 'prom-client';
import { CpeConfig } from '../config/env';
import { CPE_SCHEMA } from '../data-source';
import { CPE_CONFIG, CPE_DB, CPE_EMBEDDED, CPE_OUTBOX, DPE_INLINE_HOST, SERVICE } from '../cpe.tokens';
import { DeployablesRepository, RegistryRow } from '../deployables/deployables.repository';
import { SupervisorKick } from '../deployables/deployables.service';
import { DpeInlineHost, InlineRuntime } from './inline.runtime';
import { ProcessRuntime } from './process.runtime';
import { isAlive, planSupervision, SupervisionObservation, SupervisionStep } from './supervision.plan';
import { DpeRuntime } from './runtime.types';

// Note [Fencing]
// Each start of a DPE takes a new epoch (dpe_registry.epoch + 1, committed before the DPE runs) and
// announces it with `nephele.dpe.started`. The DPE stamps every command with its epoch; the gateway
// and the agents remember the highest epoch they have seen per deployable and refuse lower ones, and
// the CPE refuses to store a lower epoch's state. So a DPE the CPE gave up on (it stopped
// heartbeating but is still alive behind a network partition) cannot act once its successor did.
//
// Note [Supervision]
// The leader (one CPE replica, by advisory lock; see Note [Leadership]) compares what should run
// (deployables wanted `started`) with what runs (DPE heartbeats of the current epoch). A DPE whose
// process exits, or whose heartbeats stop for DPE_HEARTBEAT_TIMEOUT_MS, is killed if needed and
// started again under a new epoch, with exponential backoff between restarts. A standby that
// becomes leader adopts the DPEs whose heartbeats it hears and restarts the others.
// DPE heartbeats come over this CPE's own bus connection: while it is down (a broker restart) the
// silence says nothing about the DPEs, which reconnect with backoff too. So no DPE is judged while
// the bus is down, and after it is back every DPE gets the same grace as after a leadership change
// (see Note [Observer outage] in the DPE). Without this, a broker restart of a few seconds made the
// CPE kill and restart DPEs that were fine.

/** How long a new leader, or a CPE whose bus came back, listens before judging a DPE silent. */
const OBSERVER_GRACE_MS = 15_000;

@Injectable()
export class SupervisorService
  implements
    OnApplicationBootstrap,
    OnApplicationShutdown,
    SupervisorKick,
    Reconciler<void, SupervisionObservation, SupervisionStep>
{
  private readonly heartbeats = new Map<string, { epoch: number; at: number }>();
  /** Stale DPEs told to stop (deployable:epoch:worker → not again before). */
  private readonly fenced = new Map<string, number>();
  private readonly leader: LeaderLock;
  private runtime!: DpeRuntime;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private again = false;
  private stopped = false;
  private leaderSince?: number;
  private busDown = false;
  private busBackAt = 0;
  private readonly log: LoggerLike;
  private readonly running;
  private cancels: (() => Promise<void>)[] = [];

  constructor(
    private readonly repo: DeployablesRepository,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CPE_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(CPE_CONFIG) private readonly config: CpeConfig,
    @Inject(CPE_DB) db: DataSource,
    @Inject(CPE_EMBEDDED) embedded: boolean,
    @Inject(LOGGER) log: AppLogger,
    @Inject(METRICS) metrics: Registry,
    @Optional() @Inject(DPE_INLINE_HOST) private readonly inlineHost?: DpeInlineHost,
  ) {
    this.log = log;
    this.leader = new LeaderLock(db, 'nephele-cpe-leader', embedded, 1000);
    this.running = gauge(metrics, 'nephele_cpe_dpes_running', 'DPEs heartbeating under their current epoch');
  }

  /** A DPE heartbeat arrived (DpeHeartbeatsConsumer): a lower epoch than the one heard says nothing. */
  heard(d: DpeEventData): void {
    const cur = this.heartbeats.get(d.deployableId);
    if (!cur || d.epoch >= cur.epoch) this.heartbeats.set(d.deployableId, { epoch: d.epoch, at: Date.now() });
    else if (d.workerId && this.leader.isLeader()) this.fence(d.deployableId, d.epoch, d.workerId);
  }

  /**
   * A DPE heartbeats under an older epoch than its successor (its host came back after its DPEs had
   * moved): tell its host to stop it (Note [Fencing] keeps it from acting meanwhile).
   */
  private fence(deployableId: string, epoch: number, workerId: string): void {
    const key = `${deployableId}:${epoch}:${workerId}`;
    const now = Date.now();
    if ((this.fenced.get(key) ?? 0) > now) return;
    this.fenced.set(key, now + 5000);
    if (this.fenced.size > 10_000) for (const [k, t] of this.fenced) if (t < now) this.fenced.delete(k);
    this.log.warn({ deployableId, epoch, workerId }, 'a stale DPE still heartbeats: stopping it');
    void this.bus
      .publish(
        createEvent(SERVICE, DpeControl.type, { workerId, deployableId, action: 'stop' as const, epoch }),
        { exchange: Topology.commands },
      )
      .catch((e: Error) => this.log.warn({ err: e.message }, 'stopping a stale DPE failed'));
  }

  isLeader(): boolean {
    return this.leader.isLeader();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.runtime = this.makeRuntime();
    this.leader.onChange((isLeader) => {
      this.leaderSince = isLeader ? Date.now() : undefined;
      this.log.info({ leader: isLeader }, isLeader ? 'this CPE is the leader' : 'this CPE is a standby');
      if (isLeader) this.kick();
    });
    await this.leader.start();
    this.timer = setInterval(() => this.kick(), 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const c of this.cancels) await c().catch(() => undefined);
    await this.runtime?.close();
    await this.leader.stop();
  }

  private makeRuntime(): DpeRuntime {
    const env = {
      AMQP_URL: this.config.amqpUrl,
      AMQP10_URL: this.config.amqp10Url,
      NEPHELE_AGENT_EDGE_URL: this.config.agentEdgeUrl,
      LOG_LEVEL: this.config.logLevel,
      DPE_BOOT_TIMEOUT_MS: String(this.config.bootTimeoutMs),
    };
    switch (this.config.runtime) {
      case 'inline':
        if (!this.inlineHost)
          throw new Error('CPE_RUNTIME=inline needs the all-in-one (an in-process DPE host)');
        return new InlineRuntime(this.inlineHost);
      case 'kubernetes': {
        // Loaded only for this runtime: the Kubernetes client is large and ESM-only.
        const { KubernetesRuntime } =
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          require('./kubernetes.runtime') as typeof import('./kubernetes.runtime');
        const { secret, ...kube } = this.config.kube;
        return new KubernetesRuntime({
          ...kube,
          // The edge URL defaults to AMQP10_URL in the DPE too: leave it out rather than copy the
          // credentials into the pod spec.
          env:
            secret && env.NEPHELE_AGENT_EDGE_URL === env.AMQP10_URL
              ? { ...env, NEPHELE_AGENT_EDGE_URL: undefined }
              : env,
          fromSecret: secret ? { name: secret, keys: ['AMQP_URL', 'AMQP10_URL'] } : undefined,
          log: this.log,
        });
      }
      case 'process':
        if (!this.config.amqpUrl)
          throw new Error('CPE_RUNTIME=process needs AMQP_URL (workers talk over RabbitMQ)');
        return new ProcessRuntime({
          workerMain: this.config.workerMain,
          env,
          dpePerWorker: this.config.dpePerWorker,
          workers: this.config.dpeWorkers,
          bus: this.bus,
          log: this.log,
        });
    }
  }

  /** Run a supervision pass soon. */
  kick(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    void this.pass()
      .catch((e: Error) => this.log.warn({ err: e.message }, 'supervision pass failed'))
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One supervision pass (Note [Reconcile shape] in service-kit); errors are logged and the next tick retries. */
  private async pass(): Promise<void> {
    await runReconcile(this, undefined, { log: this.log, name: 'supervision pass' });
  }

  async gather(): Promise<SupervisionObservation | undefined> {
    const now = Date.now();
    if (!this.bus.isReady()) this.busDown = true;
    else if (this.busDown) {
      this.busDown = false;
      this.busBackAt = now;
    }
    if (!this.leader.isLeader()) return undefined;
    const o: SupervisionObservation = {
      rows: await this.repo.registryAll(),
      heartbeats: new Map(this.heartbeats),
      leaderSince: this.leaderSince,
      busBackAt: this.busBackAt,
      busDown: this.busDown,
      heartbeatTimeoutMs: this.config.heartbeatTimeoutMs,
      startGraceMs: this.config.startGraceMs,
      observerGraceMs: OBSERVER_GRACE_MS,
    };
    this.running.set(o.rows.filter((r) => isAlive(o, r, now)).length);
    return o;
  }

  plan(o: SupervisionObservation, now: number): ReconcilePlan<SupervisionStep> {
    return { steps: planSupervision(o, now) };
  }

  execute(steps: readonly SupervisionStep[]): Promise<ReconcileResult> {
    return executeInOrder(steps, async (s) => {
      switch (s.kind) {
        case 'stop':
          await this.stopDpe(s.deployableId);
          break;
        case 'start':
          await this.start(s.row);
          break;
        case 'mark-running':
          await this.repo.markRegistry(s.deployableId, { state: 'running' });
          break;
        case 'reset-restarts':
          await this.repo.markRegistry(s.deployableId, { restarts: 0 });
          break;
        case 'died':
          this.runtime.suspect?.(s.row.worker_id);
          await this.died(s.row, s.reason);
          break;
      }
      return ReconcileResult.done();
    });
  }

  private async start(r: RegistryRow): Promise<void> {
    const id = r.deployable_id;
    const epoch = await this.repo.transaction(async (tx) => {
      const e = await this.repo.nextEpoch(tx, id);
      await enqueueEvents(tx, CPE_SCHEMA, [
        createEvent(
          SERVICE,
          DpeStarted.type,
          { deployableId: id, epoch: e, reason: r.restarts ? `restart ${r.restarts}` : 'start' },
          { subject: id, project: r.project },
        ),
      ]);
      return e;
    });
    this.outbox.nudge();
    await this.outbox.drain().catch(() => undefined); // fencing is announced before the DPE acts
    try {
      const where = await this.runtime.start(id, epoch, (reason) => void this.exited(id, epoch, reason));
      await this.repo.markRegistry(id, {
        state: 'starting',
        worker_id: where.workerId,
        pid: where.pid ?? null,
        runtime: this.runtime.kind,
        started: true,
        nextStartAt: null,
      });
      this.log.info({ deployableId: id, epoch, workerId: where.workerId }, 'DPE started');
    } catch (e) {
      await this.repo.markRegistry(id, {
        state: 'dead',
        last_reason: (e as Error).message,
        nextStartAt: new Date(Date.now() + this.backoff(r.restarts + 1)),
        restarts: r.restarts + 1,
      });
      this.log.error({ deployableId: id, err: (e as Error).message }, 'DPE could not be started');
    }
  }

  private backoff(restarts: number): number {
    return Math.min(30_000, 500 * 2 ** Math.max(0, restarts - 1));
  }

  private async exited(id: string, epoch: number, reason: string): Promise<void> {
    const r = await this.repo.registry(id).catch(() => undefined);
    if (!r || r.epoch !== epoch || (r.state !== 'running' && r.state !== 'starting')) return;
    if (!this.leader.isLeader()) return;
    await this.died(r, reason);
  }

  private async died(r: RegistryRow, reason: string): Promise<void> {
    const id = r.deployable_id;
    await this.runtime.stop(id, r.worker_id, r.pid).catch(() => undefined);
    const restarts = r.restarts + 1;
    const delay = this.backoff(restarts);
    await this.repo.markRegistry(id, {
      state: 'dead',
      restarts,
      last_reason: reason,
      nextStartAt: new Date(Date.now() + delay),
    });
    await this.repo.transaction((tx) =>
      enqueueEvents(tx, CPE_SCHEMA, [
        createEvent(
          SERVICE,
          DpeDied.type,
          {
            deployableId: id,
            epoch: r.epoch,
            workerId: r.worker_id ?? undefined,
            pid: r.pid ?? undefined,
            reason: `${reason}; restart in ${delay} ms`,
          },
          { subject: id, project: r.project },
        ),
      ]),
    );
    this.outbox.nudge();
    this.log.warn({ deployableId: id, epoch: r.epoch, reason, restartInMs: delay }, 'DPE died');
  }

  /** Stops a deployable's DPE (stop or destroy): it no longer runs and its epoch is over. */
  async stopDpe(id: string): Promise<void> {
    const r = await this.repo.registry(id);
    if (!r) return;
    await this.runtime
      ?.stop(id, r.worker_id, r.pid)
      .catch((e: Error) => this.log.warn({ err: e.message }, 'stopping a DPE failed'));
    await this.repo.markRegistry(id, { state: 'stopped', last_reason: 'stopped by request' });
  }
}
