import { Inject, Injectable } from '@nestjs/common';
import { OutboxRelay } from '@nephele/bus';
import { AppLogger, counter } from '@nephele/observability';
import {
  capacityView,
  classify,
  Group,
  LaunchConfig,
  lbKey,
  nextRecheck,
  ObservedServer,
  plan,
  Step,
  StepOutcome,
  StepResult,
} from '@nephele/scaling';
import {
  CLOCK,
  Clock,
  LOGGER,
  METRICS,
  ReconcilePlan,
  ReconcileResult,
  Reconciler,
} from '@nephele/service-kit';
import { Counter, Registry } from 'prom-client';
import { ScalerConfig } from '../config/env';
import { GroupRow, toPlannerGroup, toPlannerLaunch } from '../state/group.types';
import { GroupsRepository } from '../state/groups.repository';
import { DeliveriesService } from '../notifications/deliveries.service';
import { SCALER_CONFIG, SCALER_OUTBOX } from '../scaler.tokens';
import { LifecycleRunner } from './lifecycle.runner';
import { RefreshRunner } from './refresh.runner';
import { ServerRow, ServersRepository } from '../state/servers.repository';
import { PassContext, StepExecutor } from './step.executor';
import { VictimPicker } from './victim.picker';

// Note [Converge pass]
// One group's pass in the shared reconcile shape (Note [Reconcile shape] in service-kit):
//   gather  — the group and its servers; lifecycle hooks and the instance refresh move first (they
//             are runners of their own, with their own notes) and the pass re-reads what they did;
//             a custom termination policy asks the customer's webhook for a victim order only
//             when the capacity view shows a scale-in of active servers;
//   plan    — pure: `plan` from @nephele/scaling, the destroys to send again, and a closing
//             `settle` step (always there, so ready webhooks, the status and the next look are
//             decided on every pass, as before the runner);
//   execute — every planner step runs (a failed step does not stop the others: each answers with
//             a StepResult and `classify` folds them, Otter's rule), then `settle`;
//   classify — the earliest of: the verdict's retry delay, the planner's recheck (a build timeout,
//             a drain), the hooks' and refresh's rechecks → requeue-after; none → done, or
//             terminal when the verdict is `failure` (the group is ERROR until something changes).

/** What a pass decides on. */
export interface ConvergeObservation {
  group: GroupRow;
  rows: ServerRow[];
  /** When the pass started (hooks and the refresh moved at this time). */
  at: Date;
  customVictimOrder?: string[];
  /** Rechecks and publications of the hooks and refresh runners during gather. */
  recheck: Date[];
  published: boolean;
  /** Servers a refresh launches on top of the desired capacity (Note [Instance refresh]). */
  surge?: number;
}

export type ConvergeStep =
  | { kind: 'delete-group' }
  | { kind: 'scale'; step: Step }
  | { kind: 'resend-destroy'; serverId: string; instanceId: string }
  /** Ready webhooks, group status, outbox nudge and the next look (see Note [Converge pass]). */
  | { kind: 'settle'; group: Group; launch: LaunchConfig };

/** The planner's view of a group: a group being deleted wants nothing. */
export function plannerGroup(group: GroupRow, surge = 0): Group {
  return group.deleting
    ? { ...toPlannerGroup(group), minEntities: 0, maxEntities: 0, desired: 0, paused: false }
    : { ...toPlannerGroup(group), ...(surge ? { surge } : {}) };
}

/** The servers as the planner sees them: a group being deleted takes every one, protected or detached. */
export function observedServers(group: GroupRow, rows: readonly ServerRow[]): ObservedServer[] {
  return rows.map(toObserved).map((o) => (group.deleting ? { ...o, protected: false, detached: false } : o));
}

/** A destroy that got no answer for a minute is sent again (the gateway dedupes). */
const RESEND_DESTROY_MS = 60_000;

/** Pure: the steps of one pass (see Note [Converge pass]). */
export function planConvergence(o: ConvergeObservation, now: number): ReconcilePlan<ConvergeStep> {
  if (o.group.deleting && o.rows.length === 0) return { steps: [{ kind: 'delete-group' }] };
  const group = plannerGroup(o.group, o.surge);
  const launch = toPlannerLaunch(o.group.launch_config);
  const steps: ConvergeStep[] = plan(group, launch, observedServers(o.group, o.rows), new Date(now), {
    customVictimOrder: o.customVictimOrder,
  }).map((step) => ({ kind: 'scale', step }));
  for (const s of o.rows)
    if (
      s.state === 'deleting' &&
      s.instance_id &&
      s.destroy_sent_at &&
      now - new Date(s.destroy_sent_at).getTime() > RESEND_DESTROY_MS
    )
      steps.push({ kind: 'resend-destroy', serverId: s.id, instanceId: s.instance_id });
  steps.push({ kind: 'settle', group, launch });
  return { steps };
}

