import { PollingLoop } from '@nephele/util';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OutboxRelay } from '@nephele/bus';
import { AppLogger, counter, histogram } from '@nephele/observability';
import {
  classify,
  lbKey,
  nextRecheck,
  ObservedServer,
  plan,
  capacityView,
  StepOutcome,
  StepResult,
} from '@nephele/scaling';
import { CLOCK, Clock, LOGGER, METRICS } from '@nephele/service-kit';
import { Counter, Histogram, Registry } from 'prom-client';
import { ScalerConfig } from '../config/env';
import { GroupRow, toPlannerGroup, toPlannerLaunch } from '../groups/group.types';
import { GroupsRepository } from '../groups/groups.repository';
import { DeliveriesService } from '../notifications/deliveries.service';
import { SCALER_CONFIG, SCALER_OUTBOX } from '../scaler.tokens';
import { ConvergeSignal } from './converge.signal';
import { LifecycleRunner } from './lifecycle.runner';
import { RefreshRunner } from './refresh.runner';
import { ServerRow, ServersRepository } from './servers.repository';
import { StepExecutor } from './step.executor';
import { VictimPicker } from './victim.picker';

// Note [One pass per group]
// Convergence is level-based (controller-runtime style): anything that may change what a group
// needs — a policy execution, a server event, an API call — only sets the group's
// `converge_after` to now, in the same transaction as its own change. Each replica loops: claim
// due groups (`converge_after <= now()`, no live lease) with FOR UPDATE SKIP LOCKED, setting a
// lease and clearing the request; run one pass per claimed group (gather → plan → execute →
// classify); release the lease with a requeue-after chosen from the verdict (retry, limited-retry)
// or from `nextRecheck` (end of a build timeout or of a draining period). A request that arrives
// during a pass sets `converge_after` again, so the group is picked up right after the release:
// nothing is lost, and two replicas never run a pass of the same group at once. A replica that
// dies mid-pass leaves a lease that expires after SCALER_CONVERGE_LEASE_MS; the pass is then
// simply planned again from what is there (steps are idempotent: creates carry idempotency keys).

