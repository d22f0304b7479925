import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { FieldError } from '@nephele/contracts';
import { clampDesired, firstFiringAfter } from '@nephele/scaling';
import {
  checkIfMatch,
  CLOCK,
  Clock,
  decodeCursor,
  encodeCursor,
  Page,
  parseLimit,
  Principal,
  ProblemException,
  projectScope,
} from '@nephele/service-kit';
import { AuditRecorder } from '../audit/audit.recorder';
import { ScalerConfig } from '../config/env';
import { ConvergeSignal } from '../state/converge.signal';
import { LoadBalancerRegistry } from '../convergence/lb.registry';
import { DeliveriesRepository } from '../notifications/deliveries.repository';
import { DeliveriesService } from '../notifications/deliveries.service';
import { SCALER_CONFIG } from '../scaler.tokens';
import { RefreshService } from './refresh.service';
import {
  GroupConfigInput,
  groupConfigView,
  GroupRow,
  PolicyInput,
  PolicyRow,
  policyView,
  toPlannerPolicy,
} from '../state/group.types';
import { CreateGroupDto, GroupConfigDto, MAX_POLICIES, PutLaunchConfigDto } from './dto/group.dto';
import { failIfErrors, groupConfigInput, launchConfigInput, policyInput } from './group.inputs';
import { GroupsRepository } from '../state/groups.repository';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export { MAX_POLICIES };

export type GroupView = ReturnType<GroupsService['view']>;

