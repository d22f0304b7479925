import { PollingLoop, sleep } from '@nephele/util';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppLogger, counter, histogram } from '@nephele/observability';
import { dueFiring } from '@nephele/scaling';
import { CLOCK, Clock, LOGGER, METRICS } from '@nephele/service-kit';
import { Counter, Histogram, Registry } from 'prom-client';
import { EntityManager } from 'typeorm';
import { enqueueEvents, OutboxRelay } from '@nephele/bus';
import { SCALER_SCHEMA } from '../data-source';
import { ScalerConfig } from '../config/env';
import { toPlannerPolicy } from '../state/group.types';
import { ClaimedFiring, FiringOutcome, PoliciesRepository } from '../state/policies.repository';
import { GroupsRepository } from '../state/groups.repository';
import { SCALER_CONFIG, SCALER_EMBEDDED, SCALER_OUTBOX } from '../scaler.tokens';
import { PolicyExecutorService, PolicyOutcome } from './policy-executor.service';

// Note [Schedules across replicas]
// Every replica runs this loop; nothing elects a leader. A policy row carries `next_firing_at`
// (an index finds the due ones) and `last_fired_at` (the last firing handled). For a due policy,
// the planner's `dueFiring` names the firing by its scheduled time (Note [Schedule firings] in
// libs/scaling); the replica records (policy, scheduled time) in `schedule_firings` and executes
// the policy in the same transaction. Due policies are claimed in batches, each together with
// its group, with `FOR UPDATE SKIP LOCKED`, so replicas (and the workers of one replica) take
// disjoint batches and each adds capacity; the claim never waits for a lock, so it cannot
// deadlock with the paths that lock a group and then its policy. A firing is recorded only if it
// is later than the latest firing recorded for the policy (read by the claim, under the policy's
// lock, since only a holder of that lock records a firing), and the firings' primary key still
// refuses a second row: each firing runs once. A crash before the commit leaves no firing row and
// the next replica executes it. After downtime, the latest missed firing still runs when it is at
// most SCALER_SCHEDULE_GRACE_MS old; older ones are recorded as missed.

// Note [Firing batches]
// 10,000 schedules due at one instant, two replicas, 2 shared cores (`npm run bench -- scaler`).
// Profiled (BENCH_CPU_PROF and per-batch timings): per batch of 500 the transaction ran eleven
// statements (claim; insert pending firings; lock groups; lock policies again; mark executed;
// set desired; enqueue events; update firings with outcomes; advance policies), each policy row
// was written twice and each firing row twice, the two updates hashed the whole policies and
// groups tables to join 500 rows, and the outbox relay published the first batches' events (in
// both replicas) while later batches waited: 2.4 core-seconds for 10,000 firings, lateness p99
// 3.6-4.1 s. Now a batch is one claim that locks and reads policies and groups together, a
// decision in memory (PolicyExecutorService.planMany), one statement that writes the firings with
// their outcomes, the policies and the groups (by primary key), and one outbox insert; the relay
// is held while a pass fires (released at its end), as the converger is (Note [Firing first]).
// About 1.5 core-seconds for 10,000 firings; lateness p99, interleaved runs on the same loaded
// machine: before 11.0/5.2 s, after 3.5/2.9 s (4 workers), then 1.0-1.35 s with 2 workers.

// Claiming workers per replica: measured with two replicas on 2 shared cores, 10,000 due at once,
// same-period runs: 4 workers 1.76/1.69 s p99, 2 workers 1.15/1.35/1.04 s, 1 worker 1.47/1.12 s
// (eight concurrent batch transactions mostly competed with one another for the CPU).
const CONCURRENCY = 2;
// Firings per claimed batch: each batch costs a handful of set-based statements whatever its
// size, so 10,000 due at once are 20 transactions, not 200 (profiled: at 50 per batch the
// scaler processes spent most of their CPU writing small queries to PostgreSQL).
const BATCH = 500;

// Note [Staged firings]
// Firings due within SCALER_SCHEDULE_LEAD_MS are prepared before their time: up to STAGED
// transactions per replica each claim a batch due at that instant (the rows stay locked: no other
// replica, worker or REST write changes them meanwhile), decide with the due time as `now`, write
// the policies, groups and outbox rows, then wait for the due time, write the firing rows
// (executed_at is then the clock, not the due time) and commit. Nothing is visible before the
// commit — the groups' new capacity, the events, the firings — so a firing still takes effect at
// or after its time, once; a replica that dies while staging rolls back and the others fire the
// batch when it is due. What a replica could not stage fires at the due time as before. The cost
// is that a REST write to a group whose schedule is staged waits until the firing commits (at
// most the lead). Measured with 10,000 due at once and two replicas on 2 shared cores: the
// batches' statements took 200-300 ms each under contention, so firing after the due time spread
// the firings over 1.3-1.6 s (p99); staged, they commit together at the due time.
// Off on the embedded database: its single connection cannot be held while the service waits.
const STAGED = 6;
const STAGED_BATCH = 1000;

