import type { Rsc } from './assign';
import { INFINITY, addScores } from './score.util';

// Note [Colocation with a clone]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// A primitive D colocated with a clone C at +INFINITY ("D with C"), as Pacemaker 2.1.5 plans it:
// - D's assignment first assigns C (`apply_this_with`), then bans D from every node where no
//   instance of C was assigned (`pcmk__clone_apply_coloc_score`, `node_list_exclude`);
// - C's assignment first folds D's scores into C's own (`pcmk__add_colocated_node_scores` with
//   `pcmk__coloc_select_active|pcmk__coloc_select_nonnegative`): a node's score only rises (a sum
//   that would fall below 0 leaves a node at 0 as it is, and a positive one at 1), and the fold
//   is undone when it leaves no node available. C's scores matter to its instances where they
//   are negative (`can_run_instance`);
// - instances are sorted (`pcmk__cmp_instance`), before their numbers, by D's score on the node
//   they are active on, folded the same way into 0 (`cmp_instance_by_colocation`);
// - when clone-max is below the number of available nodes, each attempt to assign an instance
//   first appends the colocation to the instance (`append_parent_colocation`, once more on every
//   attempt), whose assignment then folds D's scores into its own like any primitive's;
// - D cannot start when no instance of C can start (`pcmk__block_colocation_dependents`; an
//   unassigned instance has a start that cannot run).
// Only this shape is read: D a primitive outside groups and clones, with no other colocation,
// C with no other colocation, influence not disabled, C's instances managed; the reader refuses
// the rest (optional or negative scores, clones as dependents, interleaving).

/** Pacemaker's `INFINITY_HACK`: a node marked unusable during a non-negative fold. */
const UNUSABLE = INFINITY * -100;

/** Rounds like C's `(int)((f < 0) ? (f - 0.5) : (f + 0.5))`. */
function roundHalfAway(f: number): number {
  return Math.trunc(f < 0 ? f - 0.5 : f + 0.5);
}

/** `add_node_scores_matching_attr` with `only_positive` (#uname): D's score on each node into `work`. */
function addNonNegative(available: readonly boolean[], work: Int32Array, dep: Rsc, factor: number): void {
  for (let n = 0; n < work.length; n++) {
    const score = available[n] ? dep.w[n]! : -INFINITY;
    if (factor < 0 && score < 0) continue;
    if (work[n] === UNUSABLE) continue;
    let weight = roundHalfAway(Math.fround(factor * score));
    if (weight === 0 && score !== 0) weight = factor > 0 ? 1 : factor < 0 ? -1 : 0;
    const next = addScores(weight, work[n]!);
    if (next < 0 && work[n]! > 0) work[n] = UNUSABLE;
    else if (next < 0 && work[n] === 0) continue;
    else work[n] = next;
  }
}

/** C's assignment: D's scores folded into C's (see Note [Colocation with a clone]). */
export function foldDependentsIntoClone(available: readonly boolean[], clone: Rsc): void {
  for (const c of clone.withThis) {
    const work = clone.w.slice();
    addNonNegative(available, work, c.dep, Math.fround(c.score / INFINITY));
    let any = false;
    for (let n = 0; n < work.length; n++) if (available[n] && work[n]! >= 0) any = true;
    if (!any) continue; // rolled back
    for (let n = 0; n < work.length; n++) if (work[n] === UNUSABLE) work[n] = 1;
    clone.w = work;
  }
}

/** `cmp_instance_by_colocation`: D's score on the node `inst` is active on, folded into 0. */
export function instanceColocationScore(available: readonly boolean[], inst: Rsc): number {
  const clone = inst.clone;
  if (!clone || clone.withThis.length === 0 || inst.activeNode < 0) return 0;
  const work = new Int32Array(available.length);
  for (const c of clone.withThis) addNonNegative(available, work, c.dep, Math.fround(c.score / INFINITY));
  const v = work[inst.activeNode]!;
  return v === UNUSABLE ? 1 : v;
}

/** D's assignment, once C is assigned: banned where no instance of C runs. */
export function excludeNodesWithoutInstance(dep: Rsc, clone: Rsc): void {
  const nodes = new Set(clone.instances!.filter((i) => i.assigned >= 0).map((i) => i.assigned));
  for (let n = 0; n < dep.w.length; n++) {
    if (nodes.has(n)) continue;
    dep.w[n] = -INFINITY;
    if (!dep.bans.has(n)) dep.bans.set(n, `colocation with clone ${clone.id}: no instance runs there`);
  }
}