/** Groups: their config, launch config and lifecycle (REST logic). */
@Injectable()
export class GroupsService {
  constructor(
    private readonly repo: GroupsRepository,
    private readonly deliveries: DeliveriesService,
    private readonly deliveryLog: DeliveriesRepository,
    private readonly lbs: LoadBalancerRegistry,
    private readonly signal: ConvergeSignal,
    private readonly audit: AuditRecorder,
    private readonly refresh: RefreshService,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  view(g: GroupRow, policies?: PolicyRow[]) {
    return {
      id: g.id,
      project: g.project,
      config: groupConfigView(g),
      launchConfig: g.launch_config,
      ...(policies ? { policies: policies.map(policyView) } : {}),
      state: {
        desiredCapacity: clampDesired(
          { minEntities: g.min_entities, maxEntities: g.max_entities },
          g.desired,
        ),
        paused: g.paused,
        status: g.deleting ? 'DELETING' : g.status,
      },
      version: g.version,
      createdAt: new Date(g.created_at).toISOString(),
      updatedAt: new Date(g.updated_at).toISOString(),
    };
  }

  /** The group if `p` may see it; 404 otherwise (another project's group looks missing). */
  async visible(id: string, p: Principal): Promise<GroupRow> {
    const g = UUID.test(id) ? await this.repo.getGroup(id) : undefined;
    if (!g || (p.role !== 'admin' && g.project !== (p.project ?? null)))
      throw ProblemException.notFound(`group ${id}`);
    return g;
  }

  private sealHook(
    groupId: string,
    hook: GroupConfigInput['serverReadyWebhook'],
    existing: GroupRow['ready_webhook'],
    errors: FieldError[],
  ): GroupRow['ready_webhook'] {
    if (!hook) return null;
    if (hook.secret === undefined) {
      if (existing?.secret) return { url: hook.url, secret: existing.secret };
      errors.push({ field: 'serverReadyWebhook.secret', message: 'a signing secret is required' });
      return null;
    }
    if (!this.deliveries.canSeal()) {
      errors.push({
        field: 'serverReadyWebhook.secret',
        message: 'this scaler cannot store secrets (NEPHELE_MASTER_KEY is not set)',
      });
      return null;
    }
    return { url: hook.url, secret: this.deliveries.seal(groupId, hook.secret) };
  }

  nextFiring(p: PolicyInput, id: string, now: Date): Date | undefined {
    if (p.type !== 'schedule') return undefined;
    return firstFiringAfter(toPlannerPolicy({ ...policyRowOf(p, id), created_at: now } as PolicyRow), now);
  }

  async create(body: CreateGroupDto, p: Principal): Promise<{ group: GroupRow; policies: PolicyRow[] }> {
    const errors: FieldError[] = [];
    const now = this.clock.now();
    const config = groupConfigInput(body.config, this.config.maxEntitiesLimit, 'config.', errors);
    const launch = launchConfigInput(body.launchConfig, this.lbs.ids(), 'launchConfig.', errors);
    const policies = (body.policies ?? []).map((x, i) => policyInput(x, now, `policies[${i}].`, errors));
    const id = randomUUID();
    const hook = this.sealHook(id, config.serverReadyWebhook, null, errors);
    failIfErrors(errors);
    const project = projectScope(p, body.project) ?? null;
    await this.repo.transaction(async (tx) => {
      await this.repo.insertGroup(tx, {
        id,
        project,
        name: config.name,
        minEntities: config.minEntities,
        maxEntities: config.maxEntities,
        cooldownMs: config.cooldown * 1000,
        metadata: config.metadata,
        metricSources: config.metricSources,
        terminationPolicy: config.terminationPolicy,
        terminationWebhook: config.terminationWebhook,
        readyWebhook: hook,
        launchConfig: launch,
        desired: config.minEntities,
      });
      for (const pol of policies) {
        const pid = randomUUID();
        await this.repo.insertPolicy(tx, pid, id, pol, this.nextFiring(pol, pid, now), now);
      }
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: 'create',
        id,
        project,
        after: { ...sizeOf(config), policies: policies.length },
      });
    });
    this.audit.committed();
    this.signal.nudge();
    const group = (await this.repo.getGroup(id))!;
    return { group, policies: await this.repo.listPolicies(id) };
  }

  async list(
    p: Principal,
    q: { limit?: string; cursor?: string; project?: string },
  ): Promise<Page<GroupView>> {
    const limit = parseLimit(q.limit, 100, 1000);
    const after = decodeCursor(q.cursor, (v): v is { id: string } =>
      UUID.test(String((v as { id?: unknown })?.id)),
    );
    const project = p.role === 'admin' ? q.project : (p.project ?? '');
    const rows = await this.repo.listGroups(project, after?.id, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((g) => this.view(g)),
      nextCursor: rows.length > limit ? encodeCursor({ id: page[page.length - 1]!.id }) : null,
    };
  }

  async get(id: string, p: Principal): Promise<{ group: GroupRow; policies: PolicyRow[] }> {
    const group = await this.visible(id, p);
    return { group, policies: await this.repo.listPolicies(id) };
  }

  /** Replaces the group config (the route's GroupVisibleGuard answered 404 before the body's 400). */
  async updateConfig(
    id: string,
    body: GroupConfigDto,
    ifMatch: string | undefined,
    p: Principal,
  ): Promise<GroupRow> {
    await this.visible(id, p);
    const errors: FieldError[] = [];
    const config = groupConfigInput(body, this.config.maxEntitiesLimit, '', errors);
    failIfErrors(errors);
    await this.repo.transaction(async (tx) => {
      const g = await this.repo.lockGroup(tx, id);
      if (!g) throw ProblemException.notFound(`group ${id}`);
      checkIfMatch(ifMatch, g.version);
      const hook = this.sealHook(id, config.serverReadyWebhook, g.ready_webhook, errors);
      failIfErrors(errors);
      await this.repo.updateGroup(
        tx,
        id,
        {
          name: config.name,
          min_entities: config.minEntities,
          max_entities: config.maxEntities,
          cooldown_ms: config.cooldown * 1000,
          metadata: config.metadata,
          metric_sources: config.metricSources,
          termination_policy: config.terminationPolicy,
          termination_webhook: config.terminationWebhook,
          ready_webhook: hook,
          desired: clampDesired(config, g.desired),
        },
        { bumpVersion: true, converge: true },
      );
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: 'update',
        id,
        project: g.project,
        after: { ...sizeOf(config), version: g.version + 1 },
      });
    });
    this.audit.committed();
    this.signal.nudge();
    return (await this.repo.getGroup(id))!;
  }

  /**
   * Replaces the launch config. A changed config takes a new launch-config version and starts an
   * instance refresh (Note [Instance refresh]) unless the body says `"refresh": false`; `refresh`
   * may carry the refresh's settings. An unchanged config changes nothing but the ETag.
   */
  async updateLaunch(
    id: string,
    body: PutLaunchConfigDto,
    ifMatch: string | undefined,
    p: Principal,
  ): Promise<GroupRow> {
    await this.visible(id, p);
    const errors: FieldError[] = [];
    const { refresh, ...input } = body;
    const launch = launchConfigInput(input, this.lbs.ids(), '', errors);
    failIfErrors(errors);
    const now = this.clock.now();
    await this.repo.transaction(async (tx) => {
      const g = await this.repo.lockGroup(tx, id);
      if (!g) throw ProblemException.notFound(`group ${id}`);
      checkIfMatch(ifMatch, g.version);
      const changed = stableJson(launch) !== stableJson(g.launch_config);
      const version = changed ? g.launch_version + 1 : g.launch_version;
      // A new launch config deserves new launches: lift a suspension caused by the old one.
      await this.repo.updateGroup(
        tx,
        id,
        { launch_config: launch, launch_failures: 0, launch_version: version },
        { bumpVersion: true, converge: true },
      );
      let refreshId: string | undefined;
      if (changed && refresh !== false) {
        refreshId = await this.refresh.startInTx(
          tx,
          g,
          { version: g.launch_version, config: g.launch_config },
          version,
          RefreshService.spec(refresh),
          now,
        );
      }
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: 'update_launch_config',
        id,
        project: g.project,
        after: {
          pool: launch.pool,
          image: launch.image,
          hardwareProfile: launch.hardwareProfile,
          version: g.version + 1,
          launchConfigVersion: version,
          ...(refreshId ? { refreshId } : {}),
        },
      });
    });
    this.audit.committed();
    this.signal.nudge();
    return (await this.repo.getGroup(id))!;
  }

  /** Deletes a group; with servers only when forced (they are deleted first). Returns whether it is gone. */
  async delete(id: string, force: boolean, p: Principal): Promise<boolean> {
    await this.visible(id, p);
    const gone = await this.repo.transaction(async (tx) => {
      const g = await this.repo.lockGroup(tx, id);
      if (!g) throw ProblemException.notFound(`group ${id}`);
      const n = await this.repo.countServers(tx, id);
      if (n === 0) {
        await this.repo.deleteGroup(tx, id);
        await this.audit.record(tx, p, { resource: 'groups', action: 'delete', id, project: g.project });
        return true;
      }
      if (!force) {
        throw ProblemException.conflict(
          `group ${id} still has ${n} server(s); scale it to 0 or delete with ?force=true`,
          {
            servers: n,
          },
        );
      }
      await this.repo.updateGroup(tx, id, { deleting: true, paused: false }, { converge: true });
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: 'delete',
        id,
        project: g.project,
        after: { forced: true, servers: n },
      });
      return false;
    });
    this.audit.committed();
    if (!gone) this.signal.nudge();
    return gone;
  }

  async setPaused(id: string, paused: boolean, p: Principal): Promise<void> {
    const g = await this.visible(id, p);
    await this.repo.transaction(async (tx) => {
      await this.repo.updateGroup(tx, id, { paused }, { converge: true });
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: paused ? 'pause' : 'resume',
        id,
        project: g.project,
      });
    });
    this.audit.committed();
    this.signal.nudge();
  }

  /** Forces a pass now, and lifts a launch suspension (the operator says: try again). */
  async converge(id: string, p: Principal): Promise<void> {
    const g = await this.visible(id, p);
    await this.repo.transaction(async (tx) => {
      const locked = await this.repo.lockGroup(tx, id);
      if (!locked) throw ProblemException.notFound(`group ${id}`);
      // A paused group does not converge: say so rather than accept a pass that will not run.
      if (locked.paused) {
        throw ProblemException.conflict(`group ${id} is paused; resume it to converge`, {
          refusedBy: 'paused',
        });
      }
      await this.repo.updateGroup(tx, id, { launch_failures: 0 }, { converge: true });
      await this.audit.record(tx, p, { resource: 'groups', action: 'converge', id, project: g.project });
    });
    this.audit.committed();
    this.signal.nudge();
  }

  async deliveryHistory(id: string, p: Principal) {
    await this.visible(id, p);
    const rows = await this.deliveryLog.listForGroup(id, 100);
    return {
      items: rows.map((r) => ({
        id: r.id,
        serverId: r.server_id,
        url: r.url,
        status: r.status,
        attempts: r.attempt_log,
        createdAt: new Date(r.created_at).toISOString(),
      })),
      nextCursor: null,
    };
  }
}

/** What the audit trail keeps of a group config (never its webhook secret). */
function sizeOf(c: GroupConfigInput): Record<string, unknown> {
  return { name: c.name, minEntities: c.minEntities, maxEntities: c.maxEntities };
}

function policyRowOf(p: PolicyInput, id: string): Partial<PolicyRow> {
  return {
    id,
    name: p.name,
    type: p.type,
    cooldown_ms: p.cooldown * 1000,
    change: p.change ?? null,
    change_percent: p.changePercent ?? null,
    desired_capacity: p.desiredCapacity ?? null,
    args: p.args ?? null,
    last_executed_at: null,
  };
}

/** JSON with object keys sorted (PostgreSQL's jsonb does not keep the order they came in). */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
}