@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollingLoop;
  private lastHousekeeping = 0;
  private readonly stopping = new AbortController();
  private readonly committed: PolicyOutcome[] = [];
  private readonly firings: Counter;
  private readonly lateness: Histogram;

  constructor(
    private readonly repo: GroupsRepository,
    private readonly policies: PoliciesRepository,
    private readonly executor: PolicyExecutorService,
    @Inject(SCALER_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: AppLogger,
    @Inject(METRICS) metrics: Registry,
    @Inject(SCALER_EMBEDDED) private readonly embedded: boolean,
  ) {
    this.firings = counter(metrics, 'nephele_scaler_schedule_firings_total', 'Schedule firings', ['outcome']);
    this.lateness = histogram(
      metrics,
      'nephele_scaler_schedule_lateness_seconds',
      'Execution time minus scheduled time of schedule firings',
      [],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30],
    );
    this.loop = new PollingLoop(() => this.pass(), { idleMs: this.config.schedule.pollMs });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
  }

  /** One pass (see Note [Polling loops]): fire what is due; returns when to look again. */
  private async pass(): Promise<number> {
    let delay = this.config.schedule.pollMs;
    // While this pass fires, the outbox relay waits (Note [Firing batches]).
    let release: (() => void) | undefined;
    let claimed = 0;
    const lead = this.embedded ? 0 : this.config.schedule.leadMs;
    try {
      // A batch that failed is retried policy by policy, and what still fails waits for the next pass.
      const failed: string[] = [];
      const soon = lead ? await this.repo.nextFiringAt() : undefined;
      const ahead = soon ? soon.getTime() - this.clock.now().getTime() : 0;
      if (soon && ahead > 0 && ahead <= lead) {
        release = this.outbox.hold();
        claimed += await this.stage(soon, failed);
      }
      const now = this.clock.now();
      // Workers claim batches until nothing due is left unclaimed (see Note [Schedules across
      // replicas]).
      const worker = async () => {
        for (;;) {
          const ids = await this.fire(now, undefined, failed).catch((e: Error) => {
            this.log.warn({ err: e.message }, 'schedule firings failed; will retry');
            return undefined;
          });
          if (ids === undefined || !ids.claimed) return;
          claimed += ids.claimed;
          release ??= this.outbox.hold();
          failed.push(...ids.failed);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      for (const id of failed) {
        await this.fire(now, id).catch((err: Error) =>
          this.log.warn({ policyId: id, err: err.message }, 'schedule firing failed; will retry'),
        );
      }
      release?.();
      this.afterPass();
      const next = await this.repo.nextFiringAt();
      // Woken `lead` ahead of the next firing, to stage it (Note [Staged firings]).
      if (next) delay = Math.max(0, Math.min(delay, next.getTime() - lead - this.clock.now().getTime()));
      // Due but held by another transaction (e.g. its group is being changed): look again soon,
      // not at once.
      if (!claimed && next && delay === 0) delay = Math.min(this.config.schedule.pollMs, 50);
      await this.housekeeping();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'schedule loop failed; will retry');
    }
    release?.();
    this.afterPass();
    return delay;
  }

  /**
   * Stages the firings due at `at` (Note [Staged firings]): STAGED transactions claim a batch
   * each and commit at `at`. Returns how many were claimed; the policies of a batch that failed
   * go to `failed`.
   */
  private async stage(at: Date, failed: string[]): Promise<number> {
    let claimed = 0;
    await Promise.all(
      Array.from({ length: STAGED }, async () => {
        const r = await this.fire(at, undefined, [], true).catch((e: Error) => {
          this.log.warn({ err: e.message }, 'staging schedule firings failed; will fire when due');
          return undefined;
        });
        claimed += r?.claimed ?? 0;
        failed.push(...(r?.failed ?? []));
      }),
    );
    return claimed;
  }

  /**
   * Publishes the pass's committed executions and wakes the converger, after every due firing of
   * the pass is committed: 10,000 groups scaled out at once would otherwise start converging (a
   * few queries each) while the later batches are still waiting to fire.
   */
  private afterPass(): void {
    for (const o of this.committed.splice(0)) this.executor.after(o);
  }

  /**
   * Claims up to BATCH policies due at `now`, with their groups, that no other transaction holds
   * (`FOR UPDATE SKIP LOCKED`: replicas and workers take disjoint batches) and fires them in that
   * transaction; with `policyId`, only that one; never those in `skip` (failed earlier in this
   * pass). Returns how many were claimed, and when the batch failed (rolled back, so unclaimed
   * again) the ids to retry one by one. `staged`: `now` is ahead of the clock and the batch
   * commits at that time (Note [Staged firings]).
   */
  async fire(
    now: Date,
    policyId?: string,
    skip: readonly string[] = [],
    staged = false,
  ): Promise<{ claimed: number; failed: string[] }> {
    let claimedIds: string[] = [];
    let outcomes: PolicyOutcome[] = [];
    try {
      const r = await this.repo.transaction(async (tx) => {
        const limit = staged ? STAGED_BATCH : BATCH;
        const due = await this.policies.claimDueWithGroups(tx, now, policyId, skip, limit);
        claimedIds = due.map((c) => c.policy.id);
        if (due.length) outcomes = await this.fireTogether(tx, due, staged ? now : undefined);
        return { claimed: due.length, failed: [] };
      });
      // Committed: publish and wake the converger once the pass has fired everything due.
      this.committed.push(...outcomes);
      return r;
    } catch (e) {
      if (policyId !== undefined || !claimedIds.length) throw e;
      this.log.warn({ policies: claimedIds.length, err: (e as Error).message }, 'schedule batch failed');
      return { claimed: claimedIds.length, failed: claimedIds };
    }
  }

  /**
   * Fires a claimed batch in the claiming transaction (see Note [Firing batches]): decides each
   * firing and execution from the claimed rows, then writes everything with two statements.
   */
  private async fireTogether(
    tx: EntityManager,
    batch: readonly ClaimedFiring[],
    stagedAt?: Date,
  ): Promise<PolicyOutcome[]> {
    const now = stagedAt ?? this.clock.now();
    const decided = batch.map(({ policy: p, lastRecorded }) => {
      const after = new Date(p.last_fired_at ?? p.created_at);
      const d = dueFiring(toPlannerPolicy(p), after, now, this.config.schedule.graceMs);
      const firing = d.due ?? d.missed;
      // A firing at or before the latest recorded one was handled already: never twice.
      const fresh = !!firing && !(lastRecorded && firing.getTime() <= new Date(lastRecorded).getTime());
      return { p, after, d, firing, fresh };
    });
    const mine = decided.filter((x) => x.fresh);
    const dueOnes = mine.filter((x) => x.d.due);
    const plan = this.executor.planMany(
      dueOnes.map((x) => ({
        policyId: x.p.id,
        groupId: x.p.group_id,
        trigger: `schedule:${x.d.due!.toISOString()}`,
      })),
      new Map(batch.map((c) => [c.group.id, c.group])),
      new Map(batch.map((c) => [c.policy.id, c.policy])),
      now,
    );
    const byPolicy = new Map(plan.out.map((o) => [o.policyId, o]));
    const dueTimes: number[] = [];
    const results: FiringOutcome[] = mine.map((x) => {
      const o = byPolicy.get(x.p.id);
      let result: string;
      if (x.d.due && o) {
        result = o.ok ? 'executed' : `refused: ${o.reason}`;
        this.firings.inc({ outcome: o.ok ? 'executed' : 'refused' });
        dueTimes.push(x.d.due.getTime());
      } else {
        result = `missed: older than the grace window of ${this.config.schedule.graceMs} ms`;
        this.firings.inc({ outcome: 'missed' });
      }
      return { id: x.p.id, at: x.firing!, outcome: result.slice(0, 2000) };
    });
    const executed = new Set(plan.executed);
    const write = {
      firings: results,
      // Every policy looked at moves on to its next firing (unless it was changed meanwhile).
      advances: decided.map((x) => ({
        id: x.p.id,
        next: x.d.next ?? null,
        firedAt: x.firing ?? x.after,
        version: x.p.version,
        executed: executed.has(x.p.id),
      })),
      desired: plan.scaled,
      at: now,
    };
    if (stagedAt) {
      await this.policies.recordFiringBatch(tx, write, 'changes');
      await enqueueEvents(tx, SCALER_SCHEMA, plan.events);
      const wait = stagedAt.getTime() - this.clock.now().getTime();
      if (wait > 0) await sleep(wait, this.stopping.signal);
      // A replica stopping meanwhile rolls the batch back: the others fire it when due.
      if (this.stopping.signal.aborted)
        throw new Error('stopping: staged firings left to the other replicas');
      await this.policies.recordFiringBatch(tx, write, 'firings');
    } else {
      await this.policies.recordFiringBatch(tx, write);
      await enqueueEvents(tx, SCALER_SCHEMA, plan.events);
    }
    const t = this.clock.now().getTime();
    for (const due of dueTimes) this.lateness.observe(Math.max(0, t - due) / 1000);
    return plan.out;
  }

  private async housekeeping(): Promise<void> {
    const t = this.clock.now().getTime();
    if (t - this.lastHousekeeping < 3_600_000) return;
    this.lastHousekeeping = t;
    const cutoff = new Date(t - 7 * 24 * 3_600_000);
    await this.repo.purgeBefore(cutoff);
  }
}
