import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { enqueueEvents } from '@nephele/bus';
import { CloudEvent, createEvent, GroupRefreshChanged, GroupRefreshChangedData } from '@nephele/contracts';
import {
  clampDesired,
  lbKey,
  planRefresh,
  RefreshDecision,
  RefreshServer,
  RefreshState,
} from '@nephele/scaling';
import { ScalerConfig } from '../config/env';
import { SCALER_SCHEMA, SERVICE } from '../data-source';
import { GroupRow } from '../state/group.types';
import { GroupsRepository } from '../state/groups.repository';
import { SCALER_CONFIG } from '../scaler.tokens';
import { LoadBalancerRegistry } from './lb.registry';
import { RefreshRepository, RefreshRow } from '../state/refresh.repository';
import { ServerRow, ServersRepository } from '../state/servers.repository';

// Note [Refresh execution]
// `planRefresh` (libs/scaling/src/refresh.ts) decides; this runner applies its decision once per
// convergence pass, under the group's lease (Note [One pass per group]), before the pass plans:
//   start-batch  the old servers of the batch are evicted (as DELETE …/servers/{id} does), so the
//                same pass replaces each of them with a server of the current launch config;
//   roll-back    the group's launch config and version return to the refresh's `from` ones, and
//                the refresh runs on as `rolling-back` towards them;
//   finish       the refresh ends (succeeded, rolled-back);
//   wait         nothing, or the batch is cleared once it is healthy.
// A server counts as healthy for the refresh when it is ACTIVE, in service (no launching hook
// holds it), a member of every balancer of the launch config and, as each balancer reports it
// (HAProxy's health checks: `up`), up in every one. A pass whose balancers cannot be read decides
// nothing about the refresh (an unreachable balancer is no reason to roll back). Everything the refresh knows is
// its row in `scaler.refreshes`, so a restarted scaler resumes where the last pass left it; the
// pass requeues the group every SCALER_CONVERGE_RETRY_MS while a refresh runs, and at the end of
// the batch's warmup.

export interface RefreshAdvance {
  /** When the group should be looked at again for the refresh's sake. */
  recheck?: Date;
  /** Whether an event was written to the outbox. */
  published: boolean;
  /** Whether the group's launch config changed (a roll-back). */
  launchChanged: boolean;
}

