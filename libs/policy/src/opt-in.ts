import type { Rsc } from './assign';
import { INFINITY } from './score.util';

// Note [Opt-in clusters]
// ~~~~~~~~~~~~~~~~~~~~~~
// With symmetric-cluster=false, Pacemaker 2.1.5 gives no resource a node by default
// (`common_unpack` adds the "symmetric_default" score 0 on every node only in symmetric
// clusters): a resource's allowed-node table starts empty, and a node enters it only when
//   - a location constraint names the node for the resource (`pcmk__apply_location`), whatever
//     its score (a location rule adds only the nodes it matches). A location on a group enters
//     the node for the group and every member (the first with the score, the later ones with a
//     copy reset to 0, `pcmk__group_apply_location`); a location on a clone for the clone and
//     every instance;
//   - an unmanaged resource is active there (`native_add_running` adds +INFINITY).
// A node outside the table is never a candidate: not for the resource, not through
// colocations (`best_node_score_matching_attr` finds no score there: −INFINITY), and stickiness
// is ignored there (`apply_stickiness`). Since −INFINITY absorbs every later addition, a node
// outside the table is modelled as one with −INFINITY, added once the tables are complete.
// Resources left where they run for want of a fencing device, or frozen by a ticket, become
// unmanaged only when assigned (no +INFINITY enters their node): they stay where they run all
// the same.

/** The nodes each resource, group or clone is allowed on in an opt-in cluster. */
export class OptIn {
  private readonly allowed = new Map<Rsc, Set<number>>();

  allow(r: Rsc, n: number): void {
    const set = this.allowed.get(r) ?? new Set<number>();
    set.add(n);
    this.allowed.set(r, set);
  }

  /** A location naming node `n` for `target` (a resource, group or clone). */
  allowLocation(target: Rsc, n: number): void {
    for (const r of [target, ...(target.members ?? []), ...(target.instances ?? []).flatMap((i) => [i, ...(i.members ?? [])])]) this.allow(r, n);
  }

  /** −INFINITY on every node not in the table (see Note [Opt-in clusters]). */
  banTheRest(all: readonly Rsc[], nodes: number): void {
    for (const r of all) {
      const set = this.allowed.get(r);
      r.allowedNodes = set ?? new Set();
      for (let n = 0; n < nodes; n++) {
        if (set?.has(n)) continue;
        r.w[n] = -INFINITY;
        if (!r.bans.has(n)) r.bans.set(n, 'symmetric-cluster=false and no location allows it');
      }
    }
  }
}
