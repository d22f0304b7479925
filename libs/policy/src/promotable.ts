import type { Rsc } from './assign';
import type { PromotableSpec } from './cluster.types';
import { INFINITY, addScores } from './score.util';

// Note [Promotable clones]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// A promotable clone (meta promotable=true, or the legacy `<master>` element) is a clone (Note
// [Clones] in clones.ts), anonymous or globally unique, whose instances are then given a role, Promoted or
// Unpromoted (Pacemaker 2.1.5 `pcmk__set_instance_roles`, after the instances are assigned). What
// changes *where* instances run, as opposed to in which role:
// - promotion scores (`pcmk__add_promotion_scores`, when the clone is assigned): for each instance
//   and each node that can run resources (online, clean, not in standby), the instance's promotion
//   score there is added to its node score when positive, and the instance's priority (which
//   orders the instances, `pcmk__cmp_instance`) is raised to it when greater. The score is the node
//   attribute `master-<name>` (transient attributes overwrite permanent ones), where <name> is the
//   id the instance's history was recorded under (its `clone_name`) or else the instance id,
//   falling back to `master-<primitive>`; it counts (`promotion_score_applies`) only
//   · where this instance is active; or where no instance is active but some instance has history
//     (an orphan one too: history beyond clone-max);
//   · everywhere when the instance is active nowhere and has history nowhere;
//   · otherwise where it has history or is active;
//   and only where the instance's node score is not negative at that moment.
//   For a globally-unique clone (`pe_rsc_unique`) the first two rules do not apply, <name> is the
//   instance id (its history is recorded under it) and there is no fallback to `master-<primitive>`.
// - nothing else Nephele reads: a location with role=Promoted applies only to a resource whose next
//   role is Promoted when locations are applied, which never happens then (target-role=Promoted is
//   ignored, `get_target_role`, so the next role is still unknown); it only steers promotion.
//   target-role=Promoted/Unpromoted (or Master/Slave) places instances as Started does.
// Promotion itself (which instance is promoted, promote/demote actions) changes no placement
// unless something depends on the role: colocations and tickets with a role, orders with promote
// or demote actions. Those are refused by the reader, as are failed promotes and demotes.
// History: rc 8 (running promoted) is a success for a probe or when the transition expected it (its
// transition-key's third field), otherwise a failure; rc 9 (failed promoted) is a failure; promote
// and demote leave the instance running.

/** Inputs of `promotionScores` (per clone), as the reader has them after reading the status. */
export interface PromotionInputs {
  primitive: string;
  /** Instance ids, in instance-number order. */
  instances: readonly string[];
  nodes: readonly string[];
  /** Where each instance is active (running, failed or on a node to fence). */
  activeOn: (instance: string) => string | undefined;
  /** Nodes where each instance has history (an lrm_resource with operations). */
  knownOn: ReadonlyMap<string, ReadonlySet<string>>;
  /** Nodes with history of the clone beyond clone-max (Pacemaker makes orphan instances of them). */
  orphansKnownOn: ReadonlySet<string>;
  /** The last history id mapped to an instance that differs from its id (Pacemaker's `clone_name`). */
  cloneName: ReadonlyMap<string, string>;
  /** A globally-unique clone: its instances' history is their own (no "active here"/"probed here" rules, no fallback name). */
  unique?: boolean;
  /** A node attribute (merged: transient over permanent). */
  nodeAttr: (node: string, name: string) => string | undefined;
  /** Pacemaker's char2score. */
  score: (text: string) => number;
}

/**
 * Each instance's promotion score per node where it counts (see Note [Promotable clones]), before
 * the checks made at assignment time (the node can run resources, the instance's node score there
 * is not negative). A node without the attribute is left out.
 */
export function promotionScores(p: PromotionInputs): Record<string, Record<string, number>> {
  const activeHere = new Map<string, string>();
  for (const i of p.instances) {
    const n = p.activeOn(i);
    if (n !== undefined && !activeHere.has(n)) activeHere.set(n, i);
  }
  const anyKnown = (node: string): boolean => p.orphansKnownOn.has(node) || p.instances.some((i) => p.knownOn.get(i)?.has(node) === true);
  const out: Record<string, Record<string, number>> = {};
  for (const inst of p.instances) {
    const known = p.knownOn.get(inst) ?? new Set<string>();
    const where = p.activeOn(inst);
    const applies = (node: string): boolean => {
      const active = activeHere.get(node);
      if (!p.unique && active === inst) return true;
      if (!p.unique && active === undefined && anyKnown(node)) return true;
      if (where === undefined && known.size === 0) return true;
      return known.has(node) || where === node;
    };
    const name = p.cloneName.get(inst) ?? inst;
    for (const node of p.nodes) {
      if (!applies(node)) continue;
      const text = p.nodeAttr(node, `master-${name}`) ?? (inst !== p.primitive && !p.unique ? p.nodeAttr(node, `master-${p.primitive}`) : undefined);
      if (text === undefined) continue;
      (out[inst] ??= {})[node] = p.score(text);
    }
  }
  return out;
}

