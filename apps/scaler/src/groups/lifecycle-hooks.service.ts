import { Inject, Injectable } from '@nestjs/common';
import { hookVerdict, LifecycleHook } from '@nephele/scaling';
import { CLOCK, Clock, Principal, ProblemException } from '@nephele/service-kit';
import { AuditRecorder } from '../audit/audit.recorder';
import { ConvergeSignal } from '../convergence/converge.signal';
import { toWait } from '../convergence/lifecycle.runner';
import { ServerRow, ServersRepository } from '../convergence/servers.repository';
import {
  CompleteLifecycleActionDto,
  LifecycleHookView,
  LifecycleWaitView,
  PutLifecycleHookDto,
} from './dto/lifecycle.dto';
import { GroupRow } from './group.types';
import { GroupsRepository } from './groups.repository';
import { UUID } from './groups.service';

const HOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** Lifecycle hooks of a group and the actions that end a server's wait (Note [Hook execution]). */
@Injectable()
export class LifecycleHooksService {
  constructor(
    private readonly groups: GroupsRepository,
    private readonly servers: ServersRepository,
    private readonly signal: ConvergeSignal,
    private readonly audit: AuditRecorder,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  list(group: GroupRow): { items: LifecycleHookView[]; nextCursor: null } {
    return { items: (group.lifecycle_hooks ?? []).map((h) => ({ ...h })), nextCursor: null };
  }

  /** Creates or replaces a hook; at most one hook of each kind (409 otherwise). */
  async put(
    group: GroupRow,
    name: string,
    dto: PutLifecycleHookDto,
    p: Principal,
  ): Promise<{ hook: LifecycleHookView; created: boolean }> {
    if (!HOOK_NAME.test(name)) {
      throw ProblemException.badRequest('invalid hook name', [
        {
          field: 'name',
          message: 'letters, digits, ".", "_" and "-", at most 255, starting with a letter or digit',
        },
      ]);
    }
    const hook: LifecycleHook = {
      name,
      kind: dto.kind,
      timeout: dto.timeout,
      defaultResult: dto.defaultResult,
    };
    const created = await this.groups.transaction(async (tx) => {
      const g = await this.groups.lockGroup(tx, group.id);
      if (!g) throw ProblemException.notFound(`group ${group.id}`);
      const hooks = g.lifecycle_hooks ?? [];
      const clash = hooks.find((h) => h.kind === dto.kind && h.name !== name);
      if (clash) {
        throw ProblemException.conflict(`group ${g.id} already has a ${dto.kind} hook (${clash.name})`, {
          hook: clash.name,
        });
      }
      const exists = hooks.some((h) => h.name === name);
      const next = [...hooks.filter((h) => h.name !== name), hook];
      await this.groups.updateGroup(
        tx,
        g.id,
        { lifecycle_hooks: next },
        { bumpVersion: true, converge: true },
      );
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: 'put_lifecycle_hook',
        id: g.id,
        project: g.project,
        after: { ...hook },
      });
      return !exists;
    });
    this.audit.committed();
    this.signal.nudge();
    return { hook: { ...hook }, created };
  }

  /** Removes a hook; servers waiting on it continue (CONTINUE) on the next pass. */
  async remove(group: GroupRow, name: string, p: Principal): Promise<void> {
    await this.groups.transaction(async (tx) => {
      const g = await this.groups.lockGroup(tx, group.id);
      const hooks = g?.lifecycle_hooks ?? [];
      if (!g || !hooks.some((h) => h.name === name))
        throw ProblemException.notFound(`lifecycle hook ${name}`);
      await this.groups.updateGroup(
        tx,
        g.id,
        { lifecycle_hooks: hooks.filter((h) => h.name !== name) },
        { bumpVersion: true, converge: true },
      );
      await this.audit.record(tx, p, {
        resource: 'groups',
        action: 'delete_lifecycle_hook',
        id: g.id,
        project: g.project,
        after: { name },
      });
    });
    this.audit.committed();
    this.signal.nudge();
  }

  /** complete-lifecycle-action: records the result; the group's next pass applies it. */
  async complete(
    group: GroupRow,
    serverId: string,
    dto: CompleteLifecycleActionDto,
    p: Principal,
  ): Promise<LifecycleWaitView> {
    const view = await this.onWait(
      group,
      serverId,
      dto.hook,
      async (s, g) => {
        if (s.hook_wait!.completed && s.hook_wait!.completed !== dto.result) {
          throw ProblemException.conflict(
            `server ${serverId} was already completed with ${s.hook_wait!.completed}`,
            { result: s.hook_wait!.completed },
          );
        }
        const wait = { ...s.hook_wait!, completed: dto.result };
        return {
          wait,
          audit: { action: 'complete_lifecycle_action', project: g.project, after: { ...dto } },
        };
      },
      p,
    );
    return view;
  }

  /** A heartbeat restarts the hook's timeout (bounded, Note [Lifecycle hooks]). */
  async heartbeat(
    group: GroupRow,
    serverId: string,
    hookName: string,
    p: Principal,
  ): Promise<LifecycleWaitView> {
    const now = this.clock.now();
    return this.onWait(
      group,
      serverId,
      hookName,
      async (s, g) => {
        const wait = { ...s.hook_wait!, lastHeartbeatAt: now.toISOString() };
        return {
          wait,
          audit: { action: 'lifecycle_heartbeat', project: g.project, after: { hook: hookName } },
        };
      },
      p,
    );
  }

  private async onWait(
    group: GroupRow,
    serverId: string,
    hookName: string,
    change: (
      s: ServerRow,
      g: GroupRow,
    ) => Promise<{
      wait: NonNullable<ServerRow['hook_wait']>;
      audit: { action: string; project: string | null; after: Record<string, unknown> };
    }>,
    p: Principal,
  ): Promise<LifecycleWaitView> {
    if (!UUID.test(serverId)) throw ProblemException.notFound(`server ${serverId}`);
    const now = this.clock.now();
    const out = await this.groups.transaction(async (tx) => {
      const g = await this.groups.lockGroup(tx, group.id);
      const s = await this.servers.lock(tx, serverId);
      if (!g || !s || s.group_id !== g.id) throw ProblemException.notFound(`server ${serverId}`);
      if ((s.lifecycle !== 'PENDING:WAIT' && s.lifecycle !== 'TERMINATING:WAIT') || !s.hook_wait) {
        throw ProblemException.conflict(`server ${serverId} is not waiting on a lifecycle hook`, {
          lifecycleState: s.lifecycle,
        });
      }
      if (s.hook_wait.hook !== hookName) {
        throw ProblemException.conflict(
          `server ${serverId} waits on hook ${s.hook_wait.hook}, not ${hookName}`,
          {
            hook: s.hook_wait.hook,
          },
        );
      }
      const { wait, audit } = await change(s, g);
      await this.servers.update(tx, s.id, { hook_wait: wait });
      await this.groups.requestConverge(tx, g.id);
      await this.audit.record(tx, p, { resource: 'servers', id: s.id, ...audit });
      const hook = (g.lifecycle_hooks ?? []).find((h) => h.name === wait.hook);
      const v = hook ? hookVerdict(hook, toWait(wait), now.getTime()) : undefined;
      const view: LifecycleWaitView = {
        serverId: s.id,
        groupId: g.id,
        hook: wait.hook,
        lifecycleState: s.lifecycle,
        ...(wait.completed ? { result: wait.completed } : {}),
        ...(v?.kind === 'wait' ? { waitingUntil: new Date(v.untilMs).toISOString() } : {}),
      };
      return view;
    });
    this.audit.committed();
    this.signal.nudge();
    return out;
  }
}
