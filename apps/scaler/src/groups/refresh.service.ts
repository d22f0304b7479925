import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { RefreshSpec } from '@nephele/scaling';
import { CLOCK, Clock, Principal, ProblemException } from '@nephele/service-kit';
import { AuditRecorder } from '../audit/audit.recorder';
import { ConvergeSignal } from '../state/converge.signal';
import { RefreshRepository, RefreshRow } from '../state/refresh.repository';
import { refreshProgress, RefreshRunner } from '../convergence/refresh.runner';
import { ServerRow, ServersRepository } from '../state/servers.repository';
import { REFRESH_DEFAULTS, RefreshView, StartRefreshDto } from './dto/refresh.dto';
import { GroupRow, LaunchConfigView } from '../state/group.types';
import { GroupsRepository } from '../state/groups.repository';

export type RefreshAction = 'pause' | 'resume' | 'cancel';

/** Instance refreshes through the API (Note [Instance refresh]; the runner executes them). */
@Injectable()
export class RefreshService {
  constructor(
    private readonly groups: GroupsRepository,
    private readonly refreshes: RefreshRepository,
    private readonly servers: ServersRepository,
    private readonly runner: RefreshRunner,
    private readonly signal: ConvergeSignal,
    private readonly audit: AuditRecorder,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  static spec(dto: StartRefreshDto | undefined): RefreshSpec {
    return {
      minHealthyPercentage: dto?.minHealthyPercentage ?? REFRESH_DEFAULTS.minHealthyPercentage,
      batchSize: dto?.batchSize ?? REFRESH_DEFAULTS.batchSize,
      warmup: dto?.warmup ?? REFRESH_DEFAULTS.warmup,
      ...(dto?.launchBeforeRetire ? { launchBeforeRetire: true } : {}),
    };
  }

  view(group: GroupRow, r: RefreshRow, rows: readonly ServerRow[]): RefreshView {
    const { total, replaced } = refreshProgress(group, r, rows);
    const done = r.status === 'succeeded' || r.status === 'rolled-back';
    return {
      id: r.id,
      groupId: r.group_id,
      status: r.status,
      spec: r.spec,
      toVersion: r.to_version,
      fromVersion: r.from_version,
      total,
      replaced: done ? total : replaced,
      percentComplete: total === 0 || done ? 100 : Math.floor((replaced * 100) / total),
      batches: r.batches,
      batch: r.batch,
      reason: r.reason,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
      finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
    };
  }

  /** The group's latest refresh (404 when it never had one). */
  async get(group: GroupRow): Promise<RefreshView> {
    const r = await this.refreshes.latest(group.id);
    if (!r) throw ProblemException.notFound(`refresh of group ${group.id}`);
    return this.view(group, r, await this.servers.list(group.id));
  }

  /**
   * Starts a refresh towards the group's current launch config inside the caller's transaction
   * (the group row locked); one still in flight is cancelled: the new one supersedes it.
   */
  async startInTx(
    tx: EntityManager,
    group: GroupRow,
    from: { version: number; config: LaunchConfigView },
    toVersion: number,
    spec: RefreshSpec,
    now: Date,
  ): Promise<string> {
    const old = await this.refreshes.active(group.id, tx, true);
    if (old) {
      await this.refreshes.update(tx, old.id, {
        status: 'cancelled',
        batch: null,
        reason: `superseded by a refresh to launch config version ${toVersion}`,
        finished_at: now,
      });
    }
    const id = randomUUID();
    await this.refreshes.insert(tx, {
      id,
      groupId: group.id,
      spec,
      fromVersion: from.version,
      toVersion,
      fromLaunchConfig: from.config,
      now,
    });
    const row = (await this.refreshes.active(group.id, tx))!;
    await this.runner.publish(tx, group, row, await this.servers.list(group.id, tx), now, {
      status: 'running',
      reason: old ? 'started; superseded the refresh in flight' : 'started',
    });
    await this.groups.requestConverge(tx, group.id);
    return id;
  }

  /** `POST …/refresh`: replaces the servers not at the current launch config (409 while one runs). */
  async start(group: GroupRow, dto: StartRefreshDto, p: Principal): Promise<RefreshView> {
    const now = this.clock.now();
    await this.groups.transaction(async (tx) => {
      const g = await this.groups.lockGroup(tx, group.id);
      if (!g) throw ProblemException.notFound(`group ${group.id}`);
      const active = await this.refreshes.active(g.id, tx);
      if (active) {
        throw ProblemException.conflict(`group ${g.id} already has a refresh ${active.status}`, {
          refreshId: active.id,
          status: active.status,
        });
      }
      // A roll-back returns to the launch config before the last change, when a refresh knew it.
      const last = await this.refreshes.latest(g.id, tx);
      const from =
        last && last.to_version === g.launch_version
          ? { version: last.from_version, config: last.from_launch_config }
          : { version: g.launch_version, config: g.launch_config };
      const spec = RefreshService.spec(dto);
      await this.startInTx(tx, g, from, g.launch_version, spec, now);
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: 'start_refresh',
        id: g.id,
        project: g.project,
        after: { ...spec, toVersion: g.launch_version },
      });
    });
    this.audit.committed();
    this.signal.nudge();
    return this.get(group);
  }

  /** Pauses (between batches), resumes or cancels the refresh in flight; 409 when there is none to. */
  async act(group: GroupRow, action: RefreshAction, p: Principal): Promise<RefreshView> {
    const now = this.clock.now();
    await this.groups.transaction(async (tx) => {
      const g = await this.groups.lockGroup(tx, group.id);
      if (!g) throw ProblemException.notFound(`group ${group.id}`);
      const r = await this.refreshes.active(g.id, tx, true);
      const allowed: Record<RefreshAction, string[]> = {
        // A roll-back is not paused: it restores service; it can be cancelled.
        pause: ['running'],
        resume: ['paused'],
        cancel: ['running', 'paused', 'rolling-back'],
      };
      if (!r || !allowed[action].includes(r.status)) {
        throw ProblemException.conflict(
          r
            ? `the refresh of group ${g.id} is ${r.status}; cannot ${action} it`
            : `group ${g.id} has no refresh in flight`,
          { status: r?.status ?? null },
        );
      }
      const next = action === 'cancel' ? 'cancelled' : action === 'pause' ? 'paused' : 'running';
      await this.refreshes.update(tx, r.id, {
        status: next,
        ...(action === 'cancel' ? { finished_at: now, batch: null } : {}),
      });
      await this.runner.publish(tx, g, r, await this.servers.list(g.id, tx), now, {
        status: next,
        reason: `${action} by request`,
      });
      await this.groups.requestConverge(tx, g.id);
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: `${action}_refresh`,
        id: g.id,
        project: g.project,
        after: { refreshId: r.id, status: next },
      });
    });
    this.audit.committed();
    this.signal.nudge();
    return this.get(group);
  }
}
