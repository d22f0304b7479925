import { ClusterObservedState, ClusterSpec, FencingAction } from './cluster.types';

// Note [Fencing]
// ~~~~~~~~~~~~~~
// With fencing enabled (stonith-enabled, the default) Pacemaker 2.1.5 judges each node from its
// node_state (`determine_online_status_fencing`):
// - no node_state at all: unclean ("unseen") when startup-fencing is on (the default), else
//   cleanly offline;
// - in_ccm absent: unclean; join=banned: unclean;
// - expected (default down) = down: offline when neither in the membership nor with its controller
//   up, otherwise pending (online but runs nothing; outside the subset);
// - in_ccm false: unclean ("no longer part of the cluster"); controller not online: unclean (the
//   node still counts as online for reading its history, but runs nothing);
// - join=member: online; join pending/down: pending; anything else: unclean.
// Unlike a cluster without fencing, the history of offline nodes is read too: a managed resource
// still active on an offline node makes that node unclean ("thought to be active there"); an
// unmanaged one stays where it is, even on an offline node (outside the subset). A failed stop
// (on-fail=fence, the default for a stop with fencing) makes its node unclean ("… failed there"),
// and so does a lost ticket with loss-policy=fence for the node its resource is active on
// ("deadman ticket was lost"); such a node stays online for the history but runs nothing.
//
// Pacemaker fences every unclean node when it can (`needs_fencing`): fencing enabled, a fencing
// device configured (`class="stonith"`), quorum or no-quorum-policy=ignore, and at least one
// managed resource. crm_simulate then takes the node down and forgets its history: whatever was
// active there is stopped, and managed resources are placed elsewhere, as if the node were
// offline. An unclean node that cannot be fenced keeps what runs there (outside the subset:
// refused when anything is active on it). The fencing action is `stonith-action` (reboot, or off;
// the deprecated poweroff means off). Fence devices themselves are placed like any primitive.

/** How one node_state reads with fencing enabled (see Note [Fencing]). */
export interface FencingNodeState {
  /** Whether the node counts as online (its history is read either way). */
  online: boolean;
  /** Why the node must be fenced, when it is unclean. */
  unclean?: string;
  /** Online but not ready to run resources (outside the subset). */
  pending?: boolean;
}

/** `determine_online_status_fencing` for a cluster node that is not shutting down. */
export function fencingNodeState(ns: { inCcm?: string; crmd?: string; join?: string; expected?: string }, terminate: boolean, isTrue: (v: string | undefined) => boolean): FencingNodeState {
  const inCluster = isTrue(ns.inCcm);
  const crmdOnline = (ns.crmd ?? '').toLowerCase() === 'online';
  const join = (ns.join ?? '').toLowerCase();
  const expected = (ns.expected ?? 'down').toLowerCase();
  if (ns.inCcm === undefined) return { online: false, unclean: 'peer has not been seen by the cluster' };
  if (join === 'banned') return { online: inCluster, unclean: 'peer failed Pacemaker membership criteria' };
  if (!terminate && expected === 'down') return inCluster || crmdOnline ? { online: inCluster, pending: true } : { online: false };
  if (terminate && join === 'down' && !inCluster && !crmdOnline) return { online: false };
  if (!inCluster) return { online: false, unclean: 'peer is no longer part of the cluster' };
  if (!crmdOnline) return { online: true, unclean: 'peer process is no longer available' };
  if (terminate) return { online: true, unclean: 'termination was requested' };
  if (join === 'member') return { online: true };
  if (join === 'pending' || join === 'down') return { online: true, pending: true };
  return { online: true, unclean: 'peer was in an unknown state' };
}

/** A node Pacemaker fences before the rest of the transition. */
export interface FenceAction {
  node: string;
  /** `stonith-action`. */
  action: FencingAction;
  /** Why the node is unclean. */
  reason: string;
}

/**
 * The nodes the plan fences (`schedule_fencing_and_shutdowns`): every unclean node, when the
 * spec can fence and at least one resource is managed; in node order.
 */
