import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Bus, enqueueEvents, OutboxRelay } from '@nephele/bus';
import {
  canonicalJson,
  CloudEvent,
  Condition,
  createEvent,
  DeployableConfigChanged,
  DeployableDocument,
  InstanceDestroy,
  InstanceQuery,
  Topology,
} from '@nephele/contracts';
import { BUS, etagOf, ProblemException } from '@nephele/service-kit';
import { CPE_SCHEMA } from '../data-source';
import { CpeConfig } from '../config/env';
import { CPE_CONFIG, CPE_OUTBOX, SERVICE } from '../cpe.tokens';
import { DeployableFormat, DeployableParseError, parseDeployable } from './deployable-parser';
import { DeployableRow, DeployablesRepository, LiveRow } from './deployables.repository';
import { PoolCheck } from './pool-check';
import { ObservedAssembly, StopSequence } from './stop-sequence';

export interface DeployableView {
  id: string;
  name: string;
  project: string;
  version: number;
  desired: 'started' | 'stopped';
  status: string;
  reason: string | null;
  /** Kubernetes-style conditions (Note [Conditions] in the DPE): `Ready`, and `Failed` when terminal. */
  conditions: Condition[];
  /** Each with `conditions` too, and its services with theirs. */
  assemblies: unknown[];
  createdAt: string;
  updatedAt: string;
  etag: string;
  /** PUT only: true when the document equals the current version (no new version was stored). */
  unchanged?: boolean;
}

/** `deployable_status` over the management interface. */
export interface QmfDeployableStatus {
  status: string;
  conditions: Condition[];
  assemblies: {
    name: string;
    state: string;
    conditions: Condition[];
    services: { name: string; state: string; group?: string; clone?: string; conditions: Condition[] }[];
  }[];
}

export interface Actor {
  id: string;
  project?: string;
  admin: boolean;
}

/** Kicks the supervisor after a change (provided by the supervisor; a no-op in tests without one). */
export const SUPERVISOR_KICK = Symbol('SUPERVISOR_KICK');
export type SupervisorKick = { kick(): void; stopDpe(id: string): Promise<void> };

/** Deployables: the versioned configuration and the user's intent (started/stopped). */
@Injectable()
export class DeployablesService {
  constructor(
    private readonly repo: DeployablesRepository,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CPE_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(SUPERVISOR_KICK) private readonly supervisor: SupervisorKick,
    @Inject(CPE_CONFIG) private readonly config: CpeConfig,
    private readonly poolCheck: PoolCheck,
    private readonly stopSequence: StopSequence,
  ) {}

  parse(input: string | object, format?: DeployableFormat): DeployableDocument {
    try {
      return parseDeployable(input, format);
    } catch (e) {
      if (e instanceof DeployableParseError) throw ProblemException.badRequest(e.message, e.errors);
      throw e;
    }
  }

  view(d: DeployableRow, live: LiveRow | undefined): DeployableView {
    const observed = live?.observed as
      { assemblies?: unknown[]; status?: string; reason?: string; conditions?: Condition[] } | undefined;
    const status = d.desired === 'stopped' ? 'stopped' : (live?.status ?? 'starting');
    const reason = d.desired === 'stopped' ? 'stopped by request' : (live?.reason ?? 'waiting for its DPE');
    // The DPE's conditions when its snapshot says the same as the live status; else from the status.
    const conditions =
      d.desired !== 'stopped' && observed?.conditions && observed.status === status
        ? observed.conditions
        : statusConditions(status, reason, live?.updated_at ?? d.updated_at);
    return {
      id: d.id,
      name: d.name,
      project: d.project,
      version: d.version,
      desired: d.desired,
      status,
      reason,
      conditions,
      assemblies: observed?.assemblies ?? [],
      createdAt: new Date(d.created_at).toISOString(),
      updatedAt: new Date(d.updated_at).toISOString(),
      etag: etagOf(d.version),
    };
  }

