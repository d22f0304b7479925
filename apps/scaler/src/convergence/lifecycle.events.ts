import { EntityManager } from 'typeorm';
import { enqueueEvents } from '@nephele/bus';
import { CloudEvent, createEvent, GroupLifecycleAction, GroupLifecycleActionData } from '@nephele/contracts';
import { HookResult } from '@nephele/scaling';
import { SCALER_SCHEMA, SERVICE } from '../data-source';
import { GroupRow } from '../groups/group.types';
import { HookWaitRow } from './servers.repository';

/** Writes `nephele.group.lifecycle_action` to the outbox (Note [Hook execution]). */
export async function publishHookEvent(
  tx: EntityManager,
  group: GroupRow,
  serverId: string,
  w: HookWaitRow,
  now: Date,
  phase: 'waiting' | 'completed',
  result?: HookResult,
  reason?: string,
): Promise<void> {
  const data: GroupLifecycleActionData = {
    groupId: group.id,
    serverId,
    hook: w.hook,
    kind: w.kind,
    phase,
    ...(result ? { result } : {}),
    ...(reason ? { reason: reason.slice(0, 2000) } : {}),
  };
  await enqueueEvents(tx, SCALER_SCHEMA, [
    createEvent(SERVICE, GroupLifecycleAction.type, data, {
      subject: serverId,
      time: now,
      project: group.project ?? undefined,
    }) as CloudEvent,
  ]);
}
