import { clampDesired } from './policy-execution';
import { Group } from './scaling.types';

// Note [Target tracking]
// A target policy keeps a metric near a target value instead of adding fixed steps. The metric is
// a per-server average (CPU %, requests per second per server, queue length per worker), so the
// capacity that brings it to the target is, as in Kubernetes' HPA,
//     raw = ceil(current × observed / target)        clamped to [minEntities, maxEntities]
// where `current` is the group's desired capacity.
//   - Tolerance: when observed / target is within 1 ± tolerance (default 10 %), nothing changes:
//     a metric that wobbles around its target must not flap the group.
//   - Scale-out happens at once (speed matters when load rises), then waits `scaleOutCooldown`
//     before the next scale-out.
//   - Scale-in is stabilised: every evaluation records its raw recommendation; the capacity goes
//     down only to the HIGHEST recommendation of the last `stabilizationWindow` (default 300 s,
//     the HPA's default), so a short dip never removes servers that the next spike needs. It also
//     waits `scaleInCooldown` after the previous scale-in, and never happens with `disableScaleIn`.
//   - Zero: with minEntities 0 a metric of 0 scales the group to 0 (through the window like any
//     scale-in). From 0 there is no per-server average, so the first observation above 0 (or an
//     execution of the policy through its webhook) brings the group to 1; the ratio rule takes
//     over from there.
//   - A missing or stale observation (older than `maxAgeMs`) decides nothing.
// Recommendations are kept in a compact form: one that a newer recommendation at least as high
// dominates can never be the window's maximum again, so it is dropped. The list is therefore
// strictly decreasing in value and bounded by the number of distinct capacities.

/** Arguments of a `target` policy as the API takes them (durations in seconds). */
export interface TargetArgs {
  /** The metric's name: `nephele.metric.observed` events and the group's Prometheus sources name it. */
  readonly metric: string;
  /** The value to hold the metric at (> 0). */
  readonly target: number;
  /** Seconds after a scale-out before the next scale-out. */
  readonly scaleOutCooldown: number;
  /** Seconds after a scale-in before the next scale-in. */
  readonly scaleInCooldown: number;
  /** Never scale in (only out). */
  readonly disableScaleIn?: boolean;
  /** Relative band around the target within which nothing changes (default 0.1). */
  readonly tolerance?: number;
  /** Seconds of recommendations a scale-in looks back over (default 300). */
  readonly stabilizationWindow?: number;
}

export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_STABILIZATION_WINDOW_S = 300;

/** What a target policy remembers between evaluations (stored as JSON; times in epoch ms). */
export interface TargetState {
  readonly recommendations: readonly { readonly atMs: number; readonly desired: number }[];
  readonly lastScaleOutAtMs?: number;
  readonly lastScaleInAtMs?: number;
}

export const EMPTY_TARGET_STATE: TargetState = { recommendations: [] };

/** The latest value of the metric. */
export interface Observation {
  readonly value: number;
  readonly at: Date;
}

export interface TargetInput {
  readonly group: Pick<Group, 'minEntities' | 'maxEntities' | 'desired' | 'paused'>;
  readonly args: TargetArgs;
  readonly state: TargetState;
  readonly observation?: Observation;
  /** An observation older than this decides nothing. */
  readonly maxAgeMs: number;
  readonly now: Date;
}

/** The outcome of one evaluation: scale to `desiredAfter`, or hold; with the state to store. */
export type TargetDecision =
  | {
      readonly kind: 'scale';
      readonly direction: 'out' | 'in';
      readonly desiredBefore: number;
      readonly desiredAfter: number;
      readonly reason: string;
      readonly state: TargetState;
    }
  | { readonly kind: 'hold'; readonly desired: number; readonly reason: string; readonly state: TargetState };

/** ceil(current × observed / target), with float noise snapped away (6 × 50/100 is 3, not 4). */
export function rawTargetCapacity(current: number, observed: number, target: number): number {
  return Math.ceil(Math.round(((current * observed) / target) * 1e9) / 1e9);
}

function remember(state: TargetState, atMs: number, desired: number, windowMs: number): TargetState {
  const kept = state.recommendations.filter((r) => r.atMs > atMs - windowMs && r.desired > desired);
  return { ...state, recommendations: [...kept, { atMs, desired }] };
}

/** Evaluates a target policy at `now` (see Note [Target tracking]). Pure. */
export function evaluateTarget(input: TargetInput): TargetDecision {
  const { group, args, observation, now } = input;
  const t = now.getTime();
  const current = clampDesired(group, group.desired);
  const hold = (reason: string, state: TargetState = input.state): TargetDecision => ({
    kind: 'hold',
    desired: current,
    reason,
    state,
  });
  if (group.paused) return hold('group is paused');
  if (!observation) return hold(`no observation of ${args.metric} yet`);
  if (t - observation.at.getTime() > input.maxAgeMs) {
    return hold(`the last observation of ${args.metric} is older than ${input.maxAgeMs} ms`);
  }
  const windowMs = (args.stabilizationWindow ?? DEFAULT_STABILIZATION_WINDOW_S) * 1000;
  const tolerance = args.tolerance ?? DEFAULT_TOLERANCE;
  const v = observation.value;
  let raw: number;
  let why: string;
  if (current === 0) {
    raw = v > 0 ? 1 : 0;
    why = v > 0 ? `${args.metric} ${v} > 0 at zero capacity` : `${args.metric} is 0`;
  } else if (Math.abs(v / args.target - 1) <= tolerance) {
    raw = current;
    why = `${args.metric} ${v} within ${tolerance * 100}% of target ${args.target}`;
  } else {
    raw = rawTargetCapacity(current, v, args.target);
    why = `${args.metric} ${v} vs target ${args.target}: ceil(${current} × ${v} / ${args.target}) = ${raw}`;
  }
  const clamped = clampDesired(group, raw);
  if (clamped !== raw) why += ` clamped to ${clamped}`;
  const state = remember(input.state, t, clamped, windowMs);

  if (clamped > current) {
    const until = (input.state.lastScaleOutAtMs ?? -Infinity) + args.scaleOutCooldown * 1000;
    if (t < until) return hold(`${why}; scale-out cooldown until ${new Date(until).toISOString()}`, state);
    return {
      kind: 'scale',
      direction: 'out',
      desiredBefore: current,
      desiredAfter: clamped,
      reason: `target tracking: ${why}; ${current} → ${clamped}`,
      state: { ...state, lastScaleOutAtMs: t },
    };
  }
  if (clamped < current) {
    if (args.disableScaleIn) return hold(`${why}; scale-in disabled`, state);
    const stabilised = Math.max(...state.recommendations.map((r) => r.desired));
    if (stabilised >= current) {
      return hold(
        `${why}; stabilising: the highest recommendation of the last ${windowMs / 1000} s is ${stabilised}`,
        state,
      );
    }
    const until = (input.state.lastScaleInAtMs ?? -Infinity) + args.scaleInCooldown * 1000;
    if (t < until) return hold(`${why}; scale-in cooldown until ${new Date(until).toISOString()}`, state);
    return {
      kind: 'scale',
      direction: 'in',
      desiredBefore: current,
      desiredAfter: stabilised,
      reason: `target tracking: ${why}; highest recommendation of the last ${windowMs / 1000} s is ${stabilised}; ${current} → ${stabilised}`,
      state: { ...state, lastScaleInAtMs: t },
    };
  }
  return hold(why, state);
}