  /** A deployable the actor may see, by id or (unique in the actor's scope) by name; 404 otherwise. */
  async find(ref: string, actor: Actor): Promise<DeployableRow> {
    const byId = await this.repo.get(ref);
    if (byId && (actor.admin || byId.project === actor.project)) return byId;
    const byName = await this.repo.byName(actor.admin ? actor.project : actor.project, ref);
    if (byName.length === 1) return byName[0]!;
    if (byName.length > 1)
      throw ProblemException.conflict(`several deployables are named ${ref}: use the id`, {
        ids: byName.map((x) => x.id),
      });
    throw ProblemException.notFound(`deployable ${ref}`);
  }

  async get(ref: string, actor: Actor): Promise<DeployableView> {
    const d = await this.find(ref, actor);
    return this.view(d, await this.repo.live(d.id));
  }

  async list(
    actor: Actor,
    afterId: string | undefined,
    limit: number,
  ): Promise<{ rows: DeployableView[]; more: boolean }> {
    const rows = await this.repo.list(actor.admin ? actor.project : actor.project, afterId, limit + 1);
    const page = rows.slice(0, limit);
    const lives = await this.repo.lives(page.map((r) => r.id));
    return { rows: page.map((r) => this.view(r, lives.get(r.id))), more: rows.length > limit };
  }

  private audit(
    actor: Actor,
    action: string,
    d: { id: string; project: string; name: string },
    extra: Record<string, unknown> = {},
  ): CloudEvent {
    return createEvent(
      SERVICE,
      `nephele.audit.deployable.${action}`,
      {
        actor: actor.id,
        action,
        resource: 'deployables',
        resourceId: d.id,
        project: d.project,
        after: { name: d.name, ...extra },
      },
      { subject: d.id },
    );
  }

  async create(
    source: string,
    format: DeployableFormat,
    doc: DeployableDocument,
    actor: Actor,
    opts: { start?: boolean } = {},
  ): Promise<DeployableView> {
    // An admin who names no project creates in the default one (the all-in-one's seeded project).
    const project = actor.project ?? (actor.admin ? this.config.defaultProject : undefined);
    if (!project)
      throw ProblemException.badRequest('no project', [
        { field: 'project', message: 'an admin token must say which project (?project=<id>)' },
      ]);
    await this.poolCheck.check(doc, project);
    const id = randomUUID();
    const desired = opts.start === false ? 'stopped' : 'started';
    try {
      await this.repo.transaction(async (tx) => {
        await this.repo.insert(tx, { id, project, name: doc.name, desired });
        await this.repo.addVersion(tx, { id, version: 1, format, source, document: doc, by: actor.id });
        await enqueueEvents(tx, CPE_SCHEMA, [
          createEvent(
            SERVICE,
            DeployableConfigChanged.type,
            { deployableId: id, version: 1, desired },
            { subject: id, project },
          ),
          this.audit(actor, 'create', { id, project, name: doc.name }, { version: 1, format }),
        ]);
      });
    } catch (e) {
      if ((e as { code?: string }).code === '23505')
        throw ProblemException.conflict(`a deployable named ${doc.name} already exists in this project`);
      throw e;
    }
    this.outbox.nudge();
    this.supervisor.kick();
    return this.get(id, { ...actor, admin: true });
  }

  /** Stores a new version; its DPE is told and converges to it. */
  async update(
    ref: string,
    source: string,
    format: DeployableFormat,
    doc: DeployableDocument,
    actor: Actor,
    ifMatch?: string,
  ): Promise<DeployableView> {
    const d = await this.find(ref, actor);
    if (ifMatch && ifMatch !== etagOf(d.version) && ifMatch !== `"${d.version}"` && ifMatch !== '*')
      throw ProblemException.preconditionFailed();
    if (doc.name !== d.name)
      throw ProblemException.badRequest('a deployable cannot be renamed', [
        { field: 'name', message: `must stay ${d.name}` },
      ]);
    // Re-applying the same document is not a change: no new version, the DPE is not disturbed.
    const current = await this.repo.version(d.id, d.version);
    if (current && canonicalJson(current.document) === canonicalJson(doc))
      return { ...(await this.get(d.id, { ...actor, admin: true })), unchanged: true };
    await this.poolCheck.check(doc, d.project);
    const version = d.version + 1;
    await this.repo.transaction(async (tx) => {
      const cur = await this.repo.get(d.id, tx);
      if (!cur || cur.version !== d.version)
        throw ProblemException.preconditionFailed('the deployable changed meanwhile; read it again');
      await this.repo.addVersion(tx, { id: d.id, version, format, source, document: doc, by: actor.id });
      await this.repo.setVersion(tx, d.id, version);
      await enqueueEvents(tx, CPE_SCHEMA, [
        createEvent(
          SERVICE,
          DeployableConfigChanged.type,
          { deployableId: d.id, version, desired: d.desired },
          { subject: d.id, project: d.project },
        ),
        this.audit(actor, 'update', d, { version, format }),
      ]);
    });
    this.outbox.nudge();
    return this.get(d.id, { ...actor, admin: true });
  }