/**
 * `pcmk__add_promotion_scores` for a promotable clone about to be assigned (once): see Note
 * [Promotable clones]. `scores` is `PromotableSpec.scores`, `nodeIndex` maps node names.
 */
export function addPromotionScores(
  clone: Rsc,
  scores: Readonly<Record<string, Readonly<Record<string, number>>>>,
  nodeNames: readonly string[],
  available: readonly boolean[],
): void {
  for (const inst of clone.instances ?? []) {
    const own = scores[inst.id] ?? {};
    for (let n = 0; n < nodeNames.length; n++) {
      if (!available[n]) continue;
      const s = inst.w[n]! >= 0 ? (own[nodeNames[n]!] ?? 0) : 0;
      if (s > 0) inst.w[n] = addScores(inst.w[n]!, s);
      if (s > inst.priority) inst.priority = s;
    }
  }
}

/** Operations of a promotable clone's history beyond start, stop and monitor. */
export const PROMOTABLE_OPERATIONS: readonly string[] = ['promote', 'demote'];

/**
 * How an rc 8 or 9 result of a promotable clone's operation reads (see Note [Promotable clones]):
 * 'running' (promoted, as expected) or 'failed'.
 */
export function promotedResult(operation: string, interval: number, rc: number, transitionKey: string | undefined): 'running' | 'failed' {
  if (rc !== 8) return 'failed';
  const probe = operation === 'monitor' && interval === 0;
  const expected = Number((transitionKey ?? '').split(':')[2] ?? 'NaN');
  return probe || expected === 8 ? 'running' : 'failed';
}

// Note [Colocation with the promoted role]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// A primitive or group X colocated with a promotable clone's promoted role (`rsc=X
// with-rsc=<clone> with-rsc-role=Promoted`) follows the promoted instances (Pacemaker 2.1.5
// `pcmk__clone_apply_coloc_score` → `pcmk__update_dependent_with_promotable`), so where it runs
// depends on which instances are promoted (`pcmk__set_instance_roles`). Modelled when X (a group:
// its members) takes part in no other colocation, the clone in no other colocation either, and the
// clone is ordered after nothing (the reader refuses the rest); a group's colocation is its first
// member's, the others follow it:
// 1. when the clone is assigned, X's node scores are merged into the clone's
//    (`pcmk__add_colocated_node_scores`: a group's through its first member, recursively through
//    what is colocated with it; scaled by score/INFINITY, only with influence or while no
//    instance is active; a merge that would turn a positive score negative marks the node and makes
//    it 1 at the end, one that would turn a 0 negative is skipped, and nothing is merged when no
//    available node would keep a score ≥ 0);
// 2. roles: each assigned instance's promotion priority is its promotion score on its node (where
//    it counts, see Note [Promotable clones]; −1 without one; −INFINITY with target-role
//    Unpromoted) plus the clone's locations for role Promoted there; the clone's node scores get
//    each non-negative priority added on the instance's node, then X's scores merged again (as
//    in 1); a lost promotion ticket makes them −INFINITY; each instance's sort index becomes the
//    clone's score on its node (when its priority was ≥ 0). Instances are sorted by sort index,
//    then current role (promoted first), then as for assignment (`pcmk__cmp_instance`), and the
//    first ones with sort index and priority ≥ 0 on an available node are promoted, up to
//    promoted-max (at most promoted-node-max per node);
// 3. X: an optional colocation adds its score on each promoted instance's node; a mandatory one
//    bans X from every other node and adds the instance's own node score there. A finitely negative
//    colocation that leaves X nowhere to run is undone (as for primitives).
// Besides, each instance merges the dependents' scores itself when assigned (`append_parent_colocation`,
// as Nephele merges a primitive's dependents): all of them when clone-max is below the number of
// available nodes, else the negative ones (with influence or while the instance is inactive).
// Pacemaker appends them again at each attempt, so an instance whose pre-assignment to its current
// node was undone merges them twice: such CIBs are refused.
// A colocation with the Unpromoted role is the same with the assigned instances not promoted in
// 3, and not merged in 2 (only in 1).

