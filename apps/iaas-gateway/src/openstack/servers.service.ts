import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Bus } from '@nephele/bus';
import { BrokerConfigSnapshot, HardwareProfileConfig, PoolConfig } from '@nephele/broker';
import { createEvent, InstanceQuery } from '@nephele/contracts';
import { BUS, Principal } from '@nephele/service-kit';
import { SERVICE } from '../gateway.tokens';
import { LaunchesService } from '../launches/launches.service';
import { OsError } from './openstack.errors';
import { OpenStackRepository, ServerRow } from './openstack.repository';

/** The state tracker's view of an instance (reply of `nephele.tracker.instance.query`). */
export interface TrackedInstance {
  id: string;
  owner: string;
  project: string | null;
  pool: string | null;
  name: string | null;
  state: string;
  addresses: string[];
  image: string | null;
  hardwareProfile: string | null;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A server: the tracker's instance and/or the OpenStack API's own record of it. */
export interface ServerView {
  id: string;
  name: string;
  status: 'ACTIVE' | 'BUILD' | 'SHUTOFF' | 'ERROR' | 'DELETED' | 'REBOOT';
  taskState: string | null;
  powerState: number;
  vmState: string;
  addresses: string[];
  image: string | null;
  flavor: string | null;
  metadata: Record<string, string>;
  keyName: string | null;
  fault: string | null;
  project: string;
  created: string;
  updated: string;
}

export interface CreateServer {
  pool: PoolConfig;
  snapshot: BrokerConfigSnapshot;
  name: string;
  image: string;
  flavor: string;
  userData?: string;
  metadata?: Record<string, string>;
  keyName?: string;
  stackId?: string;
}

/** Nephele instance states as Nova server statuses (+ task state, power state, vm state). */
export function novaStatus(
  state: string,
): Pick<ServerView, 'status' | 'taskState' | 'powerState' | 'vmState'> {
  switch (state) {
    case 'pending':
      return { status: 'BUILD', taskState: 'spawning', powerState: 0, vmState: 'building' };
    case 'running':
      return { status: 'ACTIVE', taskState: null, powerState: 1, vmState: 'active' };
    case 'stopping':
      return { status: 'ACTIVE', taskState: 'powering-off', powerState: 1, vmState: 'active' };
    case 'stopped':
      return { status: 'SHUTOFF', taskState: null, powerState: 4, vmState: 'stopped' };
    case 'rebooting':
      return { status: 'REBOOT', taskState: 'rebooting', powerState: 1, vmState: 'active' };
    case 'terminating':
      return { status: 'ACTIVE', taskState: 'deleting', powerState: 1, vmState: 'active' };
    case 'terminated':
      return { status: 'DELETED', taskState: null, powerState: 0, vmState: 'deleted' };
    default:
      return { status: 'ERROR', taskState: null, powerState: 0, vmState: 'error' };
  }
}

/** A fixed figure of a hardware profile amount (a range's minimum). */
export function fixed(a: unknown): number {
  if (typeof a === 'number') return a;
  const r = a as { min?: number; max?: number } | null;
  return r?.min ?? r?.max ?? 0;
}

/** The flavor (hardware profile) a reference names: id, name or a URL ending in either. */
export function findFlavor(
  snapshot: BrokerConfigSnapshot,
  project: string,
  ref: string,
): HardwareProfileConfig | undefined {
  const key = ref.split('/').pop() ?? ref;
  return snapshot.hardwareProfiles.find((h) => h.project === project && (h.id === key || h.name === key));
}

/**
 * Servers = instances of a pool, launched through the same path as CIMI machines
 * (LaunchesService.create, owner `openstack:<project>` or `stack:<id>`).
 */
@Injectable()
export class ServersService {
  constructor(
    private readonly launches: LaunchesService,
    private readonly repo: OpenStackRepository,
    @Inject(BUS) private readonly bus: Bus,
  ) {}

  async tracked(q: { pool?: string; id?: string; includeTerminated?: boolean }): Promise<TrackedInstance[]> {
    const r = await this.bus
      .request<{ items: TrackedInstance[] }>(createEvent(SERVICE, InstanceQuery.type, q), {
        timeoutMs: 10_000,
      })
      .catch((e: Error) => {
        throw new OsError(503, `the state tracker is not reachable: ${e.message}`);
      });
    return r.items;
  }

