import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Bus, LoggerLike } from '@nephele/bus';
import {
  createEvent,
  ListAccountInstances,
  ProviderInstanceView,
} from '@nephele/contracts';
import { AppLogger, gauge, histogram } from '@nephele/observability';
import { LeaderLock } from '@nephele/persistence';
import { BUS, LOGGER, METRICS, ReconcileResult, Reconciler, runReconcile } from '@nephele/service-kit';
import { PollingLoop } from '@nephele/util';
import { Registry } from 'prom-client';
import { StateTrackerConfig } from '../config/env';
import { TRACKER_CONFIG, TRACKER_DB, TRACKER_EMBEDDED } from '../state-tracker.tokens';
import { DataSource } from 'typeorm';
import { InstancesRepository } from './instances.repository';
import { InstancesService, SERVICE } from './instances.service';
import { planPoll, PollPlan, PollRow } from './poll.plan';

interface AccountPollObservation {
  accountId: string;
  /** The live rows a plan can act on (Note [Poll cost]). */
  candidates: PollRow[];
  unknownProviderIds: string[];
  /** What the provider listed for the candidates and the unknown ids (not the whole list). */
  listed: ProviderInstanceView[];
  at: Date;
}

export interface CycleReport {
  accounts: number;
  providerCalls: number;
  instances: number;
  changed: number;
  vanished: number;
  orphans: number;
  ms: number;
}

/**
 * Polls every provider account that has live instances: one batched list call per account per
 * cycle (through the gateway, which holds the drivers), faster while any instance is in a
 * transitional state. Runs on the leader replica only (see Note [Leadership]).
 */
@Injectable()
export class PollerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollingLoop;
  private readonly leader: LeaderLock;
  private readonly log: LoggerLike;
  private readonly cycleSeconds;
  private readonly instancesGauge;
  lastCycle?: CycleReport;

  constructor(
    private readonly repo: InstancesRepository,
    private readonly instances: InstancesService,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(TRACKER_CONFIG) private readonly config: StateTrackerConfig,
    @Inject(TRACKER_DB) db: DataSource,
    @Inject(TRACKER_EMBEDDED) embedded: boolean,
    @Inject(LOGGER) log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.log = log;
    this.leader = new LeaderLock(db, 'nephele-state-tracker-poller', embedded);
    this.cycleSeconds = histogram(
      metrics,
      'nephele_tracker_poll_cycle_seconds',
      'Duration of one poll cycle',
      [],
      [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10],
    );
    this.instancesGauge = gauge(
      metrics,
      'nephele_tracker_live_instances',
      'Live instances tracked in the last cycle',
    );
    this.loop = new PollingLoop(
      async () => {
        if (!this.leader.isLeader()) return this.config.pollMs;
        const r = await this.cycle();
        return r.transitional ? this.config.fastPollMs : this.config.pollMs;
      },
      {
        idleMs: this.config.pollMs,
        onError: (e) => {
          this.log.warn({ err: e.message }, 'poll cycle failed');
          return this.config.pollMs;
        },
      },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.leader.start();
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await this.leader.stop();
  }

  /** Poll soon (an instance just entered a transitional state). */
  nudge(): void {
    this.loop.nudge();
  }

  /**
   * The poll of one account as a reconcile (Note [Reconcile shape] in service-kit): gather the
   * store's live instances and the provider's list, plan with the pure planPoll, write the result.
   */
  private accountPoll(report: CycleReport): Reconciler<string, AccountPollObservation, PollPlan> {
    return {
      gather: async (accountId) => {
        // The reply stays JSON bytes: the database reads it (Note [Poll cost]).
        const reply = await this.bus.requestJson(
          createEvent(SERVICE, ListAccountInstances.type, { providerAccountId: accountId }),
          { timeoutMs: 30_000 },
        );
        report.providerCalls++;
        const c = await this.repo.pollCandidates(accountId, reply);
        return {
          accountId,
          candidates: c.rows,
          unknownProviderIds: c.unknownProviderIds,
          listed: c.listed,
          at: c.at,
        };
      },
      plan: (o) => ({
        steps: [
          planPoll(o.candidates, o.listed, o.at, this.config.vanishGraceMs, o.unknownProviderIds),
        ],
      }),
      execute: async ([plan], o) => {
        const r = await this.instances.applyPollPlan(o.accountId, plan!, o.listed);
        report.changed += r.changed;
        report.vanished += r.vanished;
        report.orphans += r.orphans;
        return ReconcileResult.done();
      },
    };
  }

  /** One cycle over every live account (exposed for tests and the benchmark). */
  async cycle(concurrency = 4): Promise<CycleReport & { transitional: boolean }> {
    const t0 = performance.now();
    const accounts = await this.repo.liveAccounts();
    const report = {
      accounts: accounts.length,
      providerCalls: 0,
      instances: accounts.reduce((n, a) => n + a.live, 0),
      changed: 0,
      vanished: 0,
      orphans: 0,
      ms: 0,
    };
    const queue = [...accounts];
    const poll = this.accountPoll(report);
    const worker = async () => {
      for (let a = queue.shift(); a; a = queue.shift()) {
        await runReconcile(poll, a.accountId, { log: this.log, name: 'polling an account' });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
    report.ms = performance.now() - t0;
    this.cycleSeconds.observe(report.ms / 1000);
    this.instancesGauge.set(report.instances);
    this.lastCycle = report;
    return { ...report, transitional: accounts.some((a) => a.transitional) || report.changed > 0 };
  }
}
