import type { Assignment, Rsc } from './assign';
import type { CloneSpec, ClusterSpec, OrderConstraint } from './cluster.types';
import { foldDependentsIntoClone, instanceColocationScore } from './clone-colocation';
import { INFINITY, addScores } from './score.util';

// Note [Clones]
// ~~~~~~~~~~~~~
// An anonymous clone (globally-unique=false) of one primitive, as Pacemaker 2.1.5 plans it
// (`clone_unpack`, `pcmk__clone_allocate`, `distribute_children`, `allocate_instance`):
// - the clone has `clone-max` instances `<primitive>:0…` (default: the number of nodes), at most
//   one per node (clone-node-max is forced to 1 for anonymous clones; a globally-unique clone's
//   instances are told apart, and at most clone-node-max of them run on a node); each inherits the clone's
//   meta attributes it does not set, and the clone's resource-stickiness defaults to 1;
// - a location on the clone applies to the clone and to every instance; a fail count of the
//   primitive (with or without an instance number) that reaches migration-threshold bans the
//   clone, and every instance, from the node;
// - the status maps each node's history of the primitive to an instance (`find_anonymous_clone`):
//   the first one not active anywhere yet, in node_state order;
// - the clone is assigned as one unit at its CIB position in the priority order. Its instances
//   are sorted (`pcmk__cmp_instance`: active before inactive, an active one on an available node
//   first, not failed before failed, then instance number), then
//   1. each active, not failed instance whose node is available is pre-assigned to that node,
//      while fewer than `max / available nodes` (at least 1) instances are there, when its node
//      scores at least as well as its best node (else the attempt is undone);
//   2. the others are assigned in turn to their best node, until clone-max instances run (the
//      rest get −INFINITY everywhere, and stop).
//   Before each attempt an instance gets −INFINITY on unavailable nodes and on nodes that already
//   run clone-node-max instances, and the clone's score where the clone's is negative
//   (`can_run_instance`). The available nodes counted are the clone's allowed ones.
// Clones of groups: see Note [Clones of groups] (clone-groups.ts). Constraints naming the clone
// other than locations, orders and the colocations of Note [Colocation with a clone] are refused
// by the reader.

/** What the clone assigner needs from assign.ts. */
export interface CloneAssignContext {
  N: number;
  available: boolean[];
  numResources: Int32Array;
  /** Native assignment of one instance (`pcmk__native_allocate`), preferring `prefer` (−1: none). */
  assignInstance(instance: Rsc, prefer: number): number;
  /** `append_parent_colocation` for the clone's "with" colocations (see Note [Colocation with a clone]). */
  appendParentColocations(instance: Rsc): void;
}

/** Pacemaker's `pcmk__cmp_instance`, for the cases the reader accepts (see Note [Clones]). */
export function compareInstances(ctx: Pick<CloneAssignContext, 'available'>, a: Rsc, b: Rsc): number {
  const na = a.activeNode;
  const nb = b.activeNode;
  // Active on a node where it is no longer allowed (`node_is_allowed`): after.
  const okA = na < 0 || a.w[na]! >= 0;
  const okB = nb < 0 || b.w[nb]! >= 0;
  if (okA !== okB) return okA ? -1 : 1;
  const curA = okA ? na : -1;
  const curB = okB ? nb : -1;
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  if (curA < 0 && curB < 0) return 0;
  if (curA < 0) return 1;
  if (curB < 0) return -1;
  const canA = ctx.available[curA]!;
  const canB = ctx.available[curB]!;
  if (canA !== canB) return canA ? -1 : 1;
  if (a.failed !== b.failed) return a.failed ? 1 : -1;
  const ca = instanceColocationScore(ctx.available, a);
  const cb = instanceColocationScore(ctx.available, b);
  if (ca !== cb) return ca > cb ? -1 : 1;
  return instanceNumber(a.id) - instanceNumber(b.id);
}

function instanceNumber(id: string): number {
  return Number(id.slice(id.lastIndexOf(':') + 1));
}

/**
 * `pcmk__clone_allocate` for an anonymous clone of a primitive (see Note [Clones]). The clone
 * itself is assigned to no node; its instances are.
 */