  private view(project: string, t: TrackedInstance | undefined, s: ServerRow | undefined): ServerView {
    let st = novaStatus(t?.state ?? 'pending');
    let fault: string | null = null;
    if (!t && s?.status === 'failed') {
      st = novaStatus('error');
      fault = s.reason;
    }
    if (t && st.status === 'ERROR') fault = t.reason;
    return {
      id: (t?.id ?? s?.instance_id)!,
      name: s?.name ?? t?.name ?? t?.id ?? '',
      ...st,
      addresses: t?.addresses ?? [],
      image: s?.image_id ?? t?.image ?? null,
      flavor: s?.flavor_id ?? t?.hardwareProfile ?? null,
      metadata: s?.metadata ?? {},
      keyName: s?.key_name ?? null,
      fault,
      project,
      created: t?.createdAt ?? new Date(s!.created_at).toISOString(),
      updated: t?.updatedAt ?? new Date(s!.created_at).toISOString(),
    };
  }

  /** The pool's servers (instances the tracker knows, plus OpenStack launches it has not seen yet). */
  async list(pool: PoolConfig): Promise<ServerView[]> {
    const [tracked, rows] = await Promise.all([this.tracked({ pool: pool.id }), this.repo.servers(pool.id)]);
    const byId = new Map(rows.map((r) => [r.instance_id, r]));
    const out = tracked
      .filter((t) => t.state !== 'terminated')
      .map((t) => this.view(pool.project, t, byId.get(t.id)));
    const seen = new Set(tracked.map((t) => t.id));
    for (const r of rows) if (!seen.has(r.instance_id)) out.push(this.view(pool.project, undefined, r));
    return out;
  }

  /** A server of the pool, or undefined (deleted ones too: they answer 404 like Nova's). */
  async get(pool: PoolConfig, id: string): Promise<ServerView | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const [[t], s] = await Promise.all([this.tracked({ id }), this.repo.server(id)]);
    if (s?.deleted_at && (!t || t.state === 'terminated' || t.state === 'stopped' || t.state === 'error'))
      return undefined;
    if (t && (t.pool !== pool.id || t.state === 'terminated')) return undefined;
    if (!t && (!s || s.pool_id !== pool.id || s.deleted_at)) return undefined;
    return this.view(pool.project, t, s);
  }

  /** Launches a server; a launch that fails leaves it in ERROR with the reason (Nova's fault). */
  async create(p: Principal, c: CreateServer): Promise<string> {
    const project = c.pool.project;
    const image = c.snapshot.images.find(
      (i) => i.project === project && (i.id === c.image || i.name === c.image),
    );
    if (!image) throw new OsError(400, `Image ${c.image} could not be found.`);
    const flavor = findFlavor(c.snapshot, project, c.flavor);
    if (!flavor) throw new OsError(400, `Flavor ${c.flavor} could not be found.`);
    const owner = c.stackId ? `stack:${c.stackId}` : `openstack:${project}`;
    const key = `${owner}:${randomUUID()}`;
    const r = await this.launches.create({
      owner,
      idempotencyKey: key,
      pool: c.pool.id,
      project,
      image: image.id,
      hardwareProfile: flavor.id,
      name: c.name,
      userData: c.userData,
      metadata: { ...c.metadata },
    });
    await this.repo.addServer({
      instance_id: r.instanceId,
      project,
      pool_id: c.pool.id,
      name: c.name,
      image_id: image.id,
      flavor_id: flavor.id,
      metadata: c.metadata ?? {},
      key_name: c.keyName ?? null,
      stack_id: c.stackId ?? null,
    });
    await this.launches.audit(p, {
      resource: 'servers',
      action: 'create',
      id: r.instanceId,
      project,
      after: { pool: c.pool.id, image: image.id, flavor: flavor.id, ok: r.ok, stack: c.stackId },
    });
    return r.instanceId;
  }

  async act(
    p: Principal,
    pool: PoolConfig,
    id: string,
    action: 'start' | 'stop' | 'reboot' | 'destroy',
    owner?: string,
  ): Promise<void> {
    const r = await this.launches.act(action, {
      instanceId: id,
      owner: owner ?? `openstack:${pool.project}`,
      reason: `${action} through the OpenStack API by ${p.tokenId}`,
    });
    if (action === 'destroy') await this.repo.markServerDeleted(id);
    if (!r.ok && !(action === 'destroy' && /unknown instance/.test(r.reason)))
      throw new OsError(409, `Cannot ${action} server ${id}: ${r.reason}`, 'conflictingRequest');
    await this.launches.audit(p, { resource: 'servers', action, id, project: pool.project });
  }
}
