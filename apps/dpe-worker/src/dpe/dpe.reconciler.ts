import {
  DeployableFailureHistory,
  DeployableObservedState,
  DeployablePlan,
  DeployableSpec,
  planDeployable,
  PolicyStep,
} from '@nephele/policy';
import {
  executeGraph,
  executeInOrder,
  ReconcilePlan,
  ReconcileResult,
  Reconciler,
  worstOf,
} from '@nephele/service-kit';
import { DpeReporter } from './dpe.reporter';
import { DpeContext, serviceIdOf } from './dpe.types';
import { DeployableState } from './observed-state';
import { DpeStepExecutor } from './step.executor';

// Note [Removed services]
// ~~~~~~~~~~~~~~~~~~~~~~~
// The policy engine plans the services of the configuration; one that a newer version removed (a
// service deleted, a clone narrowed to fewer assemblies) is not in its spec, so it would be left
// running where it is — Pacemaker stops such orphans. The DPE does: a service an online assembly's
// agent reports running or failed that the configuration no longer has is stopped in the pass,
// after the policy's steps, with the definition it had (DeployableState.retired; the agent needs it for OCF/LSB
// stops). Stopped, it is no longer shown. After a DPE restart a removed service's definition is
// unknown: it is reported (shown with its state) but not stopped.

/** One assembly as the plan sees it: whether it needs an instance launched, and what to destroy. */
export interface AssemblyObservation {
  name: string;
  failed: boolean;
  /** Its instance exists and is not terminated or in error. */
  live: boolean;
  launchRequestedAt?: number;
  retryAt?: number;
  /** Instances of older incarnations still alive. */
  destroying: string[];
}

/** What a DPE pass decides on (gathered from the DPE's in-memory observed state). */
export interface DpeObservation {
  at: number;
  spec: DeployableSpec;
  assemblies: AssemblyObservation[];
  policy: DeployableObservedState;
  history: DeployableFailureHistory;
  failedReason?: string;
  /** Services an online assembly runs (or failed) that the configuration no longer has. */
  removed?: { assembly: string; service: string }[];
}

export type DpeStep =
  | { kind: 'destroy-instance'; assembly: string; instanceId: string; reason: string }
  | { kind: 'launch'; assembly: string }
  /** Stop a service the configuration no longer has (Note [Removed services]). */
  | { kind: 'stop-removed'; assembly: string; service: string }
  /** The policy engine's plan: gated by the recovery budgets, then run as a step graph. */
  | { kind: 'policy'; plan: DeployablePlan };

/**
 * Pure: every assembly has an instance (or one on the way) and no older incarnation alive; then
 * the policy engine's plan. A failed deployable launches nothing and plans nothing: the pass is
 * terminal (Note [Recovery budgets]).
 */
export function planDpe(o: DpeObservation, now: number): ReconcilePlan<DpeStep> {
  const steps: DpeStep[] = [];
  for (const a of o.assemblies) {
    for (const instanceId of a.destroying)
      steps.push({
        kind: 'destroy-instance',
        assembly: a.name,
        instanceId,
        reason: 'an older incarnation is still alive',
      });
    if (a.failed || o.failedReason || a.live || a.launchRequestedAt !== undefined) continue;
    if (a.retryAt === undefined || now >= a.retryAt) steps.push({ kind: 'launch', assembly: a.name });
  }
  // Removed services are stopped after the policy's steps: a stop that fails (requeued) never holds
  // back the configured services' recovery.
  const removed = (o.removed ?? []).map((r) => ({ kind: 'stop-removed' as const, ...r }));
  if (o.failedReason)
    return { steps: [...steps, ...removed], result: ReconcileResult.terminal(o.failedReason) };
  steps.push({ kind: 'policy', plan: planDeployable(o.spec, o.policy, o.history, now) }, ...removed);
  return { steps };
}

/** The DPE's reconcile (see Note [DPE] and Note [Reconcile shape] in service-kit). */
export class DpeReconciler implements Reconciler<void, DpeObservation, DpeStep> {
  constructor(
    private readonly ctx: DpeContext,
    private readonly state: DeployableState,
    private readonly executor: DpeStepExecutor,
    private readonly report: DpeReporter,
  ) {}

