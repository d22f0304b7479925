import type { Rsc } from './assign';
import type { ClusterSpec, NoQuorumSpec } from './cluster.types';

// Note [Quorum]
// ~~~~~~~~~~~~~
// A cluster without quorum (have-quorum false) plans as Pacemaker 2.1.5 does for its
// no-quorum-policy (`unpack_config`, `effective_quorum_policy`, `update_resource_action_runnable`):
// - ignore: as with quorum;
// - stop (the default; also an unknown value, and suicide when fencing is disabled or the
//   cluster never had quorum, i.e. without no-quorum-panic): resources are assigned as usual,
//   but every start of a resource that needs quorum is unrunnable ("due to no quorum"), so
//   what runs stops and nothing starts;
// - demote: for a resource that is not promotable, as stop;
// - freeze: a start is unrunnable for a resource that is not active anywhere, and for one whose
//   definition changed (its start, forced before assignment, was created unrunnable and freeze
//   never makes it runnable again): what runs may still move or recover, nothing new starts.
// have-quorum missing from the CIB counts as false.
// A resource needs quorum unless its `requires` is `nothing` (the default is quorum or fencing,
// even for fencing devices). An unrunnable start blocks what depends on it like any other
// (Note [Runnability] in plan.ts). Unclean nodes out of the membership are not fenced without
// quorum (`pe_can_fence`), so what is active there stays active, which the reader refuses.
// Not modelled, so refused by the reader: suicide with no-quorum-panic (fences every node),
// demote with a promotable clone.

/** The no-quorum behaviour from the cluster options (undefined: plans as with quorum). */
export function noQuorumPolicy(
  haveQuorum: boolean,
  policy: string | undefined,
  opts: { stonithEnabled: boolean; panic: boolean; refuse: (what: string) => void },
): NoQuorumSpec['policy'] | undefined {
  if (haveQuorum) return undefined;
  const p = (policy ?? 'stop').toLowerCase();
  if (p === 'ignore') return undefined;
  if (p === 'freeze') return 'freeze';
  if (p === 'suicide' && opts.stonithEnabled && opts.panic) opts.refuse('no-quorum-policy=suicide without quorum (fences every node)');
  return 'stop';
}

/** Whether a resource's start can run without quorum (see Note [Quorum]). */
export function startRunnableWithoutQuorum(spec: ClusterSpec, r: Rsc): boolean {
  const q = spec.noQuorum;
  if (!q || r.unmanaged) return true;
  if (q.startWithoutQuorum?.includes(r.id)) return true;
  // A start forced before assignment by a changed definition is created unrunnable (no node
  // yet); freeze, unlike ignore, never sets it runnable again once it has a node.
  return q.policy === 'freeze' && r.active && !r.definitionChanged;
}