export function planFencing(spec: ClusterSpec, observed: ClusterObservedState): FenceAction[] {
  const unclean = observed.unclean ?? {};
  if (!spec.fencing || Object.keys(unclean).length === 0) return [];
  if (!spec.resources.some((r) => r.managed !== false && r.blocked !== true)) return [];
  const action = spec.fencing.action ?? 'reboot';
  return spec.nodes.filter((n) => unclean[n.name] !== undefined && observed.online[n.name] !== true).map((n) => ({ node: n.name, action, reason: unclean[n.name]! }));
}

/** What the CIB reader gathers about fencing while it reads node_state entries. */
export interface FencingFacts {
  /** Unclean nodes so far, with why and whether they count as online. */
  unclean: Map<string, { reason: string; online: boolean }>;
  /** Resources whose history says active on a node that is not online (or unclean). */
  activeOffline: Array<{ rid: string; node: string; managed: boolean }>;
}

export function newFencingFacts(): FencingFacts {
  return { unclean: new Map(), activeOffline: [] };
}

/**
 * First half of reading fencing (before tickets): unseen nodes, nodes made unclean by what is
 * active on them, resources active on several nodes. Returns the observations of resources
 * active on unclean nodes, to record as where they are.
 */
export function resolveUnclean(
  facts: FencingFacts,
  opts: {
    startupFencing: boolean;
    nodes: readonly string[];
    seen: ReadonlySet<string>;
    onlineRunning: (rid: string) => boolean;
    refuse: (what: string) => void;
  },
): Array<{ rid: string; node: string }> {
  if (opts.startupFencing) {
    for (const n of opts.nodes) if (!opts.seen.has(n) && !facts.unclean.has(n)) facts.unclean.set(n, { reason: 'node has not been seen', online: false });
  }
  for (const e of facts.activeOffline) {
    if (e.managed && !facts.unclean.has(e.node)) facts.unclean.set(e.node, { reason: `${e.rid} is thought to be active there`, online: false });
  }
  const where = new Map<string, string[]>();
  for (const e of facts.activeOffline) where.set(e.rid, [...(where.get(e.rid) ?? []), e.node]);
  for (const [rid, nodes] of where) {
    if (nodes.length > 1 || opts.onlineRunning(rid)) opts.refuse(`${rid} active on several nodes (${nodes.join(', ')} not online)`);
  }
  return facts.activeOffline.filter((e) => e.managed && facts.unclean.has(e.node)).map(({ rid, node }) => ({ rid, node }));
}

/**
 * Second half (after tickets, which may unmanage resources): refuses what Pacemaker would leave
 * active on a node it does not fence, and returns the unclean nodes for `ClusterObservedState`.
 */
export function checkFenceable(
  facts: FencingFacts,
  opts: {
    canFence: boolean;
    quorate: boolean;
    anyManaged: boolean;
    colocated: (rid: string) => boolean;
    /** Unmanaged once tickets are applied (is-managed=false, or frozen). */
    unmanaged: (rid: string) => boolean;
    refuse: (what: string) => void;
  },
): Record<string, string> {
  // Without quorum, only nodes in the membership can be fenced (`pe_can_fence`, see Note [Quorum] in quorum.ts).
  const fences = opts.canFence && opts.anyManaged && opts.quorate;
  const unclean: Record<string, string> = {};
  for (const [node, u] of facts.unclean) {
    unclean[node] = u.reason;
    // `pe_can_fence` fences a node still in the membership even without quorum: outside the subset.
    if (u.online && opts.canFence && !opts.quorate) opts.refuse(`unclean node ${node} in the membership without quorum`);
  }
  for (const e of facts.activeOffline) {
    const u = facts.unclean.get(e.node);
    if (!u) opts.refuse(`unmanaged ${e.rid} active on offline node ${e.node}`);
    else if (!fences) opts.refuse(`${e.rid} active on unclean node ${e.node} (${u.reason}), which cannot be fenced`);
    else if (opts.unmanaged(e.rid) && opts.colocated(e.rid)) opts.refuse(`colocation with unmanaged ${e.rid} active on unclean node ${e.node}`);
  }
  return unclean;
}
