/**
 * The Pacemaker-compatible layer of the policy engine: a cluster of nodes running primitive
 * resources under location, colocation and ordering constraints. For a deployable, nodes are
 * assemblies and resources are services (see deployable.types.ts for the layer the DPE uses).
 *
 * All inputs are plain immutable data; times are epoch milliseconds.
 */

/** A node (an assembly). */
export interface NodeSpec {
  /** Unique node name (`uname`). Ties between equal scores are broken by this name. */
  name: string;
  /** A standby node runs nothing; resources on it are moved away. */
  standby?: boolean;
}

/** Desired role of a resource (Pacemaker's `target-role`, subset). */
export type TargetRole = 'Started' | 'Stopped';

/** A primitive resource (a service). Unset fields fall back to `ClusterSpec.defaults`. */
export interface ResourceSpec {
  /** Unique resource id. */
  id: string;
  /** Higher priority resources are placed first (Pacemaker `priority`, default 0). */
  priority?: number;
  /** Preference for staying where it runs (`resource-stickiness`); values below 1 do nothing. */
  stickiness?: number;
  /** Failures on a node before the resource is banned from it (`migration-threshold`); 0 = never. */
  migrationThreshold?: number;
  /** After this long without a new failure a node's fail count is ignored (`failure-timeout`); 0 = never. */
  failureTimeoutMs?: number;
  /** `Stopped` keeps the resource stopped everywhere (default `Started`). */
  targetRole?: TargetRole;
  /**
   * False leaves the resource alone (Pacemaker `is-managed=false`): it stays where it runs,
   * failed or not, and is given no action; its node gets +INFINITY and its stickiness is not
   * applied (what colocated resources see). Default true.
   */
  managed?: boolean;
  /**
   * Made unmanaged after its state was read (an `rsc_ticket` with loss-policy freeze whose ticket
   * was lost): it stays where it runs with no action, and neither +INFINITY nor its stickiness
   * applies there.
   */
  blocked?: boolean;
}

/** `rsc_location`: add `score` to `resource`'s preference for `node`. */
export interface LocationConstraint {
  id: string;
  resource: string;
  node: string;
  /** Integer score; ±INFINITY (1,000,000) means must / must not. */
  score: number;
}

/** `rsc_colocation`: place `resource` relative to where `withResource` is placed. */
export interface ColocationConstraint {
  id: string;
  /** The dependent: placed after, and relative to, `withResource`. */
  resource: string;
  /** The primary. */
  withResource: string;
  /** Positive: together; negative: apart; ±INFINITY: mandatory. 0 is ignored. */
  score: number;
  /** Whether the dependent may move the primary (Pacemaker `influence`, default true). */
  influence?: boolean;
}

/**
 * `rsc_order`: start `then` after `first`; stop in reverse when symmetrical. Mandatory (the
 * default): `then` cannot start unless `first` can, and a symmetrical one restarts `then` when
 * `first` restarts. Optional and Serialize only order actions that happen anyway.
 */
export interface OrderConstraint {
  id: string;
  first: string;
  then: string;
  /** Default Mandatory. */
  kind?: 'Mandatory' | 'Optional' | 'Serialize';
  /** Default true (false for Serialize, which is never symmetrical). */
  symmetrical?: boolean;
}

/**
 * A Pacemaker `<group>` (ordered and colocated): its members are resources of `ClusterSpec.resources`
 * (with the group's meta attributes already inherited). Each member runs with the previous one
 * (INFINITY) and starts after it; constraints may name the group (see Note [Groups] in groups.ts).
 */
export interface GroupSpec {
  /** Unique id (distinct from every resource id). */
  id: string;
  /** Member resource ids, in order (at least one). */
  members: readonly string[];
  /** The group's own priority: where it comes in the assignment order (default 0). */
  priority?: number;
}

