import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { HookResult, HookWait, hookVerdict, LifecycleHook } from '@nephele/scaling';
import { GroupRow } from '../groups/group.types';
import { publishHookEvent } from './lifecycle.events';
import { HookWaitRow, ServerRow, ServersRepository } from './servers.repository';
import { StepExecutor } from './step.executor';

// Note [Hook execution]
// `hookVerdict` (libs/scaling/src/lifecycle-hooks.ts, Note [Lifecycle hooks]) decides; the
// lifecycle column of a server records where it is, so a restart loses nothing:
//   pending ──ACTIVE──▶ PENDING:WAIT (launching hook) ──CONTINUE──▶ in-service
//                 └──(no hook)──▶ in-service        └──ABANDON──▶ TERMINATING:PROCEED, evicted
//   in-service ──a step deletes it──▶ TERMINATING:WAIT (terminating hook; StepExecutor.delete)
//                                      ──either result──▶ TERMINATING:PROCEED, deleted
// Only a server in service joins balancers and counts as healthy for a refresh. A server in
// TERMINATING:WAIT has already left its balancers and is invisible to the planner (it is leaving).
// complete-lifecycle-action and heartbeats only write the server's `hook_wait`; this runner, in
// the group's convergence pass, applies the result, so the pass stays the one writer of lifecycle
// transitions. A group being deleted ends every wait with ABANDON; a paused group moves no server
// (a wait that timed out meanwhile ends when the group is resumed).

/** Moves servers through their lifecycle hooks in a convergence pass (Note [Hook execution]). */
@Injectable()
export class LifecycleRunner {
  constructor(
    private readonly servers: ServersRepository,
    private readonly executor: StepExecutor,
  ) {}

  /** Returns when the earliest wait times out, and whether events were written. */
  async advance(
    group: GroupRow,
    rows: ServerRow[],
    now: Date,
  ): Promise<{ recheck?: Date; published: boolean }> {
    // A paused group does nothing, this included; its waits end (or time out) once resumed.
    if (group.paused && !group.deleting) return { published: false };
    const hooks = group.lifecycle_hooks ?? [];
    const launching = hooks.find((h) => h.kind === 'launching');
    let recheck: number | undefined;
    let published = false;
    for (const s of rows) {
      if (s.state === 'active' && s.lifecycle === 'pending' && !s.evicted) {
        await this.servers.transaction(async (tx) => {
          if (!launching || group.deleting) {
            await this.servers.update(tx, s.id, { lifecycle: 'in-service' });
            return;
          }
          const wait: HookWaitRow = { hook: launching.name, kind: 'launching', startedAt: now.toISOString() };
          await this.servers.update(tx, s.id, { lifecycle: 'PENDING:WAIT', hook_wait: wait });
          await publishHookEvent(tx, group, s.id, wait, now, 'waiting');
          published = true;
        });
        if (launching && !group.deleting) {
          const t = now.getTime() + launching.timeout * 1000;
          recheck = recheck === undefined ? t : Math.min(recheck, t);
        }
        continue;
      }
      if ((s.lifecycle !== 'PENDING:WAIT' && s.lifecycle !== 'TERMINATING:WAIT') || !s.hook_wait) continue;
      const w = s.hook_wait;
      const hook: LifecycleHook | undefined = hooks.find((h) => h.name === w.hook && h.kind === w.kind);
      let result: HookResult;
      let reason: string;
      if (group.deleting) {
        result = 'ABANDON';
        reason = 'the group is being deleted';
      } else if (!hook) {
        result = 'CONTINUE';
        reason = `hook ${w.hook} was removed`;
      } else {
        const v = hookVerdict(hook, toWait(w), now.getTime());
        if (v.kind === 'wait') {
          recheck = recheck === undefined ? v.untilMs : Math.min(recheck, v.untilMs);
          continue;
        }
        result = v.result;
        reason = v.reason;
      }
      await this.servers.transaction(async (tx) => {
        const cur = await this.servers.lock(tx, s.id);
        if (!cur || cur.lifecycle !== s.lifecycle) return;
        await this.finish(tx, group, cur, w, result, reason, now);
      });
      published = true;
    }
    return { recheck: recheck === undefined ? undefined : new Date(recheck), published };
  }

  /**
   * When the earliest wait among `rows` times out: the pass requeues the group then, also for a
   * wait that one of its own steps started (StepExecutor.delete).
   */
  nextDeadline(group: GroupRow, rows: readonly ServerRow[], now: Date): Date | undefined {
    if (group.paused && !group.deleting) return undefined;
    let best: number | undefined;
    for (const s of rows) {
      const w = s.hook_wait;
      if (!w || (s.lifecycle !== 'PENDING:WAIT' && s.lifecycle !== 'TERMINATING:WAIT')) continue;
      const hook = (group.lifecycle_hooks ?? []).find((h) => h.name === w.hook && h.kind === w.kind);
      if (!hook) continue;
      const v = hookVerdict(hook, toWait(w), now.getTime());
      const t = v.kind === 'wait' ? v.untilMs : now.getTime();
      best = best === undefined ? t : Math.min(best, t);
    }
    return best === undefined ? undefined : new Date(best);
  }

  private async finish(
    tx: EntityManager,
    group: GroupRow,
    s: ServerRow,
    w: HookWaitRow,
    result: HookResult,
    reason: string,
    now: Date,
  ): Promise<void> {
    if (w.kind === 'launching') {
      if (result === 'CONTINUE') {
        await this.servers.update(tx, s.id, { lifecycle: 'in-service', hook_wait: null });
      } else {
        const why = `launching hook ${w.hook}: ${reason}`.slice(0, 1000);
        await this.servers.update(tx, s.id, {
          lifecycle: 'TERMINATING:PROCEED',
          hook_wait: null,
          evicted: why,
          reason: why,
        });
      }
    } else {
      await this.servers.update(tx, s.id, { lifecycle: 'TERMINATING:PROCEED', hook_wait: null });
      await this.executor.delete(
        tx,
        { group, now },
        s.id,
        w.reason ?? `terminating hook ${w.hook}: ${reason}`,
      );
    }
    await publishHookEvent(tx, group, s.id, w, now, 'completed', result, reason);
  }
}

/** A stored wait as the planner reads it. */
export function toWait(w: HookWaitRow): HookWait {
  return {
    hook: w.hook,
    startedAtMs: new Date(w.startedAt).getTime(),
    lastHeartbeatAtMs: w.lastHeartbeatAt ? new Date(w.lastHeartbeatAt).getTime() : undefined,
    completed: w.completed,
  };
}
