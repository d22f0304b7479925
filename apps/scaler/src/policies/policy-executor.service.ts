import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { enqueueEvents, OutboxRelay } from '@nephele/bus';
import { CloudEvent, createEvent, GroupScaled, PolicyExecuted } from '@nephele/contracts';
import { AppLogger, counter } from '@nephele/observability';
import { executePolicy, ExecutionResult } from '@nephele/scaling';
import { CLOCK, Clock, LOGGER, METRICS } from '@nephele/service-kit';
import { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { SCALER_SCHEMA, SERVICE } from '../data-source';
import { ConvergeSignal } from '../state/converge.signal';
import { PlannerGroupRow, PolicyRow, toPlannerGroup, toPlannerPolicy } from '../state/group.types';
import { PoliciesRepository } from '../state/policies.repository';
import { GroupsRepository } from '../state/groups.repository';
import { SCALER_OUTBOX } from '../scaler.tokens';

export type PolicyOutcome =
  | (ExecutionResult & { groupId: string; policyId: string })
  | { ok: false; refusedBy: 'not-found'; reason: string; groupId?: string; policyId: string };

/**
 * Executes a policy: the planner decides (clamping, both cooldowns, paused), this service records
 * the decision and its events in one transaction and asks for a convergence pass.
 */
@Injectable()
export class PolicyExecutorService {
  private readonly executions: Counter;

  constructor(
    private readonly repo: GroupsRepository,
    private readonly policies: PoliciesRepository,
    private readonly signal: ConvergeSignal,
    @Inject(SCALER_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.executions = counter(metrics, 'nephele_scaler_policy_executions_total', 'Policy executions', [
      'trigger',
      'result',
    ]);
  }

  /** Executes in its own transaction, then publishes and converges. */
  async execute(policyId: string, trigger: string, groupId?: string): Promise<PolicyOutcome> {
    const now = this.clock.now();
    const out = await this.repo.transaction((tx) => this.executeIn(tx, policyId, trigger, now, groupId));
    this.after(out);
    return out;
  }

  /** Publishes what a committed execution wrote and wakes the converger. */
  after(out: PolicyOutcome): void {
    this.executions.inc({ trigger: out.ok ? 'accepted' : out.refusedBy, result: out.ok ? 'ok' : 'refused' });
    if (out.ok) {
      this.outbox.nudge();
      if (out.changed) this.signal.nudge();
    }
  }

  /**
   * Decides and records many executions inside `tx` with a handful of set-based statements (the
   * schedule loop fires hundreds of policies at once). Groups, then policies, are locked in id
   * order; executions of one group chain in the order given, each seeing the previous one's
   * capacity and cooldown.
   */
  async executeMany(
    tx: EntityManager,
    items: readonly { policyId: string; groupId: string; trigger: string }[],
    now: Date,
  ): Promise<PolicyOutcome[]> {
    if (!items.length) return [];
    const groups = new Map(
      (await this.repo.lockGroups(tx, [...new Set(items.map((i) => i.groupId))])).map((g) => [g.id, g]),
    );
    const policies = new Map(
      (
        await this.repo.lockPolicies(
          tx,
          items.map((i) => i.policyId),
        )
      ).map((p) => [p.id, p]),
    );
    const { out, executed, scaled, events } = this.planMany(items, groups, policies, now);
    await this.policies.markExecuted(tx, executed, now);
    await this.repo.setDesiredMany(tx, scaled, now);
    await enqueueEvents(tx, SCALER_SCHEMA, events);
    return out;
  }

  /**
   * Decides many executions from locked rows (no I/O): the outcomes, the policies whose cooldown
   * starts, the groups' new desired capacity and the events to enqueue. Executions of one group
   * chain in the order given, each seeing the previous one's capacity and cooldown.
   */
  planMany(
    items: readonly { policyId: string; groupId: string; trigger: string }[],
    groups: ReadonlyMap<string, PlannerGroupRow>,
    policies: ReadonlyMap<string, PolicyRow>,
    now: Date,
  ): { out: PolicyOutcome[]; executed: string[]; scaled: Map<string, number>; events: CloudEvent[] } {
    const planned = new Map<string, ReturnType<typeof toPlannerGroup>>();
    const scaled = new Map<string, number>();
    const executed: string[] = [];
    const events: CloudEvent[] = [];
    const out: PolicyOutcome[] = [];
    for (const it of items) {
      const row = groups.get(it.groupId);
      const policy = policies.get(it.policyId);
      if (!row || !policy || policy.group_id !== it.groupId || row.deleting) {
        out.push({
          ok: false,
          refusedBy: 'not-found',
          policyId: it.policyId,
          groupId: it.groupId,
          reason: `policy ${it.policyId} not found`,
        });
        continue;
      }
      const g = planned.get(row.id) ?? toPlannerGroup(row);
      const r = executePolicy(g, toPlannerPolicy(policy), now);
      out.push({ ...r, groupId: row.id, policyId: it.policyId });
      if (!r.ok) {
        this.log.info(
          { groupId: row.id, policyId: it.policyId, trigger: it.trigger, refusedBy: r.refusedBy },
          r.reason,
        );
        continue;
      }
      // A no-op execution starts no cooldown (Otter: "no change in servers").
      if (r.changed) executed.push(it.policyId);
      events.push(...executionEvents(row, it, g.desired, r, now));
      planned.set(row.id, r.changed ? { ...g, desired: r.desiredAfter, lastScaledAt: now } : g);
      if (r.changed) scaled.set(row.id, r.desiredAfter);
    }
    return { out, executed, scaled, events };
  }

  /**
   * Decides and records one execution inside `tx` (the group row, then the policy row, are locked
   * in that order everywhere, so concurrent executions serialise without deadlocks).
   */
  async executeIn(
    tx: EntityManager,
    policyId: string,
    trigger: string,
    now: Date,
    groupId?: string,
  ): Promise<PolicyOutcome> {
    const notFound = { ok: false as const, refusedBy: 'not-found' as const, policyId, groupId };
    const gid = groupId ?? (await this.policies.groupOf(tx, policyId));
    if (!gid) return { ...notFound, reason: `policy ${policyId} not found` };
    const group = await this.repo.lockGroup(tx, gid);
    const policy = group ? await this.repo.lockPolicy(tx, policyId) : undefined;
    if (!group || !policy || policy.group_id !== gid)
      return { ...notFound, reason: `policy ${policyId} not found` };
    if (group.deleting) return { ...notFound, groupId: gid, reason: `group ${gid} is being deleted` };
    const r = executePolicy(toPlannerGroup(group), toPlannerPolicy(policy), now);
    if (!r.ok) {
      this.log.info({ groupId: gid, policyId, trigger, refusedBy: r.refusedBy }, r.reason);
      return { ...r, groupId: gid, policyId };
    }
    // A no-op execution (e.g. a scale-down at min) starts neither cooldown (Otter's rule).
    if (r.changed) await this.repo.markPolicyExecuted(tx, policyId, now);
    if (r.changed) {
      await this.repo.updateGroup(
        tx,
        gid,
        { desired: r.desiredAfter, last_scaled_at: now },
        { converge: true },
      );
    }
    const events = executionEvents(
      { id: gid, project: group.project },
      { policyId, trigger },
      group.desired,
      r,
      now,
    );
    await enqueueEvents(tx, SCALER_SCHEMA, events);
    return { ...r, groupId: gid, policyId };
  }
}

/**
 * The events of an accepted execution: policy.executed, and group.scaled when the capacity moved
 * (from `desiredBefore` of the group as it was).
 */
function executionEvents(
  group: { id: string; project: string | null },
  it: { policyId: string; trigger: string },
  from: number,
  r: Extract<ExecutionResult, { ok: true }>,
  now: Date,
): CloudEvent[] {
  const events = [
    createEvent(
      SERVICE,
      PolicyExecuted.type,
      {
        groupId: group.id,
        policyId: it.policyId,
        trigger: it.trigger,
        desiredBefore: r.desiredBefore,
        desiredAfter: r.desiredAfter,
        reason: r.reason,
      },
      { subject: it.policyId, time: now, project: group.project },
    ) as CloudEvent,
  ];
  if (r.changed) {
    events.push(
      createEvent(
        SERVICE,
        GroupScaled.type,
        { groupId: group.id, from, to: r.desiredAfter, reason: r.reason },
        { subject: group.id, time: now, project: group.project },
      ) as CloudEvent,
    );
  }
  return events;
}