/** The scaler's converge pass as a Reconciler (see Note [Converge pass]). */
@Injectable()
export class ConvergeReconciler implements Reconciler<string, ConvergeObservation, ConvergeStep> {
  private readonly passes: Counter;

  constructor(
    private readonly servers: ServersRepository,
    private readonly groups: GroupsRepository,
    private readonly executor: StepExecutor,
    private readonly deliveries: DeliveriesService,
    private readonly victims: VictimPicker,
    private readonly lifecycle: LifecycleRunner,
    private readonly refresh: RefreshRunner,
    @Inject(SCALER_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.passes = counter(metrics, 'nephele_scaler_convergence_passes_total', 'Convergence passes', [
      'verdict',
    ]);
  }

  async gather(groupId: string): Promise<ConvergeObservation | undefined> {
    const at = this.clock.now();
    let group = await this.groups.getGroup(groupId);
    if (!group) return undefined;
    let rows = await this.servers.list(groupId);
    if (group.deleting && rows.length === 0) return { group, rows, at, recheck: [], published: false };
    // Lifecycle hooks and the instance refresh move first; the plan then sees what they did.
    const hooks = await this.lifecycle.advance(group, rows, at);
    const refresh = await this.refresh.advance(group, await this.servers.list(groupId), at);
    if (refresh.launchChanged) group = (await this.groups.getGroup(groupId)) ?? group;
    rows = await this.servers.list(groupId);
    const surge = await this.refresh.surge(groupId);
    return {
      group,
      rows,
      at,
      customVictimOrder: await this.customVictimOrder(group, rows, at, surge),
      recheck: [hooks.recheck, refresh.recheck].filter((d): d is Date => d !== undefined),
      published: hooks.published || refresh.published,
      surge,
    };
  }

  plan(observed: ConvergeObservation, now: number): ReconcilePlan<ConvergeStep> {
    return planConvergence(observed, now);
  }

  async execute(steps: readonly ConvergeStep[], o: ConvergeObservation): Promise<ReconcileResult> {
    const ctx: PassContext = { group: o.group, now: o.at, launchBlocked: this.launchBlocked(o.group) };
    const results: StepResult[] = [];
    let scaled = 0;
    for (const s of steps) {
      switch (s.kind) {
        case 'delete-group':
          await this.groups.transaction((tx) => this.groups.deleteGroup(tx, o.group.id));
          this.log.info({ groupId: o.group.id }, 'group deleted after its servers');
          return ReconcileResult.done();
        case 'scale':
          scaled++;
          results.push(await this.executor.run(ctx, s.step));
          break;
        case 'resend-destroy':
          await this.servers.transaction(async (tx) => {
            await this.servers.update(tx, s.serverId, { destroy_sent_at: o.at });
            await this.executor.sendDestroy(
              tx,
              o.group.id,
              s.instanceId,
              'destroy not confirmed; sent again',
            );
          });
          break;
        case 'settle':
          return this.settle(o, s, results, scaled > 0);
      }
    }
    return ReconcileResult.done();
  }

  /** Ready webhooks, status, and classify: when to look again (see Note [Converge pass]). */
  private async settle(
    o: ConvergeObservation,
    s: Extract<ConvergeStep, { kind: 'settle' }>,
    results: StepResult[],
    scaled: boolean,
  ): Promise<ReconcileResult> {
    const { group, at: now } = o;
    // What the steps made (new builds, draining servers) decides when to look again.
    const fresh = await this.servers.list(group.id);
    const notified = await this.readyHooks(group, fresh, s.launch.loadBalancers.map(lbKey));
    const verdict = classify(results);
    this.passes.inc({ verdict });
    await this.recordStatus(group, verdict, results);
    if (scaled || notified || o.published) this.outbox.nudge();
    const problems = results.filter((r) => r.outcome !== 'success');
    if (problems.length) {
      this.log.info(
        { groupId: group.id, verdict, problems: problems.map((r) => `${r.step.kind}: ${r.reason ?? ''}`) },
        'convergence pass had problems',
      );
    }
    const after = (ms: number) => new Date(now.getTime() + ms);
    const byVerdict: Record<StepOutcome, Date | undefined> = {
      success: undefined,
      retry: after(this.config.converge.retryMs),
      'limited-retry': after(this.config.converge.limitedRetryMs),
      failure: undefined,
    };
    const candidates = [
      byVerdict[verdict],
      nextRecheck(s.group, s.launch, fresh.map(toObserved), now),
      ...o.recheck,
      this.lifecycle.nextDeadline(group, fresh, now),
    ].filter((d): d is Date => d !== undefined);
    if (candidates.length) {
      const at = Math.min(...candidates.map((d) => d.getTime()));
      return ReconcileResult.requeueAfter(at - now.getTime(), verdict);
    }
    return verdict === 'failure'
      ? ReconcileResult.terminal(problems.map((r) => r.reason ?? r.step.kind).join('; '))
      : ReconcileResult.done();
  }

  private launchBlocked(group: GroupRow): string | undefined {
    return group.launch_failures >= this.config.converge.maxLaunchFailures
      ? `launching is suspended after ${group.launch_failures} consecutive launch failures (last: ${group.last_launch_error ?? 'unknown'}); fix the launch config or POST …/converge`
      : undefined;
  }

  /** Asks the customer for a victim order only when a scale-in will remove active servers. */
  private async customVictimOrder(
    group: GroupRow,
    rows: ServerRow[],
    now: Date,
    surge: number,
  ): Promise<string[] | undefined> {
    const g = plannerGroup(group, surge);
    if (group.termination_policy !== 'custom' || g.paused) return undefined;
    const view = capacityView(g, toPlannerLaunch(group.launch_config), observedServers(group, rows), now);
    const surplus =
      view.active.length +
      view.building.length -
      view.target -
      view.building.filter((s) => !s.protected).length;
    if (surplus <= 0) return undefined;
    const ids = new Set(view.active.filter((s) => !s.protected).map((s) => s.id));
    return this.victims.pick(
      group,
      surplus,
      rows.filter((r) => ids.has(r.id)),
    );
  }

  /** Servers that are active and in every balancer of the launch config get their ready webhook. */
  private async readyHooks(group: GroupRow, rows: ServerRow[], wanted: string[]): Promise<number> {
    const ready = rows.filter(
      (s) =>
        s.state === 'active' &&
        s.lifecycle === 'in-service' &&
        !s.notified &&
        !s.evicted &&
        wanted.every((k) => s.lb_memberships.some((m) => lbKey(m) === k)),
    );
    for (const s of ready) {
      await this.servers.transaction(async (tx) => {
        await this.servers.update(tx, s.id, { notified: true });
        if (group.ready_webhook) await this.deliveries.enqueue(tx, group, s);
      });
    }
    if (ready.length && group.ready_webhook) this.deliveries.nudge();
    return ready.length;
  }

  private async recordStatus(group: GroupRow, verdict: StepOutcome, results: StepResult[]): Promise<void> {
    const status = verdict === 'failure' ? 'ERROR' : 'ACTIVE';
    const errors =
      verdict === 'success'
        ? []
        : [
            ...new Set(results.filter((r) => r.outcome !== 'success').map((r) => r.reason ?? r.step.kind)),
          ].slice(0, 20);
    if (status === group.status && JSON.stringify(errors) === JSON.stringify(group.errors)) return;
    await this.groups.setStatus(group.id, status, errors);
  }
}

export function toObserved(s: ServerRow): ObservedServer {
  return {
    id: s.id,
    // A server asked to leave is broken as far as the planner is concerned: it is replaced, or
    // deleted when not needed (DELETE …/servers/{id}?replace=). One held by a terminating hook
    // is already leaving (Note [Hook execution]).
    state:
      s.lifecycle === 'TERMINATING:WAIT'
        ? 'deleting'
        : s.evicted && s.state !== 'deleting' && s.state !== 'draining'
          ? 'error'
          : s.state,
    evicted: Boolean(s.evicted) && s.state === 'active',
    createdAt: new Date(s.created_at),
    lbMemberships: s.lb_memberships,
    drainingSince: s.draining_since ? new Date(s.draining_since) : undefined,
    protected: s.protected,
    detached: s.detached,
    launchVersion: s.launch_version,
  };
}
