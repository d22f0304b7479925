import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { enqueueEvents, OutboxRelay } from '@nephele/bus';
import { CloudEvent, createEvent, GroupScaled, PolicyExecuted } from '@nephele/contracts';
import { AppLogger, counter, gauge, histogram } from '@nephele/observability';
import { EMPTY_TARGET_STATE, evaluateTarget } from '@nephele/scaling';
import { CLOCK, Clock, LOGGER, METRICS } from '@nephele/service-kit';
import { PollingLoop } from '@nephele/util';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ScalerConfig } from '../config/env';
import { ConvergeSignal } from '../state/converge.signal';
import { SCALER_SCHEMA, SERVICE } from '../data-source';
import { SCALER_CONFIG, SCALER_OUTBOX } from '../scaler.tokens';
import { MetricsRepository } from './metrics.repository';

// Note [Target evaluation]
// Every replica runs this loop every SCALER_TARGET_EVAL_MS (15 s) and when a metric arrives;
// a transaction-scoped advisory lock lets one replica evaluate at a time, so two never write a
// policy's recommendations over each other. One pass reads every target policy with its group
// and latest observation, runs the pure `evaluateTarget` (Note [Target tracking] in
// libs/scaling), stores every policy's new state in one statement, and for a decision to scale
// sets the group's desired capacity only if it is still what the decision started from (a
// webhook execution in between wins; the next pass re-evaluates). A scaling writes
// `last_scaled_at` (other policies then respect the group cooldown) and its events through the
// outbox, in the same transaction. Target policies themselves use their own scale-out/scale-in
// cooldowns instead of the group cooldown.

export interface PassStats {
  evaluated: number;
  scaled: number;
  /** Milliseconds from when the pass was due to when it committed. */
  lagMs: number;
}

@Injectable()
export class TargetTrackingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollingLoop;
  private readonly lag: Histogram;
  private readonly lastLag: Gauge;
  private readonly passes: Counter;
  private dueAt = 0;
  private lastNudge = 0;

  constructor(
    private readonly repo: MetricsRepository,
    private readonly signal: ConvergeSignal,
    @Inject(SCALER_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.lag = histogram(
      metrics,
      'nephele_scaler_target_evaluation_lag_seconds',
      'Commit time of a target-tracking pass minus the time it was due',
      [],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15],
    );
    this.lastLag = gauge(
      metrics,
      'nephele_scaler_target_last_pass_lag_seconds',
      'Lag of the latest target-tracking pass (commit minus due time)',
    );
    this.passes = counter(
      metrics,
      'nephele_scaler_target_passes_total',
      'Target-tracking passes that evaluated',
    );
    this.loop = new PollingLoop(() => this.tick(), { idleMs: config.target.evalMs });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** A metric arrived: evaluate soon rather than at the next tick (at most one extra pass a second). */
  nudge(): void {
    const t = this.clock.now().getTime();
    if (t - this.lastNudge < 1000) return;
    this.lastNudge = t;
    this.loop.nudge();
  }

  private async tick(): Promise<number> {
    try {
      await this.pass(this.dueAt || this.clock.now().getTime());
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'target tracking pass failed; will retry');
    }
    this.dueAt = this.clock.now().getTime() + this.config.target.evalMs;
    return this.config.target.evalMs;
  }

  /** One evaluation of every target policy (see Note [Target evaluation]). */
  async pass(dueAtMs: number = this.clock.now().getTime()): Promise<PassStats | undefined> {
    const now = this.clock.now();
    const scaledGroups: string[] = [];
    const stats = await this.repo.transaction(async (tx) => {
      if (!(await this.repo.tryPassLock(tx))) return undefined;
      const work = await this.repo.targetWork(tx);
      const desired = new Map<string, number>();
      const ids: string[] = [];
      const states: unknown[] = [];
      const events: CloudEvent[] = [];
      for (const w of work) {
        const current = desired.get(w.group_id) ?? w.desired;
        const d = evaluateTarget({
          group: {
            minEntities: w.min_entities,
            maxEntities: w.max_entities,
            desired: current,
            paused: w.paused,
          },
          args: w.args,
          state: w.target_state ?? EMPTY_TARGET_STATE,
          observation:
            w.value === null || w.observed_at === null
              ? undefined
              : { value: w.value, at: new Date(w.observed_at) },
          maxAgeMs: this.config.target.maxAgeMs,
          now,
        });
        let reason = d.reason;
        let applied = d.kind !== 'scale';
        if (d.kind === 'scale') {
          const ok = await this.repo.scale(tx, w.group_id, w.policy_id, current, d.desiredAfter, now);
          if (ok) {
            applied = true;
            desired.set(w.group_id, d.desiredAfter);
            scaledGroups.push(w.group_id);
            events.push(...scaledEvents(w, d, now));
          } else reason = `${d.reason} (not applied: the group changed meanwhile)`;
        }
        ids.push(w.policy_id);
        // A decision that was not applied keeps the old cooldown marks.
        const kept = applied ? d.state : (w.target_state ?? EMPTY_TARGET_STATE);
        states.push({
          ...kept,
          recommendations: d.state.recommendations,
          lastDecision: { at: now.toISOString(), reason },
        });
      }
      await this.repo.saveStates(tx, ids, states);
      if (events.length) await enqueueEvents(tx, SCALER_SCHEMA, events);
      return { evaluated: work.length, scaled: scaledGroups.length, lagMs: 0 };
    });
    if (!stats) return undefined;
    stats.lagMs = Math.max(0, this.clock.now().getTime() - dueAtMs);
    this.lag.observe(stats.lagMs / 1000);
    this.lastLag.set(stats.lagMs / 1000);
    this.passes.inc();
    if (scaledGroups.length) {
      this.outbox.nudge();
      this.signal.nudge();
      this.log.info({ groups: scaledGroups.length }, 'target tracking scaled groups');
    }
    return stats;
  }
}

/** The events of a target decision applied: policy.executed and group.scaled. */
function scaledEvents(
  w: { group_id: string; policy_id: string; project: string | null; args: { metric: string } },
  d: { desiredBefore: number; desiredAfter: number; reason: string },
  now: Date,
): CloudEvent[] {
  const data = {
    groupId: w.group_id,
    policyId: w.policy_id,
    trigger: `target:${w.args.metric}`,
    desiredBefore: d.desiredBefore,
    desiredAfter: d.desiredAfter,
    reason: d.reason.slice(0, 2000),
  };
  return [
    createEvent(SERVICE, PolicyExecuted.type, data, {
      subject: w.policy_id,
      time: now,
      project: w.project,
    }) as CloudEvent,
    createEvent(
      SERVICE,
      GroupScaled.type,
      { groupId: w.group_id, from: d.desiredBefore, to: d.desiredAfter, reason: data.reason },
      { subject: w.group_id, time: now, project: w.project },
    ) as CloudEvent,
  ];
}
