import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { enqueueEvents, LoggerLike, markProcessed, OutboxRelay } from '@nephele/bus';
import {
  CloudEvent,
  createEvent,
  InstanceActionCompletedData,
  InstanceState,
  InstanceStateChanged,
  InstanceStateChangedData,
  InstanceVanished,
  InstanceOrphanDetected,
  LaunchResultData,
  ProviderInstanceView,
} from '@nephele/contracts';
import { AppLogger, counter } from '@nephele/observability';
import { LOGGER, METRICS } from '@nephele/service-kit';
import { Registry } from 'prom-client';
import { STATE_TRACKER_SCHEMA } from '../data-source';
import { judgeTransition } from './instance-state.machine';
import { HistoryRow, InstanceRow, InstancesRepository, StateUpdate } from './instances.repository';
import { planPoll, PollPlan } from './poll.plan';

export const TRACKER_OUTBOX = Symbol('TRACKER_OUTBOX');
export const SERVICE = 'state-tracker';

export type ObservationSource = 'gateway' | 'poll' | 'callback' | 'feed';

export interface Observation {
  state: InstanceState;
  addresses?: string[];
  reason: string;
  source: ObservationSource;
}

/** Applies observations to the instance store: transition check, history, events (one transaction). */
@Injectable()
export class InstancesService {
  private readonly log: LoggerLike;
  private readonly refused;
  private readonly transitions;