  async gather(): Promise<DpeObservation | undefined> {
    const s = this.state;
    if (this.ctx.isStopped() || !s.doc || !s.spec) return undefined;
    const at = this.ctx.now();
    const policy = s.observed(at);
    const ids = new Set(s.spec.services.map((x) => x.id));
    const removed = [...s.assemblies.values()].flatMap((a) =>
      policy.assemblies[a.name]?.state !== 'online'
        ? []
        : [...a.services]
            .filter(([name, x]) => x.state !== 'stopped' && !ids.has(serviceIdOf(name)))
            .filter(([name]) => s.retired.has(serviceIdOf(name)))
            .map(([name]) => ({ assembly: a.name, service: serviceIdOf(name) })),
    );
    return {
      at,
      spec: s.spec,
      assemblies: [...s.assemblies.values()].map((a) => ({
        name: a.name,
        failed: !!a.failed,
        live: !!a.instanceId && a.instanceState !== 'terminated' && a.instanceState !== 'error',
        launchRequestedAt: a.launchRequestedAt,
        retryAt: a.retryAt,
        destroying: [...a.destroying],
      })),
      policy,
      history: s.history as DeployableFailureHistory,
      ...(removed.length ? { removed } : {}),
      ...(s.failedReason ? { failedReason: s.failedReason } : {}),
    };
  }

  plan(o: DpeObservation, now: number): ReconcilePlan<DpeStep> {
    return planDpe(o, now);
  }

  execute(steps: readonly DpeStep[], o: DpeObservation): Promise<ReconcileResult> {
    return executeInOrder(steps, async (step) => {
      const a = this.state.assemblies.get(step.kind === 'policy' ? '' : step.assembly);
      switch (step.kind) {
        case 'destroy-instance':
          if (a) await this.executor.destroyInstance(a, step.instanceId, step.reason);
          a?.destroying.delete(step.instanceId);
          return ReconcileResult.done();
        case 'launch':
          if (a) await this.executor.launch(a);
          return ReconcileResult.done();
        case 'stop-removed':
          return a ? this.executor.stopRemoved(a, step.service) : ReconcileResult.done();
        case 'policy':
          return this.runPolicy(step.plan, o.at);
      }
    });
  }

  /** Note [Recovery budgets]: back-off between attempts, moves bounded; then the steps, as a graph. */
  private async runPolicy(planned: DeployablePlan, now: number): Promise<ReconcileResult> {
    const s = this.state;
    s.lastPlan = planned;
    if (planned.steps.length === 0) {
      s.waiting.clear();
      this.report.settleStatus(planned);
      return ReconcileResult.done();
    }
    const gated = s.budget!.gate(planned, now);
    s.waiting = gated.waiting;
    if (gated.failure) {
      this.report.fail(gated.failure);
      return ReconcileResult.terminal(gated.failure.message);
    }
    const wake =
      gated.wakeAt !== undefined
        ? ReconcileResult.requeueAfter(Math.max(0, gated.wakeAt - this.ctx.now()) + 10, 'back-off')
        : ReconcileResult.done();
    const plan = { ...planned, actions: gated.actions, steps: gated.steps };
    if (plan.steps.length === 0) {
      this.report.settleStatus(planned);
      return wake;
    }
    await this.announce(plan);
    const result = await executeGraph(
      plan.steps,
      (x) => this.runStep(x),
      () => this.ctx.isStopped() || !!s.failedReason,
    );
    if (!this.ctx.isStopped()) this.report.settleStatus(s.lastPlan);
    return worstOf([wake, result]);
  }

  /** The status while recovering, and a decision event for each action but routine starts. */
  private async announce(plan: DeployablePlan): Promise<void> {
    const rungs = plan.actions.filter((x) => x.rung);
    if (rungs.length) this.report.setStatus('recovering', rungs.map((x) => x.explanation).join('; '));
    for (const action of plan.actions) {
      if (action.kind === 'start' && !action.rung) continue; // routine starts are not worth an event each
      await this.report.decision({
        action: action.kind,
        ...(action.rung ? { rung: action.rung } : {}),
        ...('resource' in action ? { service: action.resource } : {}),
        assembly: action.node,
        ...(action.kind === 'move' ? { from: action.from } : {}),
        explanation: action.explanation,
      });
    }
  }

  private runStep(step: PolicyStep): Promise<ReconcileResult> {
    return this.executor.step(step).catch((e: Error) => {
      this.ctx.log.warn({ err: e.message, step: step.id }, 'step failed');
      return ReconcileResult.requeueAfter(2000, e.message);
    });
  }
}
