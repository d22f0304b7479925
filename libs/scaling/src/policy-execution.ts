import { Group, Policy } from './scaling.types';

/** A policy execution the group accepted: the new desired capacity, already clamped. */
export interface ExecutionAccepted {
  readonly ok: true;
  readonly desiredBefore: number;
  readonly desiredAfter: number;
  /** False when the clamp left the capacity where it was (e.g. +2 at max). */
  readonly changed: boolean;
  readonly reason: string;
}

/** A refused execution: which rule refused it and, for a cooldown, until when. */
export type ExecutionRefused =
  | {
      readonly ok: false;
      readonly refusedBy: 'group-cooldown' | 'policy-cooldown';
      /** The execution would be accepted from this time on. */
      readonly until: Date;
      readonly reason: string;
    }
  | { readonly ok: false; readonly refusedBy: 'paused'; readonly reason: string };

export type ExecutionResult = ExecutionAccepted | ExecutionRefused;

/** `n` clamped to the group's [minEntities, maxEntities]. */
export function clampDesired(group: Pick<Group, 'minEntities' | 'maxEntities'>, n: number): number {
  return Math.min(group.maxEntities, Math.max(group.minEntities, n));
}

/**
 * `percent` % of `base`, rounded away from zero (Otter): +10 % of 5 is +1, −10 % of 5 is −1,
 * and any non-zero percentage of a non-zero capacity changes it by at least one.
 */
export function percentChange(base: number, percent: number): number {
  const raw = (base * percent) / 100;
  // Snap away float noise first: 30 % of 10 must be 3, not ceil(3.0000000000000004) = 4.
  const magnitude = Math.ceil(Math.round(Math.abs(raw) * 1e9) / 1e9);
  return raw < 0 ? -magnitude : magnitude;
}

/** The desired capacity a policy asks for from `current`, before clamping. */
export function requestedCapacity(current: number, policy: Policy): number {
  // A target policy is driven by its metric; executing it by hand only wakes a group at zero
  // (Note [Target tracking]).
  if (policy.type === 'target') return current === 0 ? 1 : current;
  if (policy.desiredCapacity !== undefined) return policy.desiredCapacity;
  if (policy.changePercent !== undefined) return current + percentChange(current, policy.changePercent);
  return current + (policy.change ?? 0);
}

function describe(policy: Policy): string {
  if (policy.type === 'target') return 'target tracking: wake from zero';
  if (policy.desiredCapacity !== undefined) return `desiredCapacity ${policy.desiredCapacity}`;
  if (policy.changePercent !== undefined) return `changePercent ${policy.changePercent}%`;
  const c = policy.change ?? 0;
  return `change ${c >= 0 ? '+' : ''}${c}`;
}

/**
 * Decides a policy execution at `now`: refused while the group is paused or within either
 * cooldown (the one ending last is reported, since that is when an execution can succeed);
 * otherwise the new desired capacity, always within [min, max].
 *
 * The caller records an accepted execution only when `changed`: `policy.lastExecutedAt = now`,
 * `group.lastScaledAt = now` and the new desired capacity. An execution that changes nothing (a
 * scale-down at min, +2 at max) starts neither cooldown, as in Otter, so it never blocks the
 * next useful execution.
 */
export function executePolicy(group: Group, policy: Policy, now: Date): ExecutionResult {
  if (group.paused) {
    return { ok: false, refusedBy: 'paused', reason: `group ${group.id} is paused` };
  }
  const t = now.getTime();
  const groupUntil =
    group.lastScaledAt !== undefined ? group.lastScaledAt.getTime() + group.cooldownMs : -Infinity;
  const policyUntil =
    policy.lastExecutedAt !== undefined ? policy.lastExecutedAt.getTime() + policy.cooldownMs : -Infinity;
  if (t < groupUntil || t < policyUntil) {
    const byGroup = groupUntil >= policyUntil;
    const until = new Date(byGroup ? groupUntil : policyUntil);
    return {
      ok: false,
      refusedBy: byGroup ? 'group-cooldown' : 'policy-cooldown',
      until,
      reason: byGroup
        ? `group cooldown of ${group.cooldownMs} ms runs until ${until.toISOString()}`
        : `policy ${policy.name} cooldown of ${policy.cooldownMs} ms runs until ${until.toISOString()}`,
    };
  }
  const before = clampDesired(group, group.desired);
  const requested = requestedCapacity(before, policy);
  const after = clampDesired(group, requested);
  const clamp =
    requested > group.maxEntities
      ? ` (${requested} clamped to maxEntities ${group.maxEntities})`
      : requested < group.minEntities
        ? ` (${requested} clamped to minEntities ${group.minEntities})`
        : '';
  return {
    ok: true,
    desiredBefore: before,
    desiredAfter: after,
    changed: after !== group.desired,
    reason: `policy ${policy.name} (${policy.type}, ${describe(policy)}): ${before} → ${after}${clamp}`,
  };
}