export function assignClone(ctx: CloneAssignContext, clone: Rsc): number {
  if (!clone.provisional || clone.allocating) return -1;
  clone.allocating = true;
  foldDependentsIntoClone(ctx.available, clone);
  const instances = stableSort(clone.instances!, (a, b) => compareInstances(ctx, a, b));
  const max = clone.cloneMax ?? instances.length;
  const count = new Int32Array(ctx.N);
  let availableNodes = 0;
  // The clone's allowed nodes that can run resources, whatever their score (`pcmk__node_available`).
  for (let n = 0; n < ctx.N; n++) if (ctx.available[n] && (clone.allowedNodes?.has(n) ?? true)) availableNodes++;
  const perHost = clone.cloneNodeMax ?? 1;
  // Only when not every node gets an instance do they take their dependents' preferences.
  const allColoc = max < availableNodes && clone.withThis.length > 0;
  const optimal = Math.max(1, availableNodes > 0 ? Math.floor(max / availableNodes) : 0);
  let assigned = 0;

  const attempt = (inst: Rsc, prefer: number): boolean => {
    if (!inst.provisional) return inst.assigned >= 0;
    if (inst.allocating) return false;
    if (prefer >= 0 && inst.w[prefer]! < 0) return false;
    // `can_run_instance`
    for (let n = 0; n < ctx.N; n++) {
      if (!ctx.available[n]) inst.w[n] = -INFINITY;
      else if (clone.w[n]! < 0) inst.w[n] = clone.w[n]!;
      else if (count[n]! >= perHost) inst.w[n] = -INFINITY;
    }
    // A group instance: `common_update_score` reaches its members too (see Note [Clones of groups]).
    for (const m of inst.members ?? []) {
      for (let n = 0; n < ctx.N; n++) {
        if (!ctx.available[n] || (clone.w[n]! >= 0 && count[n]! >= perHost)) m.w[n] = -INFINITY;
        else if (clone.w[n]! < 0) m.w[n] = addScores(m.w[n]!, clone.w[n]!);
      }
    }
    const backup = inst.w.slice();
    if (allColoc) ctx.appendParentColocations(inst);
    const chosen = ctx.assignInstance(inst, prefer);
    if (chosen >= 0 && prefer >= 0 && chosen !== prefer && inst.members) {
      // `pcmk__unassign_resource` does nothing for a group: its members stay assigned, uncounted.
      inst.w = backup;
      return false;
    }
    if (chosen >= 0 && prefer >= 0 && chosen !== prefer) {
      inst.w = backup;
      inst.provisional = true;
      inst.assigned = -1;
      ctx.numResources[chosen]!--;
      return false;
    }
    if (chosen >= 0) count[chosen]!++;
    return chosen >= 0;
  };

  for (const inst of instances) {
    if (assigned >= max) break;
    const cur = inst.activeNode;
    if (cur < 0 || !inst.provisional || inst.failed) continue;
    if (!ctx.available[cur] || count[cur]! >= optimal) continue;
    if (attempt(inst, cur)) assigned++;
  }
  for (const inst of instances) {
    if (!inst.provisional) continue;
    if (assigned >= max) {
      for (const r of [inst, ...(inst.members ?? [])]) {
        for (let n = 0; n < ctx.N; n++) r.w[n] = -INFINITY;
        r.bans.set(-1, `clone-max ${max} reached`);
        r.provisional = false;
        r.assigned = -1;
      }
    } else if (attempt(inst, -1)) assigned++;
  }
  clone.provisional = false;
  clone.allocating = false;
  clone.assigned = -1;
  return -1;
}

/** A stable sort (GLib's `g_list_sort` is a merge sort). */
function stableSort<T>(list: readonly T[], cmp: (a: T, b: T) => number): T[] {
  return list
    .map((x, i) => ({ x, i }))
    .sort((p, q) => cmp(p.x, q.x) || p.i - q.i)
    .map((p) => p.x);
}

// Note [Clone orders]
// ~~~~~~~~~~~~~~~~~~~
// A mandatory order naming a clone, as far as it decides what can start (Pacemaker 2.1.5 orders
// the clone's start/running pseudo-actions, and `pe_order_runnable_left` clears runnable flags):
// - clone → X: X can start only if at least clone-min (default 1) instances of the clone will run
//   (are assigned, and can start or stay);
// - X → clone: no instance can start unless X can;
// - clone A → clone B: each instance of B needs clone-min instances of A; with B interleaved, the
//   instance of A on B's instance's node instead (none there: B's instance cannot start), unless A
//   has a clone-min (measured: clone-min then wins over interleave).

/** "`then` can start only if at least `min` of `firsts` can": resource indices. */
export interface OrderEdge {
  firsts: number[];
  min: number;
  then: number;
}

/** The runnability edges of an order naming a clone (see Note [Clone orders]). */
export function cloneOrderEdges(spec: ClusterSpec, a: Assignment, o: OrderConstraint): { firsts: number[]; edges: OrderEdge[] } {
  const specOf = (id: string): CloneSpec | undefined => (spec.clones ?? []).find((c) => c.id === id);
  const members = (id: string): Rsc[] => {
    const c = a.clones.get(id);
    if (c) return c.instances!;
    const r = a.byId.get(id);
    return r ? [r] : [];
  };
  // A group instance (see Note [Clones of groups] in clone-groups.ts) runs when its last member
  // can (the members start in turn); what it is ordered after binds each member.
  const fs = members(o.first).map((r) => (r.members ? r.members[r.members.length - 1]! : r));
  const ts = members(o.then).flatMap((r) => (r.members ? r.members.map((m) => ({ m, at: r })) : [{ m: r, at: r }]));
  const firsts = fs.map((r) => r.index);
  if (fs.length === 0 || ts.length === 0 || o.first === o.then) return { firsts: [], edges: [] };
  const fClone = specOf(o.first);
  const tClone = specOf(o.then);
  const min = fClone?.min ?? 1;
  const edges: OrderEdge[] = [];
  for (const { m: t, at } of ts) {
    if (fClone && tClone?.interleave && fClone.min === undefined) {
      const local = fs.filter((f) => f.assigned >= 0 && f.assigned === at.assigned).map((f) => f.index);
      // No instance on its node: only a symmetrical order inhibits it (`pe_order_runnable_left|
      // pe_order_implies_then` in `multi_update_interleave_actions`), an asymmetrical one does not.
      if (local.length === 0 && o.symmetrical === false) continue;
      edges.push({ firsts: local, min: 1, then: t.index });
    } else edges.push({ firsts, min, then: t.index });
  }
  return { firsts, edges };
}