  constructor(
    private readonly repo: InstancesRepository,
    @Inject(TRACKER_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(LOGGER) log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.log = log;
    this.refused = counter(
      metrics,
      'nephele_tracker_refused_transitions_total',
      'Observations refused as impossible transitions',
    );
    this.transitions = counter(metrics, 'nephele_tracker_transitions_total', 'Instance state transitions', [
      'to',
    ]);
  }

  private stateChanged(
    row: InstanceRow,
    from: InstanceState | undefined,
    to: InstanceState,
    reason: string,
    addresses: string[],
  ): CloudEvent {
    const data: InstanceStateChangedData = {
      instanceId: row.id,
      to,
      reason,
      owner: row.owner,
      providerAccountId: row.provider_account_id,
      addresses,
      version: row.version + (from === undefined ? 0 : 1),
    };
    if (from) data.from = from;
    if (row.pool) data.pool = row.pool;
    if (row.provider_instance_id) data.providerInstanceId = row.provider_instance_id;
    return createEvent(SERVICE, InstanceStateChanged.type, data, { subject: row.id, project: row.project });
  }

  /** Applies one observation to a locked row inside `tx`; returns the events to publish. */
  private apply(
    tx: EntityManager,
    row: InstanceRow,
    o: Observation,
    history: HistoryRow[],
    batch?: StateUpdate[],
  ): Promise<CloudEvent[]> {
    // With `batch`, the row update is collected for one UPDATE of them all (Note [Poll cost]).
    const write = (u: StateUpdate): Promise<void> => {
      if (!batch) return this.repo.updateState(tx, u.id, u);
      batch.push(u);
      return Promise.resolve();
    };
    const verdict = judgeTransition(row.state, o.state);
    const addresses = o.addresses ?? row.addresses;
    switch (verdict.kind) {
      case 'same': {
        if (JSON.stringify(addresses) === JSON.stringify(row.addresses)) return Promise.resolve([]);
        return write({ id: row.id, state: row.state, addresses, reason: row.reason }).then(() => []);
      }
      case 'refused':
        this.refused.inc();
        this.log.info({ instanceId: row.id, from: row.state, to: o.state, source: o.source }, verdict.reason);
        return Promise.resolve([]);
      case 'allowed':
        history.push({
          instance_id: row.id,
          from_state: row.state,
          to_state: o.state,
          reason: o.reason,
          source: o.source,
        });
        this.transitions.inc({ to: o.state });
        return write({ id: row.id, state: o.state, addresses, reason: o.reason }).then(() => [
          this.stateChanged(row, row.state, o.state, o.reason, addresses),
        ]);
    }
  }

  private async commit(
    fn: (tx: EntityManager, history: HistoryRow[]) => Promise<CloudEvent[]>,
  ): Promise<number> {
    const n = await this.repo.transaction(async (tx) => {
      const history: HistoryRow[] = [];
      const events = await fn(tx, history);
      await this.repo.insertHistory(tx, history);
      await enqueueEvents(tx, STATE_TRACKER_SCHEMA, events);
      return events.length;
    });
    if (n) this.outbox.nudge();
    return n;
  }

  /** The gateway launched an instance: it enters the store. Idempotent on the event id and the instance id. */
  async launched(event: CloudEvent<LaunchResultData>): Promise<void> {
    const d = event.data!;
    await this.commit(async (tx, history) => {
      if (!(await markProcessed(tx, STATE_TRACKER_SCHEMA, 'launches', event))) return [];
      const state = d.state ?? 'pending';
      const row = {
        id: d.instanceId,
        owner: d.owner,
        project: d.project ?? null,
        pool: d.pool ?? null,
        provider_account_id: d.providerAccountId ?? 'unknown',
        provider_instance_id: d.providerInstanceId ?? null,
        idempotency_key: d.idempotencyKey,
        name: d.name ?? null,
        image: d.image ?? null,
        hardware_profile: d.hardwareProfile ?? null,
        state,
        addresses: d.addresses ?? [],
        reason: 'launched',
      };
      if (!(await this.repo.insert(tx, row))) return [];
      history.push({
        instance_id: row.id,
        from_state: null,
        to_state: state,
        reason: 'launched by the gateway',
        source: 'gateway',
      });
      return [
        this.stateChanged(
          { ...row, version: 1 } as InstanceRow,
          undefined,
          state,
          'launched by the gateway',
          row.addresses,
        ),
      ];
    });
  }

  /** The gateway carried out an action: record the state it reported. */
  async actionCompleted(event: CloudEvent<InstanceActionCompletedData>): Promise<void> {
    const d = event.data!;
    if (!d.ok) return;
    const state: InstanceState | undefined = d.state ?? (d.action === 'destroy' ? 'terminating' : undefined);
    if (!state) return;
    await this.observeById(
      d.instanceId,
      { state, reason: `${d.action}: ${d.reason}`, source: 'gateway' },
      event,
    );
  }

  async observeById(id: string, o: Observation, event?: CloudEvent): Promise<boolean> {
    let found = false;
    await this.commit(async (tx, history) => {
      if (event && !(await markProcessed(tx, STATE_TRACKER_SCHEMA, `observe-${o.source}`, event))) {
        found = true;
        return [];
      }
      const [row] = await this.repo.lockByIds(tx, [id]);
      if (!row) return [];
      found = true;
      return this.apply(tx, row, o, history);
    });
    return found;
  }

  async observeByProvider(
    accountId: string,
    providerInstanceId: string,
    o: Observation,
    event?: CloudEvent,
  ): Promise<boolean> {
    let found = false;
    await this.commit(async (tx, history) => {
      if (event && !(await markProcessed(tx, STATE_TRACKER_SCHEMA, `observe-${o.source}`, event))) {
        found = true;
        return [];
      }
      const row = await this.repo.lockByProvider(tx, accountId, providerInstanceId);
      if (!row) return [];
      found = true;
      return this.apply(tx, row, o, history);
    });
    return found;
  }

  /**
   * One poll result for an account: every known live instance is compared with what the provider
   * listed (the pure planPoll). Changes, vanished instances and new orphans are written in one
   * transaction each.
   */
  async reconcile(
    accountId: string,
    known: InstanceRow[],
    listed: ProviderInstanceView[],
    listedAt: Date,
    vanishGraceMs: number,
  ): Promise<{ changed: number; vanished: number; orphans: number }> {
    return this.applyPollPlan(accountId, planPoll(known, listed, listedAt, vanishGraceMs), listed);
  }

  /** Writes what a poll of an account means (planPoll's plan). */
  async applyPollPlan(
    accountId: string,
    plan: PollPlan,
    listed: ProviderInstanceView[],
  ): Promise<{ changed: number; vanished: number; orphans: number }> {
    const { changed, vanished } = await this.applyPoll(accountId, plan.observations);
    await this.repo.markPolled(accountId, plan.listedAt, plan.unlisted);
    const orphans = await this.recordOrphans(accountId, plan.unknownProviderIds, listed);
    return { changed, vanished, orphans };
  }

  /** Applies a poll's observations; a live instance seen terminated at the provider is also announced vanished. */
  private async applyPoll(
    accountId: string,
    observations: Map<string, Observation>,
  ): Promise<{ changed: number; vanished: number }> {
    if (!observations.size) return { changed: 0, vanished: 0 };
    let vanished = 0;
    const changed = await this.commit(async (tx, history) => {
      const rows = await this.repo.lockByIds(tx, [...observations.keys()]);
      const events: CloudEvent[] = [];
      const updates: StateUpdate[] = [];
      for (const row of rows) {
        const o = observations.get(row.id)!;
        if (o.state === 'terminated' && row.state !== 'terminating' && row.state !== 'terminated') {
          vanished++;
          events.push(
            createEvent(
              SERVICE,
              InstanceVanished.type,
              {
                instanceId: row.id,
                providerAccountId: accountId,
                providerInstanceId: row.provider_instance_id ?? undefined,
                lastState: row.state,
                owner: row.owner,
              },
              { subject: row.id, project: row.project },
            ),
          );
        }
        events.push(...(await this.apply(tx, row, o, history, updates)));
      }
      await this.repo.updateStates(tx, updates);
      return events;
    });
    return { changed, vanished };
  }

  /** Provider instances the store does not know at all (terminated ones, or launched since the poll began, are known). */
  private async recordOrphans(
    accountId: string,
    unknown: string[],
    listed: ProviderInstanceView[],
  ): Promise<number> {
    const known = new Set(await this.repo.knownProviderIds(accountId, unknown));
    const orphans = await this.repo.newOrphans(
      accountId,
      unknown.filter((id) => !known.has(id)),
    );
    if (orphans.length) {
      const stateOf = new Map(listed.map((p) => [p.id, p.state]));
      await this.commit(async () =>
        orphans.map((id) =>
          createEvent(
            SERVICE,
            InstanceOrphanDetected.type,
            { providerAccountId: accountId, providerInstanceId: id, state: stateOf.get(id) },
            { subject: id },
          ),
        ),
      );
    }
    return orphans.length;
  }
}
