import { EdgeOutcomes, EdgeSubscription, LoggerLike } from '@nephele/bus';
import { AgentAddresses, CloudEvent, DeployableStatus, parseAgentEvent } from '@nephele/contracts';
import { DeployableObservedState } from '@nephele/policy';
import { ReconcileResult, runReconcile } from '@nephele/service-kit';
import { DpeStateStore } from './dpe-state.store';
import { DpeClock, OBSERVED_EVERY, TICK_MS } from './dpe.clock';
import { DpeIntake } from './dpe.intake';
import { DpeReconciler } from './dpe.reconciler';
import { DpeReporter } from './dpe.reporter';
import { DpeContext, DpeDeps } from './dpe.types';
import { DeployableState } from './observed-state';
import { DpeStepExecutor } from './step.executor';

export type { DpeDeps } from './dpe.types';
export { DpeClock } from './dpe.clock';
export { agentServiceName, ownerOf, parseOwner, serviceIdOf } from './dpe.types';

// Note [DPE]
// One DPE keeps one deployable healthy. It is level-based: every input (an agent heartbeat or
// service report, an instance event, a config change, the clock) only updates what the DPE has
// observed and asks for a reconcile; a reconcile reads the whole observed state, asks the policy
// engine for a plan and carries the plan's steps out in dependency order. A reconcile that finds
// nothing to do does nothing, so repeating one is harmless.
//
// Assemblies are instances running the agent. Each assembly has an incarnation number n: its
// instance is owned by `deployable:<id>/<assembly>#<n>` and launched with that owner as the
// idempotency key, so a DPE that restarts and launches "again" gets the instance its predecessor
// launched (see Note [Launch idempotency] in the gateway). Replacing an assembly destroys
// incarnation n and launches n+1. The incarnations and the failure history are saved in the CPE
// (fenced by epoch) so the ladder's counts survive a DPE restart.
//
// Fencing: every command carries the DPE's epoch; the gateway and the agents refuse a lower epoch
// than the highest they have seen. A DPE told it is stale stops acting and tells its host.
//
// The parts (one file each): DeployableState (observed-state.ts: what the DPE knows), DpeIntake
// (inputs update the state), DpeReconciler (gather → plan → execute → classify, Note [Reconcile
// shape] in service-kit), DpeStepExecutor (agent commands, launches, destroys), DpeReporter
// (events, status, snapshots), DpeStateStore (the CPE and the tracker, over the bus). This class
// wires them, owns the lifecycle and the clock, and serialises the passes.

/** The periodic level-based pass runs every this many clock ticks (Note [Host clock]). */
const TICKS_PER_PASS = OBSERVED_EVERY;
/** A pass that threw is tried again by the periodic pass. */
const ERROR_DELAY_MS = TICKS_PER_PASS * TICK_MS;

/** See Note [DPE]. */
export class Dpe {
  readonly deployableId: string;
  readonly epoch: number;
  private readonly ctx: DpeContext;
  private readonly state: DeployableState;
  private readonly store: DpeStateStore;
  private readonly report: DpeReporter;
  private readonly intake: DpeIntake;
  private readonly reconciler: DpeReconciler;
  private stopped = false;
  private reconciling = false;
  private again = false;
  private ticks = 0;
  private leaveClock?: () => void;
  private wakeTimer?: NodeJS.Timeout;
  private agentSub?: EdgeSubscription;
  private offConnected?: () => void;

  constructor(private readonly d: DpeDeps) {
    this.deployableId = d.deployableId;
    this.epoch = d.epoch;
    const now = d.now ?? (() => Date.now());
    this.ctx = {
      d,
      deployableId: d.deployableId,
      epoch: d.epoch,
      log: d.log,
      now,
      persist: () => this.persist(),
      requestReconcile: () => this.requestReconcile(),
      halt: (reason) => this.halt(reason),
      isStopped: () => this.stopped,
    };
    this.state = new DeployableState(d.deployableId, d.edge, d.bus);
    this.store = new DpeStateStore(d.bus, d.deployableId, d.epoch);
    this.report = new DpeReporter(this.ctx, this.state);
    this.intake = new DpeIntake(this.ctx, this.state, this.report);
    const executor = new DpeStepExecutor(this.ctx, this.state, this.report, this.intake);
    this.reconciler = new DpeReconciler(this.ctx, this.state, executor, this.report);
  }