/** The convergence loop (see Note [One pass per group]). */
@Injectable()
export class ConvergerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollingLoop;
  private readonly passes: Counter;
  private readonly passSeconds: Histogram;

  constructor(
    private readonly servers: ServersRepository,
    private readonly groups: GroupsRepository,
    private readonly executor: StepExecutor,
    private readonly deliveries: DeliveriesService,
    private readonly signal: ConvergeSignal,
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
    this.passSeconds = histogram(
      metrics,
      'nephele_scaler_convergence_pass_seconds',
      'Duration of one convergence pass',
      [],
      [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    );
    this.loop = new PollingLoop(() => this.tick(), { idleMs: this.config.converge.pollMs });
    signal.onNudge(() => this.nudge());
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  nudge(): void {
    this.loop.nudge();
  }

  /** One loop pass (see Note [Polling loops]): every group due, 16 at a time; returns when to look again. */
  private async tick(): Promise<number> {
    let delay = this.config.converge.pollMs;
    try {
      for (;;) {
        const ids = await this.servers.claim(16, this.config.converge.leaseMs);
        await Promise.all(ids.map((id) => this.runPass(id)));
        if (ids.length < 16) break;
      }
      const due = await this.servers.nextDue();
      if (due) delay = Math.max(0, Math.min(delay, due.getTime() - Date.now()));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'convergence loop failed; will retry');
    }
    return delay;
  }

  private async runPass(groupId: string): Promise<void> {
    const t0 = performance.now();
    let requeue: Date | undefined;
    try {
      requeue = await this.pass(groupId);
    } catch (e) {
      this.log.warn({ groupId, err: (e as Error).message }, 'convergence pass failed');
      requeue = new Date(this.clock.now().getTime() + this.config.converge.retryMs);
    } finally {
      this.passSeconds.observe((performance.now() - t0) / 1000);
      await this.servers
        .release(groupId, requeue)
        .catch((e: Error) =>
          this.log.warn({ groupId, err: e.message }, 'could not release a convergence lease'),
        );
    }
  }

  /** One pass: gather → plan → execute → classify; returns when to look again. */
  async pass(groupId: string): Promise<Date | undefined> {
    const now = this.clock.now();
    let group = await this.groups.getGroup(groupId);
    if (!group) return undefined;
    let rows = await this.servers.list(groupId);
    if (group.deleting && rows.length === 0) {
      await this.groups.transaction((tx) => this.groups.deleteGroup(tx, groupId));
      this.log.info({ groupId }, 'group deleted after its servers');
      return undefined;
    }
    // Lifecycle hooks and the instance refresh move first; the plan then sees what they did.
    const hooks = await this.lifecycle.advance(group, rows, now);
    const refresh = await this.refresh.advance(group, await this.servers.list(groupId), now);
    if (refresh.launchChanged) group = (await this.groups.getGroup(groupId)) ?? group;
    rows = await this.servers.list(groupId);
    const g = group.deleting
      ? { ...toPlannerGroup(group), minEntities: 0, maxEntities: 0, desired: 0, paused: false }
      : toPlannerGroup(group);
    const launch = toPlannerLaunch(group.launch_config);
    // A group being deleted takes every server with it, protected or detached.
    const observed = rows
      .map(toObserved)
      .map((o) => (group.deleting ? { ...o, protected: false, detached: false } : o));
    let customVictimOrder: string[] | undefined;
    if (group.termination_policy === 'custom' && !g.paused) {
      // Ask the customer only when a scale-in will remove active servers.
      const view = capacityView(g, launch, observed, now);
      const surplus =
        view.active.length +
        view.building.length -
        view.target -
        view.building.filter((s) => !s.protected).length;
      if (surplus > 0) {
        const ids = new Set(view.active.filter((s) => !s.protected).map((s) => s.id));
        customVictimOrder = await this.victims.pick(
          group,
          surplus,
          rows.filter((r) => ids.has(r.id)),
        );
      }
    }
    const steps = plan(g, launch, observed, now, { customVictimOrder });
    const launchBlocked =
      group.launch_failures >= this.config.converge.maxLaunchFailures
        ? `launching is suspended after ${group.launch_failures} consecutive launch failures (last: ${group.last_launch_error ?? 'unknown'}); fix the launch config or POST …/converge`
        : undefined;
    const ctx = { group, now, launchBlocked };
    const results: StepResult[] = [];
    for (const step of steps) results.push(await this.executor.run(ctx, step));
    await this.resendDestroys(ctx, rows);
    // What the steps made (new builds, draining servers) decides when to look again.
    const fresh = await this.servers.list(groupId);
    const notified = await this.readyHooks(group, fresh, launch.loadBalancers.map(lbKey));
    const verdict = classify(results);
    this.passes.inc({ verdict });
    await this.recordStatus(group, verdict, results);
    if (steps.length || notified || hooks.published || refresh.published) this.outbox.nudge();
    const problems = results.filter((r) => r.outcome !== 'success');
    if (problems.length) {
      this.log.info(
        { groupId, verdict, problems: problems.map((r) => `${r.step.kind}: ${r.reason ?? ''}`) },
        'convergence pass had problems',
      );
    }
    const after = (ms: number) => new Date(now.getTime() + ms);
    const recheck = nextRecheck(g, launch, fresh.map(toObserved), now);
    const byVerdict: Record<StepOutcome, Date | undefined> = {
      success: undefined,
      retry: after(this.config.converge.retryMs),
      'limited-retry': after(this.config.converge.limitedRetryMs),
      failure: undefined,
    };
    const hookDeadline = this.lifecycle.nextDeadline(group, fresh, now);
    const candidates = [byVerdict[verdict], recheck, hooks.recheck, hookDeadline, refresh.recheck].filter(
      (d): d is Date => d !== undefined,
    );
    return candidates.length ? new Date(Math.min(...candidates.map((d) => d.getTime()))) : undefined;
  }

  /** A destroy that got no answer for a minute is sent again (the gateway dedupes). */
  private async resendDestroys(ctx: { group: GroupRow; now: Date }, rows: ServerRow[]): Promise<void> {
    const stale = rows.filter(
      (s) =>
        s.state === 'deleting' &&
        s.instance_id &&
        s.destroy_sent_at &&
        ctx.now.getTime() - new Date(s.destroy_sent_at).getTime() > 60_000,
    );
    for (const s of stale) {
      await this.servers.transaction(async (tx) => {
        await this.servers.update(tx, s.id, { destroy_sent_at: ctx.now });
        await this.executor.sendDestroy(
          tx,
          ctx.group.id,
          s.instance_id!,
          'destroy not confirmed; sent again',
        );
      });
    }
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
    await this.groups.db.query(`UPDATE scaler.groups SET status = $2, errors = $3::jsonb WHERE id = $1`, [
      group.id,
      status,
      JSON.stringify(errors),
    ]);
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
        : s.evicted && s.state !== 'deleting'
          ? 'error'
          : s.state,
    createdAt: new Date(s.created_at),
    lbMemberships: s.lb_memberships,
    drainingSince: s.draining_since ? new Date(s.draining_since) : undefined,
    protected: s.protected,
    detached: s.detached,
    launchVersion: s.launch_version,
  };
}