/**
 * An anonymous Pacemaker `<clone>` of one primitive (see Note [Clones] in clones.ts): its
 * instances are resources of `ClusterSpec.resources` (ids `<primitive>:<n>`, with the clone's
 * meta attributes already inherited). Constraints may name the clone id. A clone of a group
 * (see Note [Clones of groups] in clone-groups.ts) has group instances instead: ids of
 * `ClusterSpec.groups` (`<group>:<n>`, members `<member>:<n>`).
 */
export interface CloneSpec {
  /** Unique id (distinct from every resource and group id). */
  id: string;
  /** Instance resource ids, in instance-number order. */
  instances: readonly string[];
  /** `clone-max`: at most this many instances run (at most one per node). */
  max: number;
  /** The clone's own priority: where it comes in the assignment order (default 0). */
  priority?: number;
  /** `interleave`: an order between two clones binds instances on the same node only. */
  interleave?: boolean;
  /** `clone-min`: what is ordered after the clone needs this many instances (default 1). */
  min?: number;
  /** Set for a promotable clone (see Note [Promotable clones] in promotable.ts). */
  promotable?: PromotableSpec;
  /**
   * `globally-unique=true` (with clone-node-max 1): instances are told apart, in the status and
   * in fail counts (a fail count bans its instance alone). Assignment is the same.
   */
  unique?: boolean;
  /** `clone-node-max` of a globally-unique clone: at most this many instances per node (default 1). */
  nodeMax?: number;
}

/** What a promotable clone adds to a clone (see Note [Promotable clones] in promotable.ts). */
export interface PromotableSpec {
  /** `promoted-max` (`master-max`): at most this many promoted instances (default 1). */
  promotedMax: number;
  /** `promoted-node-max` (`master-node-max`): at most this many promoted instances per node (default 1). */
  promotedNodeMax?: number;
  /**
   * Promotion score per instance id and node name, where Pacemaker counts it and the node has one,
   * before the checks made at assignment (node available, instance's node score not negative).
   */
  scores: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Locations for role Promoted on the clone, in the order Pacemaker adds them (reverse CIB order). */
  promotedLocations?: ReadonlyArray<{ node: string; score: number }>;
  /** Instances promoted now (from their history). */
  promotedNow?: readonly string[];
  /** No instance may be promoted (a ticket for role Promoted is lost or in standby). */
  promotionBlocked?: boolean;
  /** target-role Unpromoted (or Slave): no instance is promoted. */
  unpromotedTarget?: boolean;
}

/**
 * `rsc_colocation` of a primitive with the promoted instances of a promotable clone
 * (`with-rsc-role=Promoted`; see Note [Colocation with the promoted role] in promotable.ts).
 */
export interface PromotedColocation {
  id: string;
  /** The dependent primitive. */
  resource: string;
  /** The promotable clone. */
  clone: string;
  score: number;
  /** Default true. */
  influence?: boolean;
  /** `with-rsc-role=Unpromoted`: with the clone's unpromoted instances instead. */
  role?: 'Unpromoted';
}

/** Cluster-wide defaults (`rsc_defaults`). */
export interface ResourceDefaults {
  stickiness?: number;
  /** Pacemaker's default is INFINITY (1,000,000). */
  migrationThreshold?: number;
  failureTimeoutMs?: number;
}