  async start(ref: string, actor: Actor): Promise<DeployableView> {
    const d = await this.find(ref, actor);
    // Starting a started deployable that failed is the user acting on it: a retry.
    if (d.desired === 'started' && (await this.repo.live(d.id))?.status === 'failed')
      return this.retry(ref, actor);
    await this.repo.transaction(async (tx) => {
      await this.repo.setDesired(tx, d.id, 'started');
      await enqueueEvents(tx, CPE_SCHEMA, [this.audit(actor, 'start', d)]);
    });
    this.outbox.nudge();
    this.supervisor.kick();
    return this.get(d.id, { ...actor, admin: true });
  }

  /**
   * The user acts on a failed deployable: its failure history and terminal failure are forgotten
   * and its DPE starts again (a new epoch), keeping its instances. Every budget starts afresh.
   */
  async retry(ref: string, actor: Actor): Promise<DeployableView> {
    const d = await this.find(ref, actor);
    if (d.desired !== 'started')
      throw ProblemException.conflict(`deployable ${d.name} is stopped: start it instead`);
    await this.repo.resetDpeFailures(d.id);
    await this.supervisor.stopDpe(d.id);
    await this.repo.transaction((tx) => enqueueEvents(tx, CPE_SCHEMA, [this.audit(actor, 'retry', d)]));
    this.outbox.nudge();
    this.supervisor.kick();
    return this.get(d.id, { ...actor, admin: true });
  }

  /** Stops the deployable: its DPE stops (fenced by a new epoch) and its instances are destroyed. */
  async stop(ref: string, actor: Actor): Promise<DeployableView> {
    const d = await this.find(ref, actor);
    await this.repo.transaction(async (tx) => {
      await this.repo.setDesired(tx, d.id, 'stopped');
      await enqueueEvents(tx, CPE_SCHEMA, [this.audit(actor, 'stop', d)]);
    });
    await this.supervisor.stopDpe(d.id);
    await this.stopAndDestroy(d, 'the deployable was stopped');
    this.outbox.nudge();
    return this.get(d.id, { ...actor, admin: true });
  }

  /**
   * Note [Orderly stop]: services down through their agents, before their instances go. Only
   * assemblies that are online in the last snapshot and whose instance still lives are asked (the
   * snapshot may predate a stop; a dead agent would only make the stop wait out its timeout).
   * Returns how many instances were sent a destroy.
   */
  private async stopAndDestroy(d: DeployableRow, why: string): Promise<number> {
    const epoch = await this.repo.transaction((tx) => this.repo.nextEpoch(tx, d.id));
    const [instances, live, version, agentKey] = await Promise.all([
      this.liveInstances(d.id),
      this.repo.live(d.id),
      this.repo.version(d.id, d.version),
      this.repo.agentKey(d.id),
    ]);
    const alive = new Set(instances.map((i) => i.id));
    const observed = (
      (live?.observed as { assemblies?: ObservedAssembly[] } | null)?.assemblies ?? []
    ).filter((a) => a.state === 'online' && (!a.instanceId || alive.has(a.instanceId)));
    const { events } = await this.stopSequence.run(d, version?.document, observed, agentKey, epoch, why);
    if (events.length) await this.repo.transaction((tx) => enqueueEvents(tx, CPE_SCHEMA, events));
    await this.destroyInstances(d.id, instances, why, epoch);
    return instances.length;
  }