// Note [Promoted with a resource]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// `rsc=<clone> rsc-role=Promoted with-rsc=P` with a positive score (P a primitive or group) steers
// which instance is promoted, and places nothing of the clone: while instances are assigned, the
// colocation (appended to each instance, `append_parent_colocation`) has no effect on their scores
// (`pcmk__colocation_affects`: the dependent's role is still unknown). What it changes: P is
// assigned first when the clone is (`pcmk__clone_allocate` assigns its primaries first), and P
// takes in the clone's own node scores like any dependent's (`apply_with_this`, with influence or
// while P is inactive). An order `start P then promote <clone>` then changes no placement either.
// Refused with anything colocated with the clone's roles, or P in other colocations.

/** A colocation with the promoted role, as the assigner sees it. */
export interface PromotedColoc {
  id: string;
  /** The dependent (a primitive or a group). */
  dep: Rsc;
  /** What the colocation is applied to: the primitive, or the group's first member. */
  target: Rsc;
  clone: Rsc;
  score: number;
  influence: boolean;
  /** With the unpromoted instances (`with-rsc-role=Unpromoted`) instead of the promoted ones. */
  unpromoted: boolean;
}

/** What the role computation needs from assign.ts. */
export interface RoleContext {
  nodeNames: readonly string[];
  available: readonly boolean[];
  compareInstances: (a: Rsc, b: Rsc) => number;
}

const INFINITY_HACK = -100_000_000;

/** `add_node_scores_matching_attr` (#uname) with `only_positive`. */
function addMatchingNonNegative(work: Int32Array, rsc: Rsc, factor: number, available: readonly boolean[]): void {
  for (let n = 0; n < work.length; n++) {
    const score = available[n] ? rsc.w[n]! : -INFINITY;
    if (factor < 0 && score < 0) continue;
    if (work[n] === INFINITY_HACK) continue;
    const f = Math.fround(factor * score);
    let weight = Math.trunc(f < 0 ? f - 0.5 : f + 0.5);
    if (weight === 0 && score !== 0) weight = factor > 0 ? 1 : factor < 0 ? -1 : 0;
    const next = addScores(weight, work[n]!);
    if (next < 0 && work[n]! > 0) work[n] = INFINITY_HACK;
    else if (next < 0 && work[n] === 0) continue;
    else work[n] = next;
  }
}

/**
 * `pcmk__add_colocated_node_scores` with `pcmk__coloc_select_nonnegative` (and
 * `pcmk__coloc_select_active` when `active`): `rsc`'s scores (a group's through its first member)
 * and, recursively, those of what is colocated with it, merged into a copy of `nodes`.
 */
function addColocatedNonNegative(rsc: Rsc, nodes: Int32Array, factor: number, active: boolean, available: readonly boolean[]): Int32Array {
  if (rsc.merging) return nodes;
  rsc.merging = true;
  let work: Int32Array;
  if (rsc.members) work = addColocatedNonNegative(rsc.members[0]!, nodes.slice(), factor, active, available);
  else {
    work = nodes.slice();
    addMatchingNonNegative(work, rsc, factor, available);
  }
  let any = false;
  for (let n = 0; n < work.length; n++) if (available[n] && work[n]! >= 0) any = true;
  if (any) {
    const multiplier = factor < 0 ? -1 : 1;
    const withThis = rsc.members ? rsc.members[rsc.members.length - 1]!.withThis : rsc.withThis;
    for (const c of withThis) {
      if (!(c.influence || !c.prim.active)) continue;
      work = addColocatedNonNegative(c.dep, work, Math.fround((multiplier * c.score) / INFINITY), true, available);
    }
  } else if (active) {
    rsc.merging = false;
    return nodes;
  }
  for (let n = 0; n < work.length; n++) if (work[n] === INFINITY_HACK) work[n] = 1;
  rsc.merging = false;
  return work;
}

/** Step 1 of Note [Colocation with the promoted role]: the dependents' scores into the clone's. */
export function mergePromotedDependents(clone: Rsc, deps: readonly PromotedColoc[], available: readonly boolean[]): void {
  for (const c of deps) {
    if (c.influence || !clone.active) clone.w = addColocatedNonNegative(c.dep, clone.w, Math.fround(c.score / INFINITY), true, available);
  }
}