  private get log(): LoggerLike {
    return this.d.log;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (!(await this.loadConfig())) return;
    const saved = await this.store.load();
    this.state.restore(saved);
    const instances = await this.store.instances().catch((e: Error) => {
      this.log.warn(
        { err: e.message },
        'could not read instances from the state tracker; starting from saved state',
      );
      return [];
    });
    this.intake.adoptInstances(instances, saved?.incarnations ?? {});
    this.agentSub = await this.d.edge.receive(AgentAddresses.events(this.deployableId), async (m) => {
      const forged = this.state.auth!.check(m.body);
      if (forged) return EdgeOutcomes.reject(`refused: ${forged}`);
      const r = parseAgentEvent(m.body);
      if (!r.ok)
        return EdgeOutcomes.reject(
          `invalid agent message: ${r.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
        );
      this.intake.onAgentEvent(r.value);
      return EdgeOutcomes.accept();
    });
    this.offConnected = this.d.edge.onConnected(() => this.state.edgeConnected(this.ctx.now()));
    this.leaveClock = (this.d.clock ?? new DpeClock()).join({
      tick: () => this.tick(),
      observe: () => void this.publishObserved(),
    });
    if (this.stopped) this.leaveClock(); // stopped while starting
    await this.report.decision({
      action: 'resume',
      explanation: `DPE started (epoch ${this.epoch}, config v${this.state.version})`,
    });
    this.requestReconcile();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.leaveClock?.();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.offConnected?.();
    await this.agentSub?.close().catch(() => undefined);
  }

  private halt(reason: string): void {
    if (this.stopped) return;
    this.log.warn({ deployableId: this.deployableId, epoch: this.epoch, reason }, 'DPE stops acting');
    void this.stop();
    this.d.onStop?.(reason);
  }

  /** Reads the deployable's current configuration from the CPE; false when it no longer exists. */
  private async loadConfig(): Promise<boolean> {
    const r = await this.store.config();
    if (!r) {
      this.halt('the deployable no longer exists');
      return false;
    }
    this.intake.applyConfig(r);
    return true;
  }

  /** A config change: re-read and converge (services added or removed, nothing else touched). */
  async configChanged(version: number): Promise<void> {
    if (version <= this.state.version) return;
    if (await this.loadConfig()) {
      await this.report.decision({ action: 'reconfigure', explanation: `configuration v${version} applied` });
      this.requestReconcile();
    }
  }

  /** Saves the state in the CPE; a refusal means this DPE's epoch is over. */
  private async persist(): Promise<void> {
    try {
      const r = await this.store.save(this.state.saved());
      if (!r.ok) this.halt(r.reason ?? 'the CPE refused our state (stale epoch)');
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'saving DPE state failed; will save with the next change');
    }
  }

  // ------------------------------------------------------------------ inputs and clock

  /** Instance events for this deployable (the host dispatches them by owner). */
  onInstanceEvent(e: CloudEvent): void {
    this.intake.onInstanceEvent(e);
  }

  private tick(): void {
    if (this.stopped || !this.state.doc) return;
    this.intake.checkDeadlines(this.ctx.now());
    // Periodic level-based pass: catches anything an event could not (retries, unresolved refs).
    if (this.ticks++ % TICKS_PER_PASS === 0) this.requestReconcile();
  }

  // ------------------------------------------------------------------ reconcile

  /** Runs a pass now, or right after the one in flight (passes never overlap). */
  requestReconcile(): void {
    if (this.stopped) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    void this.reconcileLoop();
  }

  private async reconcileLoop(): Promise<void> {
    try {
      do {
        this.again = false;
        this.classify(
          await runReconcile(this.reconciler, undefined, {
            now: this.ctx.now,
            errorDelayMs: ERROR_DELAY_MS,
            log: this.log,
            name: `reconcile of ${this.deployableId}`,
          }),
        );
      } while (this.again && !this.stopped);
    } finally {
      this.reconciling = false;
    }
  }

  /** Terminal: the deployable is failed until the user acts; requeue-after: a pass then. */
  private classify(r: ReconcileResult): void {
    switch (r.kind) {
      case 'done':
        return;
      case 'terminal':
        return this.report.setStatus('failed', this.state.failedReason ?? r.reason);
      case 'requeue-after':
        if (this.wakeTimer) clearTimeout(this.wakeTimer);
        this.wakeTimer = setTimeout(() => this.requestReconcile(), r.ms);
        this.wakeTimer.unref?.();
    }
  }

  // ------------------------------------------------------------------ views

  /** What the DPE sees now, in the policy engine's terms. */
  observed(): DeployableObservedState {
    return this.state.observed(this.ctx.now());
  }

  currentStatus(): { status: DeployableStatus; reason: string } {
    return { status: this.state.status, reason: this.state.statusReason };
  }

  publishObserved(): Promise<void> {
    return this.report.publishObserved();
  }
}
