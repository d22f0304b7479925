import type { TargetArgs } from './target-tracking';
import type { TerminationPolicy } from './termination';

/**
 * The inputs and outputs of the autoscale planner (ARCHITECTURE §6). Everything here is plain,
 * immutable data: the scaler reads it from its tables, the planner decides, the scaler executes.
 */

/** A scaling group as the planner needs it. */
export interface Group {
  readonly id: string;
  /** Lower bound of the desired capacity (≥ 0). */
  readonly minEntities: number;
  /** Upper bound of the desired capacity (≥ minEntities). */
  readonly maxEntities: number;
  /** After any scaling of the group, further policy executions are refused for this long. */
  readonly cooldownMs: number;
  /** The desired capacity; clamped to [minEntities, maxEntities] wherever it is used. */
  readonly desired: number;
  /** A paused group executes no policy and does not converge. */
  readonly paused: boolean;
  /** When a policy last changed the group (starts the group cooldown). */
  readonly lastScaledAt?: Date;
  /** Which servers a scale-in removes first (Note [Victim choice]; default `oldest`). */
  readonly terminationPolicy?: TerminationPolicy;
  /** Servers an instance refresh launches on top of the desired capacity (Note [Instance refresh]). */
  readonly surge?: number;
}

/** A load balancer a server joins: `id` names the balancer, `backend` its pool (HAProxy backend). */
export interface LoadBalancerRef {
  readonly id: string;
  readonly backend?: string;
  /** The port on the server that receives traffic. */
  readonly port: number;
}

/** How to launch a server of the group (`launch_server`). */
export interface LaunchConfig {
  readonly image: string;
  readonly hardwareProfile: string;
  readonly pool?: string;
  readonly userData?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly loadBalancers: readonly LoadBalancerRef[];
  /** How long a leaving server stays in DRAINING before it is removed and deleted (0: no draining). */
  readonly drainingTimeoutMs: number;
  /** A server still building after this long is replaced. */
  readonly buildTimeoutMs: number;
}

export const POLICY_TYPES = ['webhook', 'schedule', 'alarm', 'target'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

/** `cron`: five fields, evaluated in `timezone` (IANA name, default UTC). */
export interface CronArgs {
  readonly cron: string;
  readonly timezone?: string;
}

/** `at`: one firing at an RFC 3339 time. */
export interface AtArgs {
  readonly at: string;
}

export const LABEL_MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
export type LabelMatchOp = (typeof LABEL_MATCH_OPS)[number];

/** One Prometheus-style label matcher; regular expressions are anchored at both ends. */
export interface LabelMatcher {
  readonly name: string;
  readonly op: LabelMatchOp;
  readonly value: string;
}

/**
 * Which alarms trigger an alarm policy: every entry of `labels` must be equal and every matcher
 * must hold (at least one of the two is given).
 */
export interface AlarmCriteria {
  readonly labels?: Readonly<Record<string, string>>;
  readonly matchers?: readonly LabelMatcher[];
}

export interface AlarmArgs {
  readonly alarmCriteria: AlarmCriteria;
}

export type PolicyArgs = CronArgs | AtArgs | AlarmArgs | TargetArgs;

/**
 * A scaling policy. Exactly one of `change`, `changePercent` and `desiredCapacity` is set
 * (`validatePolicy` checks it), except for target policies, which set none. `args` is required
 * for schedule (cron or at), alarm (alarmCriteria) and target (TargetArgs) policies and absent
 * for webhook policies.
 */
export interface Policy {
  readonly id: string;
  readonly name: string;
  readonly cooldownMs: number;
  readonly type: PolicyType;
  /** Add (or remove, when negative) this many servers. */
  readonly change?: number;
  /** Add this percentage of the current desired capacity, rounded away from zero. */
  readonly changePercent?: number;
  /** Set the desired capacity to this. */
  readonly desiredCapacity?: number;
  readonly args?: PolicyArgs;
  /** When this policy last executed (starts the policy cooldown). */
  readonly lastExecutedAt?: Date;
}

export const SERVER_STATES = ['building', 'active', 'error', 'draining', 'deleting'] as const;
export type ServerState = (typeof SERVER_STATES)[number];

/** A server of the group as observed now (gathered from the instance store and the balancers). */
export interface ObservedServer {
  readonly id: string;
  readonly state: ServerState;
  readonly createdAt: Date;
  /**
   * The balancers this server is a member of now (active or draining). Compared with the launch
   * config's balancers by `lbKey`; absent means none.
   */
  readonly lbMemberships?: readonly LoadBalancerRef[];
  /** When draining started (state `draining`). */
  readonly drainingSince?: Date;
  /** Never removed by a scale-in (Note [Victim choice]). */
  readonly protected?: boolean;
  /** Kept for debugging, outside the group: not counted, not replaced, not deleted. */
  readonly detached?: boolean;
  /** The launch-config version the server was launched from. */
  readonly launchVersion?: number;
  /**
   * Asked to leave while it served (an instance refresh retired it): counted as broken, yet
   * drained first like a scale-in victim when it is in a balancer (Note [Convergence]).
   */
  readonly evicted?: boolean;
}

/**
 * One thing to do to converge a group. Steps about the same server are listed in the order they
 * must run (leave the balancers, then delete); steps about different servers are independent.
 */
export type Step =
  /** Launch one server from the launch config. */
  | { readonly kind: 'create-server'; readonly reason: string }
  /** Delete a server (it is already out of every balancer when this step comes). */
  | { readonly kind: 'delete-server'; readonly serverId: string; readonly reason: string }
  /** Delete a broken server and launch one in its place (one step: the capacity stays planned). */
  | { readonly kind: 'replace-server'; readonly serverId: string; readonly reason: string }
  /** Add a ready server to a balancer. */
  | { readonly kind: 'add-to-lb'; readonly serverId: string; readonly lb: LoadBalancerRef }
  /**
   * Put a member into DRAINING and mark the server `draining` since now; it is removed and deleted
   * by a later pass once `timeoutMs` passed.
   */
  | {
      readonly kind: 'drain';
      readonly serverId: string;
      readonly lb: LoadBalancerRef;
      readonly timeoutMs: number;
    }
  /** Remove a server from a balancer. */
  | {
      readonly kind: 'remove-from-lb';
      readonly serverId: string;
      readonly lb: LoadBalancerRef;
      readonly reason: string;
    };

export type StepKind = Step['kind'];

/**
 * How executing a step went (Otter's StepResult): `retry` — try again on the next pass
 * (transient: a timeout, a 503); `limited-retry` — may resolve itself, but give up after a bound
 * (a quota, an over-limit answer); `failure` — will not succeed by retrying (a bad image); the
 * group goes to ERROR.
 */
export const STEP_OUTCOMES = ['success', 'retry', 'limited-retry', 'failure'] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

export interface StepResult {
  readonly step: Step;
  readonly outcome: StepOutcome;
  readonly reason?: string;
}
