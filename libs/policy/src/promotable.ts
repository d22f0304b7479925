import type { Rsc } from './assign';
import { addScores } from './score.util';

// Note [Promotable clones]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// A promotable clone (meta promotable=true, or the legacy `<master>` element) is an anonymous
// clone (Note [Clones] in clones.ts) whose instances are then given a role, Promoted or
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
  /** A node attribute (merged: transient over permanent). */
  nodeAttr: (node: string, name: string) => string | undefined;
  /** Pacemaker's char2score. */
  score: (text: string) => number;
}

/**
 * Each instance's promotion score per node where it counts (see Note [Promotable clones]), before
 * the checks made at assignment time (the node can run resources, the instance's node score there
 * is not negative). Zero scores are left out.
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
      if (active === inst) return true;
      if (active === undefined && anyKnown(node)) return true;
      if (where === undefined && known.size === 0) return true;
      return known.has(node) || where === node;
    };
    const name = p.cloneName.get(inst) ?? inst;
    for (const node of p.nodes) {
      if (!applies(node)) continue;
      const text = p.nodeAttr(node, `master-${name}`) ?? (inst !== p.primitive ? p.nodeAttr(node, `master-${p.primitive}`) : undefined);
      if (text === undefined) continue;
      const s = p.score(text);
      if (s !== 0) (out[inst] ??= {})[node] = s;
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