/** The configuration: what should run where. Resource order matters (it is the CIB order). */
export interface ClusterSpec {
  nodes: readonly NodeSpec[];
  resources: readonly ResourceSpec[];
  locations?: readonly LocationConstraint[];
  colocations?: readonly ColocationConstraint[];
  /** Colocations with the promoted role of a promotable clone (see promotable.ts). */
  promotedColocations?: readonly PromotedColocation[];
  /**
   * Colocations of a promotable clone's promoted role with a primitive or group (`rsc=<clone>
   * rsc-role=Promoted with-rsc=<resource>`, positive score): `resource` is the primary.
   */
  promotedWith?: readonly PromotedColocation[];
  orders?: readonly OrderConstraint[];
  /** Groups; constraints may name a group id in place of a resource id. */
  groups?: readonly GroupSpec[];
  /** Anonymous clones; constraints may name a clone id (see Note [Clones] in clones.ts). */
  clones?: readonly CloneSpec[];
  defaults?: ResourceDefaults;
  /**
   * Fencing is enabled but no fencing device is configured: Pacemaker then leaves every resource
   * where it runs (unmanaged), but only once its scores are computed (stickiness included).
   */
  fencingWithoutDevice?: boolean;
  /**
   * Fencing can be carried out: it is enabled, a fencing device is configured, and the cluster
   * has quorum (or ignores its loss). Unclean nodes (`ClusterObservedState.unclean`) are then
   * fenced, and what ran on them is placed elsewhere (see Note [Fencing] in fencing.ts).
   */
  fencing?: FencingSpec;
  /** Pacemaker's `placement-strategy` with node capacities and resource use (default: none). */
  utilization?: UtilizationSpec;
  /**
   * false: an opt-in cluster (`symmetric-cluster=false`), where a resource may run only on nodes
   * a location constraint names for it (see Note [Opt-in clusters] in opt-in.ts). Default true.
   */
  symmetricCluster?: boolean;
  /** Without quorum: what Pacemaker does (see Note [Quorum] in quorum.ts). Default: quorate. */
  noQuorum?: NoQuorumSpec;
}

/** How a cluster without quorum (and no-quorum-policy other than ignore) plans. */
export interface NoQuorumSpec {
  /** `stop` (also demote, for resources that are not promotable) or `freeze`. */
  policy: 'stop' | 'freeze';
  /** Resources whose start needs no quorum (`requires=nothing`). */
  startWithoutQuorum?: readonly string[];
}

/** Node capacities and resource use, and how placement weighs them (see Note [Utilization] in utilization.ts). */
export interface UtilizationSpec {
  strategy: 'default' | 'utilization' | 'balanced' | 'minimal';
  /** Capacity per node name: integer amount per attribute name (a missing one counts as 0). */
  capacity: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Use per resource id (primitives). */
  use: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Pacemaker's `stonith-action` (the deprecated `poweroff` is `off`). */
export type FencingAction = 'reboot' | 'off';

/** How unclean nodes are fenced. */
export interface FencingSpec {
  /** Default reboot. */
  action?: FencingAction;
}

/** Where a resource is observed to be. */
export interface ResourceObservation {
  /** The node it runs on. */
  node: string;
  /** Its last monitor failed: it needs recovery (restart in place, or move). */
  failed?: boolean;
  /** When it failed (epoch ms); used by writeCib for the failed operation's last-rc-change. */
  failedAt?: number;
  /**
   * It runs with another agent (class, provider, type) than configured: Pacemaker restarts it
   * (`pcmk__rsc_agent_changed`), as a failed one but without a failure.
   */
  definitionChanged?: boolean;
}

/** What the DPE sees now. */
export interface ClusterObservedState {
  /** Nodes that are up. A node not listed (or `false`) is offline and runs nothing. */
  online: Readonly<Record<string, boolean>>;
  /** Current location of each active resource; absent = stopped. */
  resources: Readonly<Record<string, ResourceObservation | undefined>>;
  /**
   * Nodes in an unknown state that must be fenced, with why (never online). A resource observed
   * on one is still active there until the node is fenced: it is placed elsewhere, and counts as
   * active (a colocation with influence=false then leaves it alone).
   */
  unclean?: Readonly<Record<string, string>>;
}

/** Fail count of one resource on one node (Pacemaker's `fail-count-*` / `last-failure-*`). */
export interface FailureRecord {
  resource: string;
  node: string;
  /** Number of failures; INFINITY bans at once. */
  count: number;
  /** When the last of them happened (epoch ms); needed for `failure-timeout` to expire them. */
  lastFailureAt?: number;
}

/** Past failures, as fail counts per resource and node. */
export type FailureHistory = readonly FailureRecord[];

/** What `plan()` decided for one resource. */
export interface ResourcePlacement {
  /** Node the resource will run on, or null when it cannot (or must not) run. */
  node: string | null;
  /** One line: why it runs there, or why it cannot run. */
  explanation: string;
}