/** A stable sort (GLib's `g_list_sort` is a merge sort). */
export function stableSorted<T>(list: readonly T[], cmp: (a: T, b: T) => number): T[] {
  return list
    .map((x, i) => ({ x, i }))
    .sort((p, q) => cmp(p.x, q.x) || p.i - q.i)
    .map((p) => p.x);
}

/**
 * Step 2 of Note [Colocation with the promoted role]: the instances promoted, given the clone's
 * instances in the order they were sorted for assignment.
 */
export function assignRoles(clone: Rsc, spec: PromotableSpec, order: readonly Rsc[], deps: readonly PromotedColoc[], ctx: RoleContext): Rsc[] {
  const sortIndex = new Map<Rsc, number>();
  for (const inst of order) {
    const chosen = inst.assigned;
    if (chosen < 0) {
      sortIndex.set(inst, -INFINITY);
      continue;
    }
    const node = ctx.nodeNames[chosen]!;
    let priority: number;
    if (spec.unpromotedTarget) priority = -INFINITY;
    else {
      const s = inst.w[chosen]! >= 0 ? spec.scores[inst.id]?.[node] : undefined;
      priority = s ?? -1;
    }
    for (const l of spec.promotedLocations ?? []) if (l.node === node) priority = addScores(priority, l.score);
    inst.priority = priority;
    sortIndex.set(inst, priority);
  }
  let w: Int32Array = clone.w.slice();
  for (const inst of order) {
    const si = sortIndex.get(inst)!;
    if (si >= 0 && inst.assigned >= 0) w[inst.assigned] = addScores(si, w[inst.assigned]!);
  }
  const saved = clone.w;
  clone.w = w;
  mergePromotedDependents(clone, deps, ctx.available);
  w = clone.w;
  clone.w = saved;
  if (spec.promotionBlocked) for (let n = 0; n < w.length; n++) w[n] = addScores(w[n]!, -INFINITY);
  for (const inst of order) {
    if (inst.assigned >= 0 && sortIndex.get(inst)! >= 0) sortIndex.set(inst, w[inst.assigned]!);
  }
  const promotedNow = new Set(spec.promotedNow ?? []);
  const role = (r: Rsc): number => (promotedNow.has(r.id) ? 2 : r.activeNode >= 0 ? 1 : 0);
  const sorted = stableSorted(order, (a, b) => sortIndex.get(b)! - sortIndex.get(a)! || role(b) - role(a) || ctx.compareInstances(a, b));
  const promoted: Rsc[] = [];
  const perNode = new Map<number, number>();
  for (const inst of sorted) {
    if (sortIndex.get(inst)! < 0 || promoted.length >= spec.promotedMax) continue;
    const n = inst.assigned;
    if (n < 0 || inst.priority < 0 || !ctx.available[n]) continue;
    if ((perNode.get(n) ?? 0) >= (spec.promotedNodeMax ?? 1)) continue;
    perNode.set(n, (perNode.get(n) ?? 0) + 1);
    promoted.push(inst);
  }
  return promoted;
}

/** Step 3 of Note [Colocation with the promoted role]: the dependent's node scores, given the instances in the colocation's role. */
export function applyPromotedColocation(c: PromotedColoc, promoted: readonly Rsc[], available: readonly boolean[]): void {
  const x = c.target;
  const archive = c.score < 0 && c.score > -INFINITY ? x.w.slice() : null;
  const nodes = new Set<number>();
  for (const inst of promoted) {
    if (inst.assigned < 0) continue;
    nodes.add(inst.assigned);
    if (c.score < INFINITY) x.w[inst.assigned] = addScores(x.w[inst.assigned]!, c.score);
  }
  if (c.score >= INFINITY) {
    for (let n = 0; n < x.w.length; n++) {
      const inst = promoted.find((i) => i.assigned === n);
      if (inst) x.w[n] = addScores(x.w[n]!, inst.w[n]!);
      else {
        x.w[n] = -INFINITY;
        x.bans.set(n, `colocation ${c.id}: no promoted instance of ${c.clone.id} there`);
      }
    }
  }
  if (archive) {
    let any = false;
    for (let n = 0; n < x.w.length; n++) if (available[n] && x.w[n]! >= 0) any = true;
    if (!any) x.w = archive;
  }
}
