import { PollingLoop } from '@nephele/util';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppLogger, histogram } from '@nephele/observability';
import { CLOCK, Clock, delayOf, LOGGER, METRICS, runReconcile } from '@nephele/service-kit';
import { Histogram, Registry } from 'prom-client';
import { ScalerConfig } from '../config/env';
import { SCALER_CONFIG } from '../scaler.tokens';
import { ConvergeSignal } from '../state/converge.signal';
import { ConvergeReconciler } from './converge.reconciler';
import { ServersRepository } from '../state/servers.repository';
import { GroupsRepository } from '../state/groups.repository';

// Note [One pass per group]
// Convergence is level-based (controller-runtime style): anything that may change what a group
// needs — a policy execution, a server event, an API call — only sets the group's
// `converge_after` to now, in the same transaction as its own change. Each replica loops: claim
// due groups (`converge_after <= now()`, no live lease) with FOR UPDATE SKIP LOCKED, setting a
// lease and clearing the request; run one pass per claimed group (gather → plan → execute →
// classify, Note [Converge pass]); release the lease with a requeue-after chosen from the verdict (retry, limited-retry)
// or from `nextRecheck` (end of a build timeout or of a draining period). A request that arrives
// during a pass sets `converge_after` again, so the group is picked up right after the release:
// nothing is lost, and two replicas never run a pass of the same group at once. A replica that
// dies mid-pass leaves a lease that expires after SCALER_CONVERGE_LEASE_MS; the pass is then
// simply planned again from what is there (steps are idempotent: creates carry idempotency keys).

// Note [Firing first]
// 10,000 schedules due at one instant fire in batches on every replica (Note [Schedules across
// replicas]); each committed batch makes its groups due for convergence, and convergence passes
// (several statements per group) then competed with the later batches for the database and the
// CPU: profiled (`npm run bench -- scaler`, BENCH_CPU_PROF), the scaler processes spent a fifth of
// their time writing queries to PostgreSQL and firing lateness grew batch after batch to 7–9 s. So
// while schedule firings are due and not yet recorded (by any replica) the converger waits, for at
// most FIRING_FIRST_MAX_MS of real time per backlog, then converges whatever is still due: a
// firing that keeps failing cannot hold convergence back for longer.
const FIRING_FIRST_MAX_MS = 5_000;
const FIRING_FIRST_RECHECK_MS = 100;

/** The convergence loop (see Note [One pass per group]). */
@Injectable()
export class ConvergerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollingLoop;
  private readonly passSeconds: Histogram;
  /** When (performance.now()) the converger began waiting for due firings (Note [Firing first]). */
  private backlogSince?: number;

  constructor(
    private readonly servers: ServersRepository,
    private readonly groups: GroupsRepository,
    private readonly reconciler: ConvergeReconciler,
    signal: ConvergeSignal,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
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
      if (await this.firingBacklog()) return FIRING_FIRST_RECHECK_MS;
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

  /** Whether to let due schedule firings go first (Note [Firing first]). */
  private async firingBacklog(): Promise<boolean> {
    const next = await this.groups.nextFiringAt();
    if (!next || next.getTime() > this.clock.now().getTime()) {
      this.backlogSince = undefined;
      return false;
    }
    this.backlogSince ??= performance.now();
    return performance.now() - this.backlogSince < FIRING_FIRST_MAX_MS;
  }

  /** One pass (see Note [Converge pass]); returns when to look again. */
  async pass(groupId: string): Promise<Date | undefined> {
    const start = this.clock.now().getTime();
    const result = await runReconcile(this.reconciler, groupId, {
      now: () => this.clock.now().getTime(),
      errorDelayMs: this.config.converge.retryMs,
      log: this.log,
      name: 'convergence pass',
    });
    const ms = delayOf(result);
    return ms === undefined ? undefined : new Date(start + ms);
  }

  private async runPass(groupId: string): Promise<void> {
    const t0 = performance.now();
    let requeue: Date | undefined;
    try {
      requeue = await this.pass(groupId);
    } finally {
      this.passSeconds.observe((performance.now() - t0) / 1000);
      await this.servers
        .release(groupId, requeue)
        .catch((e: Error) =>
          this.log.warn({ groupId, err: e.message }, 'could not release a convergence lease'),
        );
    }
  }
}
