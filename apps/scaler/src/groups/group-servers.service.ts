import { Injectable } from '@nestjs/common';
import { clampDesired } from '@nephele/scaling';
import { Principal, ProblemException } from '@nephele/service-kit';
import { AuditRecorder } from '../audit/audit.recorder';
import { ConvergeSignal } from '../state/converge.signal';
import { GroupsRepository } from '../state/groups.repository';
import { ServersRepository } from '../state/servers.repository';
import { GroupsService, UUID } from './groups.service';

/**
 * A group's servers as the REST API sees them: the capacity and state of each, and what an
 * operator does to one (remove, protect from scale-in, detach for debugging). Each change marks
 * the group for convergence, which does the work.
 */
@Injectable()
export class GroupServersService {
  constructor(
    private readonly groups: GroupsService,
    private readonly repo: GroupsRepository,
    private readonly servers: ServersRepository,
    private readonly signal: ConvergeSignal,
    private readonly audit: AuditRecorder,
  ) {}

  async state(id: string, p: Principal) {
    const g = await this.groups.visible(id, p);
    const servers = await this.servers.list(id);
    const count = (s: string) => servers.filter((x) => x.state === s).length;
    return {
      id: g.id,
      name: g.name,
      paused: g.paused,
      status: g.deleting ? 'DELETING' : g.status,
      errors: g.errors,
      desiredCapacity: clampDesired({ minEntities: g.min_entities, maxEntities: g.max_entities }, g.desired),
      activeCapacity: count('active'),
      pendingCapacity: count('building'),
      servers: servers.map((s) => ({
        id: s.id,
        instanceId: s.instance_id,
        state: s.evicted && s.state !== 'deleting' ? 'leaving' : s.state,
        addresses: s.addresses,
        loadBalancers: s.lb_memberships,
        createdAt: new Date(s.created_at).toISOString(),
        protected: s.protected,
        ...(s.detached ? { detached: true } : {}),
        launchConfigVersion: s.launch_version,
        lifecycleState: s.lifecycle,
        ...(s.hook_wait ? { hookWait: s.hook_wait } : {}),
        ...(s.reason ? { reason: s.reason } : {}),
      })),
    };
  }

  /** Removes one server; `replace` keeps the capacity (a new server takes its place). */
  async deleteServer(id: string, serverId: string, replace: boolean, p: Principal): Promise<void> {
    await this.groups.visible(id, p);
    if (!UUID.test(serverId)) throw ProblemException.notFound(`server ${serverId}`);
    await this.repo.transaction(async (tx) => {
      const g = await this.repo.lockGroup(tx, id);
      const s = await this.servers.lock(tx, serverId);
      if (!g || !s || s.group_id !== id || s.state === 'deleting' || s.evicted) {
        throw ProblemException.notFound(`server ${serverId}`);
      }
      if (s.detached) {
        // A detached server is outside the capacity: deleting it changes nothing else.
        await this.servers.update(tx, serverId, {
          detached: false,
          evicted: 'detached server deleted by request',
          reason: 'detached server deleted by request',
        });
        await this.repo.requestConverge(tx, id);
        await this.audit.record(tx, p, {
          resource: 'servers',
          action: 'delete',
          id: serverId,
          project: g.project,
          after: { groupId: id, detached: true },
        });
        return;
      }
      if (!replace) {
        const desired = clampDesired({ minEntities: g.min_entities, maxEntities: g.max_entities }, g.desired);
        if (desired - 1 < g.min_entities) {
          throw ProblemException.conflict(
            `removing server ${serverId} without a replacement would take the group below minEntities ${g.min_entities}`,
          );
        }
        await this.repo.updateGroup(tx, id, { desired: desired - 1 });
      }
      await this.servers.update(tx, serverId, {
        evicted: replace ? 'removed by request; replaced' : 'removed by request',
        reason: replace ? 'removed by request; replaced' : 'removed by request',
      });
      await this.repo.requestConverge(tx, id);
      await this.audit.record(tx, p, {
        resource: 'servers',
        action: 'delete',
        id: serverId,
        project: g.project,
        after: { groupId: id, replace },
      });
    });
    this.audit.committed();
    this.signal.nudge();
  }

  /** Sets whether a scale-in may remove the server (Note [Victim choice]). */
  async setProtection(id: string, serverId: string, value: boolean, p: Principal) {
    await this.groups.visible(id, p);
    if (!UUID.test(serverId)) throw ProblemException.notFound(`server ${serverId}`);
    await this.repo.transaction(async (tx) => {
      const g = await this.repo.lockGroup(tx, id);
      const s = await this.servers.lock(tx, serverId);
      if (!g || !s || s.group_id !== id || s.state === 'deleting' || s.evicted) {
        throw ProblemException.notFound(`server ${serverId}`);
      }
      await this.servers.update(tx, serverId, { protected: value });
      await this.repo.requestConverge(tx, id);
      await this.audit.record(tx, p, {
        resource: 'servers',
        action: value ? 'protect' : 'unprotect',
        id: serverId,
        project: g.project,
        after: { groupId: id, protected: value },
      });
    });
    this.audit.committed();
    this.signal.nudge();
    return { id: serverId, groupId: id, protected: value };
  }

  /**
   * Keeps a failed server for debugging: it leaves the balancers and the capacity count, a new
   * server takes its place, and it stays until deleted (DELETE …/servers/{sid}).
   */
  async detach(id: string, serverId: string, p: Principal): Promise<void> {
    await this.groups.visible(id, p);
    if (!UUID.test(serverId)) throw ProblemException.notFound(`server ${serverId}`);
    await this.repo.transaction(async (tx) => {
      const g = await this.repo.lockGroup(tx, id);
      const s = await this.servers.lock(tx, serverId);
      if (!g || !s || s.group_id !== id || s.state === 'deleting' || (s.evicted && !s.detached)) {
        throw ProblemException.notFound(`server ${serverId}`);
      }
      if (s.state !== 'error') {
        throw ProblemException.conflict(
          `server ${serverId} is ${s.state}; only a failed (ERROR) server can be detached`,
          { state: s.state },
        );
      }
      await this.servers.update(tx, serverId, { detached: true, reason: 'detached for debugging' });
      await this.repo.requestConverge(tx, id);
      await this.audit.record(tx, p, {
        resource: 'servers',
        action: 'detach',
        id: serverId,
        project: g.project,
        after: { groupId: id },
      });
    });
    this.audit.committed();
    this.signal.nudge();
  }
}