/** Per balancer of the launch config (by `lbKey`), the members its balancer reports up. */
export type BalancerHealth = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Whether a server counts as healthy for a refresh (Note [Refresh execution]); without `health`
 * (the API's progress view) membership alone counts.
 */
export function refreshHealthy(group: GroupRow, s: ServerRow, health?: BalancerHealth): boolean {
  const wanted = group.launch_config.loadBalancers.map(lbKey);
  return (
    s.state === 'active' &&
    s.lifecycle === 'in-service' &&
    !s.evicted &&
    wanted.every(
      (k) => s.lb_memberships.some((m) => lbKey(m) === k) && (!health || health.get(k)?.has(s.id) === true),
    )
  );
}

/** The servers a refresh considers: those of the group that are not already leaving. */
export function refreshServers(
  group: GroupRow,
  rows: readonly ServerRow[],
  toVersion?: number,
  health?: BalancerHealth,
): RefreshServer[] {
  return rows
    .filter(
      (s) =>
        !s.detached &&
        !s.evicted &&
        s.state !== 'deleting' &&
        s.state !== 'draining' &&
        !s.lifecycle.startsWith('TERMINATING'),
    )
    .map((s) => ({
      id: s.id,
      // A protected server is never retired (Note [Victim choice]): it counts as up to date, so
      // it adds to the healthy count and does not hold the refresh open.
      launchVersion: s.protected && toVersion !== undefined ? toVersion : s.launch_version,
      healthy: refreshHealthy(group, s, health),
      createdAtMs: new Date(s.created_at).getTime(),
    }));
}

/** Progress figures of a refresh as the API and the events show them. */
export function refreshProgress(
  group: GroupRow,
  r: RefreshRow,
  rows: readonly ServerRow[],
  health?: BalancerHealth,
) {
  const total = clampDesired(
    { minEntities: group.min_entities, maxEntities: group.max_entities },
    group.desired,
  );
  const replaced = refreshServers(group, rows, r.to_version, health).filter(
    (s) => s.launchVersion === r.to_version && s.healthy,
  ).length;
  return { total, replaced: Math.min(replaced, total) };
}

/** The refresh row as the planner reads it. */
function refreshState(r: RefreshRow): RefreshState {
  return {
    status: r.status,
    toVersion: r.to_version,
    fromVersion: r.from_version,
    ...(r.batch
      ? {
          batch: {
            startedAtMs: new Date(r.batch.startedAt).getTime(),
            retire: r.batch.retire,
            launch: r.batch.launch,
            ...(r.batch.surge ? { surge: true } : {}),
          },
        }
      : {}),
  };
}

/**
 * When a refresh still under way after `d` wants its group looked at again (ms): at `retryAt`, or
 * sooner at the end of a waiting batch's warmup; undefined once it has ended.
 */
function recheckAt(d: RefreshDecision, r: RefreshRow, retryAt: number): number | undefined {
  const still =
    d.kind === 'wait' ||
    d.kind === 'start-batch' ||
    d.kind === 'retire' ||
    (d.kind === 'roll-back' && d.state.status !== 'failed');
  if (!still) return undefined;
  const batch = d.kind === 'wait' ? d.state.batch : undefined;
  return batch ? Math.min(retryAt, batch.startedAtMs + r.spec.warmup * 1000) : retryAt;
}

/** What one pass knows while it applies a decision. */
interface Pass {
  readonly group: GroupRow;
  readonly r: RefreshRow;
  readonly rows: readonly ServerRow[];
  readonly now: Date;
}

/** Applies the refresh planner's decision in a convergence pass (Note [Refresh execution]). */
@Injectable()
export class RefreshRunner {
  constructor(
    private readonly refreshes: RefreshRepository,
    private readonly servers: ServersRepository,
    private readonly groups: GroupsRepository,
    private readonly lbs: LoadBalancerRegistry,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
  ) {}

  /** What the launch config's balancers report up; undefined when one cannot be read. */
  private async balancerHealth(group: GroupRow): Promise<BalancerHealth | undefined> {
    const out = new Map<string, Set<string>>();
    for (const lb of group.launch_config.loadBalancers) {
      const b = this.lbs.get(lb.id);
      const backend = lb.backend ?? b?.defaultBackend;
      if (!b || !backend) return undefined;
      try {
        const members = await b.driver.listMembers(backend);
        out.set(lbKey(lb), new Set(members.filter((m) => m.up && m.state === 'ready').map((m) => m.name)));
      } catch {
        return undefined;
      }
    }
    return out;
  }

  async advance(group: GroupRow, rows: ServerRow[], now: Date): Promise<RefreshAdvance> {
    const none: RefreshAdvance = { published: false, launchChanged: false };
    if (group.paused || group.deleting) return none;
    const r = await this.refreshes.active(group.id);
    if (!r || r.status === 'paused') return none;
    const desired = clampDesired(
      { minEntities: group.min_entities, maxEntities: group.max_entities },
      group.desired,
    );
    const health = await this.balancerHealth(group);
    if (!health) {
      return { ...none, recheck: new Date(now.getTime() + this.config.converge.retryMs) };
    }
    const d = planRefresh({
      spec: r.spec,
      state: refreshState(r),
      desired,
      servers: refreshServers(group, rows, r.to_version, health),
      nowMs: now.getTime(),
    });
    const out = await this.servers.transaction(async (tx): Promise<RefreshAdvance> => {
      // Group row first, as the API and the server events lock (no deadlock). The API may have
      // paused or cancelled the refresh since it was read: its row decides.
      await this.groups.lockGroup(tx, group.id);
      const locked = await this.refreshes.active(group.id, tx, true);
      if (!locked || locked.id !== r.id || locked.status !== r.status) return none;
      return this.apply(tx, { group, r, rows, now }, d);
    });
    const at = recheckAt(d, r, now.getTime() + this.config.converge.retryMs);
    return at === undefined ? out : { ...out, recheck: new Date(at) };
  }

  /** Records the planner's decision in the pass's transaction (Note [Refresh execution]). */
  private async apply(tx: EntityManager, p: Pass, d: RefreshDecision): Promise<RefreshAdvance> {
    switch (d.kind) {
      case 'wait':
        await this.recordWait(tx, p.r, d);
        return { published: false, launchChanged: false };
      case 'start-batch':
        await this.startBatch(tx, p, d);
        return { published: true, launchChanged: false };
      case 'retire':
        await this.evict(
          tx,
          d.retire,
          `instance refresh: replaced by launch config version ${p.r.to_version}`,
        );
        await this.refreshes.update(tx, p.r.id, { batch: null });
        return { published: false, launchChanged: false };
      case 'roll-back':
        return this.rollBack(tx, p, d);
      case 'finish':
        await this.refreshes.update(tx, p.r.id, { status: d.state.status, batch: null, finished_at: p.now });
        await this.publish(tx, p.group, p.r, p.rows, p.now, { status: d.state.status });
        return { published: true, launchChanged: false };
    }
  }

  /**
   * Why a running refresh waits is part of its progress (GET …/refresh); a roll-back keeps the
   * reason it rolls back for. A healthy batch is cleared.
   */
  private async recordWait(
    tx: EntityManager,
    r: RefreshRow,
    d: Extract<RefreshDecision, { kind: 'wait' }>,
  ): Promise<void> {
    const reason = r.status === 'running' && r.reason !== d.reason ? d.reason.slice(0, 2000) : undefined;
    const clear = r.batch && !d.state.batch;
    if (reason || clear) {
      await this.refreshes.update(tx, r.id, {
        ...(reason ? { reason } : {}),
        ...(clear ? { batch: null } : {}),
      });
    }
  }

  /** Evicts the batch's old servers (none yet for a surge batch) and records the batch. */
  private async startBatch(
    tx: EntityManager,
    { group, r, rows, now }: Pass,
    d: Extract<RefreshDecision, { kind: 'start-batch' }>,
  ): Promise<void> {
    const surge = d.state.batch?.surge === true;
    if (!surge)
      await this.evict(tx, d.retire, `instance refresh: replaced by launch config version ${r.to_version}`);
    await this.refreshes.update(tx, r.id, {
      batch: {
        startedAt: now.toISOString(),
        retire: [...d.retire],
        launch: d.launch,
        ...(surge ? { surge } : {}),
      },
      batches: r.batches + 1,
    });
    await this.publish(tx, group, r, rows, now, {
      status: r.status,
      reason: `batch ${r.batches + 1}: replacing ${d.retire.length} server(s)`,
    });
  }

  /**
   * Discards a failed surge batch's new servers; then the refresh fails (it was already rolling
   * back) or turns round: the group's launch config returns to the refresh's `from` one.
   */
  private async rollBack(
    tx: EntityManager,
    { group, r, rows, now }: Pass,
    d: Extract<RefreshDecision, { kind: 'roll-back' }>,
  ): Promise<RefreshAdvance> {
    await this.evict(tx, d.discard, `instance refresh: batch not healthy within the warmup`);
    if (d.state.status === 'failed') {
      await this.refreshes.update(tx, r.id, {
        status: 'failed',
        batch: null,
        reason: `roll-back failed: ${d.reason}`.slice(0, 2000),
        finished_at: now,
      });
      await this.publish(tx, group, r, rows, now, { status: 'failed', reason: d.reason });
      return { published: true, launchChanged: false };
    }
    await this.refreshes.update(tx, r.id, {
      status: 'rolling-back',
      from_version: r.to_version,
      to_version: r.from_version,
      batch: null,
      reason: d.reason.slice(0, 2000),
    });
    await this.groups.updateGroup(tx, group.id, {
      launch_config: r.from_launch_config,
      launch_version: r.from_version,
      launch_failures: 0,
    });
    await this.publish(
      tx,
      group,
      { ...r, to_version: r.from_version, from_version: r.to_version },
      rows,
      now,
      {
        status: 'rolling-back',
        reason: d.reason,
      },
    );
    return { published: true, launchChanged: true };
  }

  private async evict(tx: EntityManager, ids: readonly string[], reason: string): Promise<void> {
    for (const id of ids) await this.servers.update(tx, id, { evicted: reason, reason });
  }

  /** Servers the group's refresh launches on top of its desired capacity now (a surge batch). */
  async surge(groupId: string): Promise<number> {
    const r = await this.refreshes.active(groupId);
    return r?.batch?.surge ? r.batch.launch : 0;
  }

  async publish(
    tx: EntityManager,
    group: GroupRow,
    r: RefreshRow,
    rows: readonly ServerRow[],
    now: Date,
    what: { status: string; reason?: string },
  ): Promise<void> {
    const data: GroupRefreshChangedData = {
      groupId: group.id,
      refreshId: r.id,
      status: what.status,
      toVersion: r.to_version,
      fromVersion: r.from_version,
      ...refreshProgress(group, r, rows),
      ...(what.reason ? { reason: what.reason.slice(0, 2000) } : {}),
    };
    await enqueueEvents(tx, SCALER_SCHEMA, [
      createEvent(SERVICE, GroupRefreshChanged.type, data, {
        subject: group.id,
        time: now,
        project: group.project ?? undefined,
      }) as CloudEvent,
    ]);
  }
}