  /** Destroy: DPE stopped, services stopped, instances destroyed, configuration deleted; its events stay in the log. */
  async destroy(ref: string, actor: Actor): Promise<{ id: string; instances: number }> {
    const d = await this.find(ref, actor);
    // Wanted stopped first: the supervisor must not start a new DPE (a newer epoch, which would
    // fence out our stop and destroy commands) while the services are being stopped.
    await this.repo.transaction((tx) => this.repo.setDesired(tx, d.id, 'stopped'));
    await this.supervisor.stopDpe(d.id);
    const instances = await this.stopAndDestroy(d, 'the deployable was destroyed');
    await this.repo.transaction(async (tx) => {
      await this.repo.delete(tx, d.id);
      await enqueueEvents(tx, CPE_SCHEMA, [this.audit(actor, 'delete', d, { instances })]);
    });
    this.outbox.nudge();
    return { id: d.id, instances };
  }

  /** The deployable's live instances (state tracker). */
  private async liveInstances(id: string): Promise<{ id: string; owner: string }[]> {
    const r = await this.bus
      .request<{ items: { id: string; owner: string }[] }>(
        createEvent(SERVICE, InstanceQuery.type, { ownerPrefix: `deployable:${id}/` }),
        { timeoutMs: 10_000 },
      )
      .catch((e: Error) => {
        throw new ProblemException(
          503,
          `cannot list the deployable's instances (state tracker): ${e.message}`,
        );
      });
    return r.items;
  }

  /** Sends destroy commands for the given instances of the deployable, under the given epoch. */
  private async destroyInstances(
    id: string,
    items: { id: string; owner: string }[],
    reason: string,
    epoch: number,
  ): Promise<void> {
    if (items.length) {
      await this.repo.transaction((tx) =>
        enqueueEvents(
          tx,
          CPE_SCHEMA,
          items.map((i) =>
            createEvent(
              SERVICE,
              InstanceDestroy.type,
              { instanceId: i.id, owner: i.owner, reason, epoch },
              { subject: id },
            ),
          ),
          Topology.commands,
        ),
      );
      this.outbox.nudge();
    }
  }

  /** For the DPE: the current configuration (request/reply). */
  async forDpe(id: string): Promise<{
    id: string;
    name: string;
    project: string;
    version: number;
    desired: string;
    document: DeployableDocument;
    agentKey?: string;
  } | null> {
    const d = await this.repo.get(id);
    if (!d) return null;
    const v = await this.repo.version(id, d.version);
    if (!v) return null;
    const agentKey = await this.repo.agentKey(id);
    return {
      id: d.id,
      name: d.name,
      project: d.project,
      version: d.version,
      desired: d.desired,
      document: v.document,
      agentKey,
    };
  }

  /** `deployable_status` (management interface): status and conditions at every level. */
  async qmfStatus(ref: string, actor: Actor): Promise<QmfDeployableStatus> {
    const v = await this.get(ref, actor);
    const assemblies = (
      v.assemblies as {
        name: string;
        state: string;
        conditions?: Condition[];
        services?: {
          name: string;
          state: string;
          group?: string;
          clone?: string;
          conditions?: Condition[];
        }[];
      }[]
    ).map((a) => ({
      name: a.name,
      state: a.state,
      conditions: a.conditions ?? [],
      services: (a.services ?? []).map((s) => ({
        name: s.name,
        state: s.state,
        ...(s.group ? { group: s.group } : {}),
        ...(s.clone ? { clone: s.clone } : {}),
        conditions: s.conditions ?? [],
      })),
    }));
    return { status: v.status, conditions: v.conditions, assemblies };
  }
}

const STATUS_REASON: Record<string, string> = {
  starting: 'Starting',
  running: 'Running',
  degraded: 'Degraded',
  recovering: 'Recovering',
  failed: 'Failed',
  stopped: 'Stopped',
};

/** Conditions from a status alone (no DPE snapshot yet, or the deployable is stopped). */
export function statusConditions(status: string, reason: string, since: Date | string): Condition[] {
  const at = new Date(since).toISOString();
  const out: Condition[] = [
    {
      type: 'Ready',
      status: status === 'running' ? 'True' : 'False',
      reason: reason === 'waiting for its DPE' ? 'WaitingForDpe' : (STATUS_REASON[status] ?? 'Unknown'),
      message: reason,
      lastTransitionTime: at,
    },
  ];
  if (status === 'failed')
    out.push({ type: 'Failed', status: 'True', reason: 'Failed', message: reason, lastTransitionTime: at });
  return out;
}
