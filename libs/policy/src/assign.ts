import {
  ClusterObservedState,
  ClusterSpec,
  ColocationConstraint,
  FailureHistory,
  PromotableSpec,
  ResourceSpec,
} from './cluster.types';
import { OptIn } from './opt-in';
import { excludeNodesWithoutInstance } from './clone-colocation';
import { INFINITY, addScores } from './score.util';
import { Amounts, PlacementStrategy, addAmounts, compareCapacities, consumeCapacity, insufficientCapacity } from './utilization';
import { assignClone, compareInstances } from './clones';
import { PromotedColoc, addPromotionScores, applyPromotedColocation, assignRoles, mergePromotedDependents, stableSorted } from './promotable';

// Note [Pacemaker assignment]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~
// This module reproduces the node assignment of Pacemaker 2.1.5's scheduler
// (`pcmk__schedule_actions` → `apply_node_criteria` → `assign_resources`) for primitives only.
// The differential test (differential.int-spec.ts) holds it to `crm_simulate`. In order:
//
// 1. Every resource starts with score 0 on every node (symmetric cluster).
// 2. Location constraints are added in *reverse* CIB order (Pacemaker prepends them to a list);
//    the order is visible because clamped addition is not associative.
// 3. Stickiness (if ≥ 1) is added on the one node the resource runs on (standby included).
// 4. A node where the effective fail count reached migration-threshold gets −INFINITY. A fail
//    count expires when now > last-failure + failure-timeout (strictly; measured).
// 5. Resources are assigned in priority order (stable: CIB order among equals). Assigning R:
//    a. for each colocation "R with P" (sorted by P's priority, then P's id; ties in reverse
//       CIB order because GLib's insert_sorted puts a new equal element first), assign P first,
//       then apply the score to R's nodes (`apply_this_with`, see applyColocation);
//    b. for each colocation "D with R" (sorted the same way by D), fold D's current node scores
//       into R's, scaled by score/INFINITY, recursively through D's own dependents
//       (`add_dependent_scores`, see mergeDependentScores);
//    c. target-role Stopped adds −INFINITY everywhere;
//    d. the best node wins (`assign_best_node`, see assignBestNode); a negative best score or an
//       unavailable node means the resource stays stopped.
//    Loops are broken like Pacemaker: a resource being assigned returns "not assigned" to the
//    colocation that reached it again, which then has no effect.
// Arithmetic that Pacemaker does in C `float` is done with Math.fround (see mergeDependentScores).
// Groups are assigned as units in step 5, with their own colocation rules (Note [Groups] in groups.ts).

/** One colocation as the assigner sees it. */
interface Coloc {
  id: string;
  dep: Rsc;
  prim: Rsc;
  score: number;
  influence: boolean;
}

/** Mutable assignment state of one resource (internal). */
export interface Rsc {
  index: number;
  spec: ResourceSpec;
  id: string;
  priority: number;
  stickiness: number;
  stopped: boolean;
  /** Unmanaged: assigned to where it runs, whatever the scores. */
  unmanaged: boolean;
  /** Node index the resource runs on now, or -1. */
  running: number;
  /** Active somewhere (Pacemaker's `running_on`): where it runs, or on an unclean node. */
  active: boolean;
  /** Node index it is active on (`running`, or the unclean node), or -1. */
  activeNode: number;
  failed: boolean;
  /** Runs with another agent than configured: restarted as if failed (see ResourceObservation). */
  definitionChanged: boolean;
  /** Allowed-node scores, indexed like `AssignInput.nodes`. */
  w: Int32Array;
  thisWith: Coloc[];
  withThis: Coloc[];
  provisional: boolean;
  allocating: boolean;
  merging: boolean;
  /** Node index chosen, or -1. */
  assigned: number;
  /** Why a node got −INFINITY before colocations (for explanations). */
  bans: Map<number, string>;
  /** A group: its members, in order (see Note [Groups] in groups.ts). */
  members?: Rsc[];
  /** A group member: its group. */
  group?: Rsc;
  /** What it uses of a node's capacity (see Note [Utilization] in utilization.ts). */
  use?: Amounts;
  /** Its scores before the capacity bans, as crm_simulate shows them (set when there were bans). */
  shownScores?: Int32Array;
  /** A clone: its instances, in instance-number order (see Note [Clones] in clones.ts). */
  instances?: Rsc[];
  /** A clone: clone-max. */
  cloneMax?: number;
  /** A clone: clone-node-max (default 1). */
  cloneNodeMax?: number;
  /** In an opt-in cluster: the nodes its allowed-node table holds (see Note [Opt-in clusters]). */
  allowedNodes?: ReadonlySet<number>;
  /** A clone instance: its clone. */
  clone?: Rsc;
  /** A promotable clone (see Note [Promotable clones] in promotable.ts). */
  promotable?: PromotableSpec;
  /** A promotable clone: its promoted instances, once assigned (see Note [Colocation with the promoted role]). */
  promoted?: Rsc[];
  /** A promotable clone: the colocations with its promoted role. A dependent: its own ones. */
  promotedColocs?: PromotedColoc[];
  /** A promotable clone: what its promoted role is colocated with (assigned before its instances). */
  promotedWith?: Rsc[];
}

/** Result of the assignment phase. */
export interface Assignment {
  nodeNames: string[];
  available: boolean[];
  /** Resources in CIB order. */
  resources: Rsc[];
  byId: Map<string, Rsc>;
  /** Groups by id (not in `resources`). */
  groups: Map<string, Rsc>;
  /** Choices Pacemaker makes in an order this model cannot know (see Note [Utilization]). */
  ambiguities: string[];
  /** Clones by id (not in `resources`; their instances are). */
  clones: Map<string, Rsc>;
}

/** Pacemaker's default migration-threshold. */
const DEFAULT_MIGRATION_THRESHOLD = INFINITY;

/**
 * Inserts like GLib's `g_list_insert_sorted`: before the first element that is not smaller,
 * so an element equal to existing ones goes before them.
 */
function insertSorted<T>(list: T[], item: T, cmp: (a: T, b: T) => number): void {
  let i = 0;
  while (i < list.length && cmp(item, list[i]!) > 0) i++;
  list.splice(i, 0, item);
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpByPrimary(a: Coloc, b: Coloc): number {
  if (a.prim.priority !== b.prim.priority) return a.prim.priority > b.prim.priority ? -1 : 1;
  return cmpStr(a.prim.id, b.prim.id);
}

function cmpByDependent(a: Coloc, b: Coloc): number {
  if (a.dep.priority !== b.dep.priority) return a.dep.priority > b.dep.priority ? -1 : 1;
  return cmpStr(a.dep.id, b.dep.id);
}

/** Effective fail count of a resource on a node (`pe_get_failcount` with `pe_fc_effective`). */
export function effectiveFailCount(
  count: number,
  lastFailureAt: number | undefined,
  failureTimeoutMs: number,
  now: number,
): number {
  if (count > 0 && lastFailureAt !== undefined && lastFailureAt > 0 && failureTimeoutMs > 0) {
    if (now > lastFailureAt + failureTimeoutMs) return 0;
  }
  return count;
}

/**
 * Runs Pacemaker's assignment over the spec and state. Pure; `now` is epoch ms.
 * Unknown node or resource names in constraints, state or history are ignored, as Pacemaker does.
 */
export function assignResources(
  spec: ClusterSpec,
  observed: ClusterObservedState,
  history: FailureHistory,
  now: number,
): Assignment {
  const nodeNames = spec.nodes.map((n) => n.name);
  const nodeIndex = new Map<string, number>();
  nodeNames.forEach((n, i) => nodeIndex.set(n, i));
  const available = spec.nodes.map((n) => observed.online[n.name] === true && n.standby !== true);
  const N = nodeNames.length;
  const defaults = spec.defaults ?? {};

  const resources: Rsc[] = spec.resources.map((r, index) => {
    const obs = observed.resources[r.id];
    const runningIdx = obs ? (nodeIndex.get(obs.node) ?? -1) : -1;
    // A resource reported on an offline node is not running (the node's history is not read).
    const running = runningIdx >= 0 && observed.online[obs!.node] === true ? runningIdx : -1;
    return {
      index,
      spec: r,
      id: r.id,
      priority: r.priority ?? 0,
      stickiness: r.stickiness ?? defaults.stickiness ?? 0,
      stopped: r.targetRole === 'Stopped',
      unmanaged: r.managed === false || r.blocked === true || spec.fencingWithoutDevice === true,
      running,
      active: running >= 0 || (runningIdx >= 0 && observed.unclean?.[obs!.node] !== undefined),
      activeNode: running >= 0 || (runningIdx >= 0 && observed.unclean?.[obs!.node] !== undefined) ? runningIdx : -1,
      failed: running >= 0 && obs?.failed === true,
      definitionChanged: running >= 0 && obs?.definitionChanged === true,
      ...undecided(N),
    };
  });
  const byId = new Map<string, Rsc>();
  for (const r of resources) byId.set(r.id, r);
  const groups = buildGroups(spec, byId, N);
  const clones = buildClones(spec, byId, groups, N);
  const entity = (id: string): Rsc | undefined => byId.get(id) ?? groups.get(id) ?? clones.get(id);

  // Locations, in reverse CIB order (see Note [Pacemaker assignment], step 2).
  const locations = spec.locations ?? [];
  const optIn = spec.symmetricCluster === false ? new OptIn() : undefined;
  for (let i = locations.length - 1; i >= 0; i--) {
    const l = locations[i]!;
    const target = entity(l.resource);
    const n = nodeIndex.get(l.node);
    if (!target || n === undefined) continue;
    // A location on a group applies to the group and its first member; the later members get it
    // with score 0 (`pcmk__group_apply_location` resets the copy they see).
    // A location on a clone applies to the clone and to every instance.
    for (const r of [target, ...(target.members ?? []).slice(0, 1), ...(target.instances ?? []).flatMap((i) => [i, ...(i.members ?? []).slice(0, 1)])]) {
      r.w[n] = addScores(r.w[n]!, l.score);
      if (l.score <= -INFINITY) r.bans.set(n, `location ${l.id}`);
    }
    optIn?.allowLocation(target, n);
  }

  // Stickiness (step 3): not for an is-managed=false resource, which gets +INFINITY where it
  // runs instead (`native_add_running`). Both apply on an unclean node too (where they change
  // no placement: the node is unavailable).
  for (const r of resources) {
    const n = r.activeNode;
    if (n < 0) continue;
    if (r.spec.managed === false) r.w[n] = addScores(r.w[n]!, INFINITY);
    else if (r.stickiness >= 1 && r.spec.blocked !== true) r.w[n] = addScores(r.w[n]!, r.stickiness);
    if (r.spec.managed === false) optIn?.allow(r, n);
  }
  optIn?.banTheRest([...resources, ...groups.values(), ...clones.values()], N);

  // Failure threshold (step 4). Fail counts of one resource on one node add up.
  const fails = new Map<string, { count: number; last: number | undefined }>();
  for (const f of history) {
    const key = `${f.resource}\u0000${f.node}`;
    const prev = fails.get(key);
    if (!prev) fails.set(key, { count: f.count, last: f.lastFailureAt });
    else {
      prev.count = addScores(prev.count, f.count);
      if (f.lastFailureAt !== undefined && (prev.last === undefined || f.lastFailureAt > prev.last)) {
        prev.last = f.lastFailureAt;
      }
    }
  }
  for (const [key, f] of fails) {
    const [rid, node] = key.split('\u0000') as [string, string];
    const r = byId.get(rid) ?? clones.get(rid);
    const n = nodeIndex.get(node);
    if (!r || n === undefined) continue;
    const threshold = r.spec.migrationThreshold ?? defaults.migrationThreshold ?? DEFAULT_MIGRATION_THRESHOLD;
    if (threshold === 0) continue;
    const timeout = r.spec.failureTimeoutMs ?? defaults.failureTimeoutMs ?? 0;
    const count = effectiveFailCount(f.count, f.last, timeout, now);
    if (count > 0 && threshold - count <= 0) {
      // An anonymous clone's fail count bans the clone and all its instances (Note [Clones]).
      for (const t of [r, ...(r.instances ?? [])]) {
        t.w[n] = addScores(t.w[n]!, -INFINITY);
        t.bans.set(n, `fail count ${count >= INFINITY ? 'INFINITY' : count} reached migration-threshold ${threshold}`);
      }
    }
  }

  // Colocation lists (step 5a/5b ordering).
  for (const c of spec.colocations ?? []) {
    const dep = entity(c.resource);
    const prim = entity(c.withResource);
    if (!dep || !prim || c.score === 0) continue;
    const coloc: Coloc = { id: c.id, dep, prim, score: c.score, influence: c.influence ?? true };
    insertSorted(dep.thisWith, coloc, cmpByPrimary);
    insertSorted(prim.withThis, coloc, cmpByDependent);
  }
  // Colocations with the promoted role (see Note [Colocation with the promoted role] in promotable.ts):
  // the clone keeps its dependents sorted as its other colocations are.
  for (const c of spec.promotedColocations ?? []) {
    const dep = byId.get(c.resource) ?? groups.get(c.resource);
    const clone = clones.get(c.clone);
    if (!dep || !clone || c.score === 0) continue;
    const target = dep.members?.[0] ?? dep;
    const pc: PromotedColoc = { id: c.id, dep, target, clone, score: c.score, influence: c.influence ?? true, unpromoted: c.role === 'Unpromoted' };
    (target.promotedColocs ??= []).push(pc);
    insertSorted((clone.promotedColocs ??= []), pc, (a, b) => (a.dep.priority !== b.dep.priority ? (a.dep.priority > b.dep.priority ? -1 : 1) : cmpStr(a.dep.id, b.dep.id)));
  }
  // The clone's promoted role with a resource (see Note [Promoted with a resource] in promotable.ts).
  for (const c of spec.promotedWith ?? []) {
    const prim = byId.get(c.resource) ?? groups.get(c.resource);
    const clone = clones.get(c.clone);
    if (!prim || !clone) continue;
    insertSorted(prim.withThis, { id: c.id, dep: clone, prim, score: c.score, influence: c.influence ?? true }, cmpByDependent);
    (clone.promotedWith ??= []).push(prim);
  }
  // The groups' internal colocations come after the configured ones (`pcmk__group_internal_constraints`).
  for (const g of groups.values()) {
    const m = g.members!;
    for (let i = 1; i < m.length; i++) {
      const coloc: Coloc = { id: `group:${g.id}`, dep: m[i]!, prim: m[i - 1]!, score: INFINITY, influence: true };
      insertSorted(m[i]!.thisWith, coloc, cmpByPrimary);
      insertSorted(m[i - 1]!.withThis, coloc, cmpByDependent);
    }
  }

  const strategy = spec.utilization?.strategy ?? 'default';
  const toAmounts = (x: Readonly<Record<string, number>> | undefined): Map<string, number> => new Map(Object.entries(x ?? {}));
  const ctx: Ctx = {
    N,
    available,
    numResources: new Int32Array(N),
    nodeNames,
    strategy,
    free: nodeNames.map((n) => toAmounts(spec.utilization?.capacity[n])),
    ambiguities: [],
    assignInstance: (inst, prefer) => assign(ctx, inst, prefer),
    appendParentColocations: (inst) => {
      for (const c of inst.clone!.withThis) insertSorted(inst.withThis, c, cmpByDependent);
    },
  };
  if (strategy !== 'default') for (const r of resources) r.use = toAmounts(spec.utilization?.use[r.id]);

  // Priority order, stable; a group takes its first member's place.
  const top: Rsc[] = [];
  for (const r of resources) {
    const g = r.group ?? r;
    const t = g.clone ?? g;
    if (!top.includes(t)) top.push(t);
  }
  const position = new Map(top.map((t, i) => [t, i]));
  const order = top.slice().sort((a, b) => b.priority - a.priority || position.get(a)! - position.get(b)!);
  if (strategy !== 'default') sortForUtilization(ctx, order);
  for (const r of order) assign(ctx, r);

  return { nodeNames, available, resources, byId, groups, clones, ambiguities: ctx.ambiguities };
}

/** `compare_nodes` after the score: capacity (balanced), assigned resources, `active`, name. */
function compareNodes(ctx: Ctx, a: number, b: number, active: number): number {
  if (ctx.strategy !== 'minimal') {
    if (ctx.strategy === 'balanced') {
      const c = compareCapacities(ctx.free[a]!, ctx.free[b]!);
      if (c !== 0) return c < 0 ? -1 : 1;
    }
    if (ctx.numResources[a] !== ctx.numResources[b]) return ctx.numResources[a]! < ctx.numResources[b]! ? -1 : 1;
    if (a === active) return -1;
    if (b === active) return 1;
  }
  return cmpStr(ctx.nodeNames[a]!, ctx.nodeNames[b]!);
}

/**
 * `pcmk__sort_resources` (step a of Note [Utilization]): stable, by priority, then the score on
 * the current node, then the score on each node in `pcmk__sort_nodes` order, in each resource's
 * table with its "with" colocations merged (`cmp_resources`).
 */
function sortForUtilization(ctx: Ctx, order: Rsc[]): void {
  const nodes = Array.from({ length: ctx.N }, (_, i) => i);
  const eff = (n: number): number => (ctx.available[n] ? 0 : -INFINITY);
  const cmpNode = (a: number, b: number): number => eff(b) - eff(a) || compareNodes(ctx, a, b, -1);
  nodes.sort(cmpNode);
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      if (cmpNode(nodes[i]!, nodes[j]!) >= 0) ctx.ambiguities.push('placement-strategy=balanced: node capacities compare in a cycle');
    }
  }
  // A group's current node is the first node, in status order, where any member is active: here
  // the first in node order (the reader refuses a CIB whose status order says otherwise).
  const current = (r: Rsc): number => (r.members ? Math.min(...r.members.map((x) => (x.activeNode >= 0 ? x.activeNode : Infinity))) : r.activeNode);
  const tables = new Map(order.map((r) => [r, thisWithScores(ctx, r)]));
  const weight = (r: Rsc, n: number): number => (n < 0 || !Number.isFinite(n) ? -INFINITY : (tables.get(r)?.[n] ?? -INFINITY));
  order.sort((a, b) => {
    if (a.priority !== b.priority) return b.priority - a.priority;
    const [wa, wb] = [weight(a, current(a)), weight(b, current(b))];
    if (wa !== wb) return wb - wa;
    for (const n of nodes) if (weight(a, n) !== weight(b, n)) return weight(b, n) - weight(a, n);
    return 0;
  });
}

/** `pcmk__add_colocated_node_scores` from `cmp_resources` (no table yet, "this with" colocations). */
function thisWithScores(ctx: Ctx, rsc: Rsc): Int32Array | null {
  if (rsc.merging) return null;
  rsc.merging = true;
  const work = rsc.members ? thisWithScores(ctx, rsc.members[rsc.members.length - 1]!) : rsc.w.slice();
  let out = work;
  if (out && anyAvailable(ctx, out)) {
    for (const c of rsc.thisWith) out = mergeThisWith(ctx, c.prim, out, Math.fround(c.score / INFINITY)) ?? out;
  }
  rsc.merging = false;
  return out;
}

/** `pcmk__add_colocated_node_scores` into a table, through "this with" colocations; null = roll back. */
function mergeThisWith(ctx: Ctx, rsc: Rsc, nodes: Int32Array, factor: number): Int32Array | null {
  if (rsc.merging) return null;
  rsc.merging = true;
  let work: Int32Array = nodes.slice();
  if (rsc.members) work = mergeThisWith(ctx, rsc.members[0]!, work, factor) ?? work;
  else addNodeScoresMatchingAttr(ctx, work, rsc, factor);
  if (!anyAvailable(ctx, work)) {
    rsc.merging = false;
    return null;
  }
  const multiplier = factor < 0 ? -1 : 1;
  for (const c of rsc.thisWith) work = mergeThisWith(ctx, c.prim, work, Math.fround((multiplier * c.score) / INFINITY)) ?? work;
  rsc.merging = false;
  return work;
}

/** `colocated_resources`: `rsc` and everything chained to it by INFINITY colocations, either way. */
function colocatedResources(rsc: Rsc, orig: Rsc, list: Rsc[]): void {
  if (rsc.members) for (const m of rsc.members) colocatedResources(m, orig, list);
  if (list.includes(rsc)) return;
  list.push(rsc);
  for (const c of rsc.thisWith) if (c.prim !== orig && c.score >= INFINITY) colocatedResources(c.prim, orig, list);
  for (const c of rsc.withThis) if (c.dep !== orig && c.score >= INFINITY) colocatedResources(c.dep, orig, list);
}

/**
 * `pcmk__ban_insufficient_capacity` (step b of Note [Utilization]): bans the nodes without room
 * and returns the candidates for the most capable node (empty when none is preferred).
 */
function banInsufficientCapacity(ctx: Ctx, r: Rsc): number[] {
  if (ctx.strategy === 'default') return [];
  const list: Rsc[] = [];
  colocatedResources(r, r, list);
  const chained = new Map<string, number>();
  for (const x of list) if (!x.members && x.provisional && x.use) addAmounts(chained, x.use);
  const candidates: number[] = [];
  for (let n = 0; n < ctx.N; n++) if (ctx.available[n] && r.w[n]! >= 0) candidates.push(n);
  const { ban, mostCapable } = insufficientCapacity(candidates, ctx.free, r.use ?? new Map(), chained);
  if (ban.length > 0) r.shownScores = r.w.slice();
  for (const n of ban) {
    r.w[n] = addScores(r.w[n]!, -INFINITY);
    r.bans.set(n, 'not enough capacity left (placement-strategy)');
  }
  return mostCapable;
}

/** The clone entities of `spec.clones`, linked to their instances (see Note [Clones] in clones.ts). */
function buildClones(spec: ClusterSpec, byId: Map<string, Rsc>, groups: Map<string, Rsc>, N: number): Map<string, Rsc> {
  const clones = new Map<string, Rsc>();
  for (const c of spec.clones ?? []) {
    // An instance is a primitive, or a group (see Note [Clones of groups] in clone-groups.ts).
    const instances = c.instances.map((id) => byId.get(id) ?? groups.get(id)).filter((m): m is Rsc => m !== undefined && m.group === undefined && m.clone === undefined);
    if (instances.length === 0 || byId.has(c.id) || clones.has(c.id)) continue;
    const clone: Rsc = { ...collective(c.id, instances[0]!.spec, c.priority, N), active: instances.some((m) => m.active), instances, cloneMax: c.max };
    if ((c.nodeMax ?? 1) > 1) clone.cloneNodeMax = c.nodeMax!;
    for (const m of instances) m.clone = clone;
    if (c.promotable) clone.promotable = c.promotable;
    clones.set(c.id, clone);
  }
  return clones;
}

/** What every entity starts assignment with: zero scores, no colocations, nothing assigned. */
function undecided(N: number): Pick<Rsc, 'w' | 'thisWith' | 'withThis' | 'provisional' | 'allocating' | 'merging' | 'assigned' | 'bans'> {
  return { w: new Int32Array(N), thisWith: [], withThis: [], provisional: true, allocating: false, merging: false, assigned: -1, bans: new Map() };
}

/** A group or clone entity before its members are linked: nothing runs, nothing assigned yet. */
function collective(id: string, spec: ResourceSpec, priority: number | undefined, N: number): Rsc {
  return {
    index: -1,
    spec,
    id,
    priority: priority ?? 0,
    stickiness: 0,
    stopped: false,
    unmanaged: false,
    running: -1,
    active: false,
    activeNode: -1,
    failed: false,
    definitionChanged: false,
    ...undecided(N),
  };
}

/** The group entities of `spec.groups`, linked to their members (see Note [Groups] in groups.ts). */
function buildGroups(spec: ClusterSpec, byId: Map<string, Rsc>, N: number): Map<string, Rsc> {
  const groups = new Map<string, Rsc>();
  for (const g of spec.groups ?? []) {
    const members = g.members.map((id) => byId.get(id)).filter((m): m is Rsc => m !== undefined && m.group === undefined);
    if (members.length === 0 || byId.has(g.id) || groups.has(g.id)) continue;
    const group: Rsc = {
      ...collective(g.id, { id: g.id }, g.priority, N),
      // A member's activity counts for its group (`native_add_running`).
      running: members.find((m) => m.running >= 0)?.running ?? -1,
      active: members.some((m) => m.active),
      activeNode: members.find((m) => m.activeNode >= 0)?.activeNode ?? -1,
      members,
    };
    for (const m of members) m.group = group;
    groups.set(g.id, group);
  }
  return groups;
}

interface Ctx {
  N: number;
  available: boolean[];
  numResources: Int32Array;
  nodeNames: string[];
  strategy: PlacementStrategy;
  /** Free capacity per node (see Note [Utilization]). */
  free: Map<string, number>[];
  ambiguities: string[];
  assignInstance(instance: Rsc, prefer: number): number;
  appendParentColocations(instance: Rsc): void;
}

function anyAvailable(ctx: Ctx, w: Int32Array): boolean {
  for (let n = 0; n < ctx.N; n++) if (ctx.available[n] && w[n]! >= 0) return true;
  return false;
}

function assign(ctx: Ctx, r: Rsc, prefer = -1): number {
  // A member is never assigned before its group (`pcmk__primitive_assign`), nor an instance before its clone.
  if (r.group && !r.group.allocating) assign(ctx, r.group);
  if (r.clone && !r.clone.allocating) assign(ctx, r.clone);
  if (r.members) return assignGroup(ctx, r, prefer);
  if (r.instances) return r.promotable ? assignPromotable(ctx, r, r.promotable) : assignClone(ctx, r);
  if (!r.provisional) return r.assigned;
  if (r.allocating) return -1; // assignment loop
  r.allocating = true;

  for (const c of r.thisWith) applyThisWith(ctx, c, r);
  for (const c of r.promotedColocs ?? []) {
    assign(ctx, c.clone);
    const promoted = c.clone.promoted;
    if (promoted) applyPromotedColocation(c, c.unpromoted ? c.clone.instances!.filter((i) => i.assigned >= 0 && !promoted.includes(i)) : promoted, ctx.available);
  }
  for (const c of r.withThis) mergeDependentScores(ctx, c, r);

  if (r.stopped) {
    for (let n = 0; n < ctx.N; n++) r.w[n] = addScores(r.w[n]!, -INFINITY);
  }

  if (r.unmanaged) {
    // Unmanaged resources stay on their current node (`pcmk__primitive_assign`).
    r.provisional = false;
    r.assigned = r.running;
    if (r.running >= 0) ctx.numResources[r.running]!++;
    if (r.running >= 0 && r.use) consumeCapacity(ctx.free[r.running]!, r.use);
  } else assignBestNode(ctx, r, prefer);
  r.allocating = false;
  return r.assigned;
}

/**
 * `pcmk__group_assign`: expand the group's colocations to its members, then assign the members
 * in order. The group's node is the first member's node that is assigned.
 */
function assignGroup(ctx: Ctx, g: Rsc, prefer = -1): number {
  if (!g.provisional) return g.assigned;
  if (g.allocating) return -1; // assignment loop
  g.allocating = true;
  expandGroupColocations(g);
  let first = -1;
  for (const m of g.members!) {
    const n = assign(ctx, m, prefer);
    if (first < 0) first = n;
  }
  g.provisional = false;
  g.allocating = false;
  g.assigned = first;
  return first;
}

/**
 * `expand_group_colocations`: "group with P" becomes the first member's, "D with group" the last
 * member's (inserted one by one, so equal keys end up in reverse). Once a member is unmanaged
 * (is-managed=false), every later member also gets the group's INFINITY "with" colocations.
 */
function expandGroupColocations(g: Rsc): void {
  const members = g.members!;
  for (const c of g.thisWith) insertSorted(members[0]!.thisWith, c, cmpByPrimary);
  let anyUnmanaged = members[0]!.spec.managed === false;
  for (const m of members.slice(1)) {
    if (anyUnmanaged) {
      for (const c of g.thisWith) if (c.score === INFINITY) insertSorted(m.thisWith, c, cmpByPrimary);
    } else if (m.spec.managed === false) anyUnmanaged = true;
  }
  g.thisWith = [];
  for (const c of g.withThis) insertSorted(members[members.length - 1]!.withThis, c, cmpByDependent);
  g.withThis = [];
}

/** `apply_this_with`: assign the primary, then apply the colocation to the dependent's scores. */
function applyThisWith(ctx: Ctx, c: Coloc, r: Rsc): void {
  const archive = c.score < 0 && c.score > -INFINITY ? r.w.slice() : null;
  assign(ctx, c.prim);
  if (c.prim.instances) {
    // see Note [Colocation with a clone] (clone-colocation.ts)
    if (!c.prim.provisional && r.provisional) excludeNodesWithoutInstance(r, c.prim);
    return;
  }
  // `colocate_with_group`: a mandatory colocation with a group follows its last member, an
  // optional one its first member.
  const members = c.prim.members;
  const prim = members ? (c.score >= INFINITY ? members[members.length - 1]! : members[0]!) : c.prim;
  // `pcmk__colocation_affects`: nothing while the primary is still unassigned (a loop).
  if (!c.prim.provisional && !prim.provisional && r.provisional) applyColocToWeights(ctx, r, c, prim.assigned);
  if (archive && !anyAvailable(ctx, r.w)) r.w = archive;
}

/** A promotable clone's assignment (see Note [Promotable clones] in promotable.ts). */
function assignPromotable(ctx: Ctx, clone: Rsc, spec: PromotableSpec): number {
  if (!clone.provisional || clone.allocating) return assignClone(ctx, clone);
  addPromotionScores(clone, spec.scores, ctx.nodeNames, ctx.available);
  clone.allocating = true;
  for (const p of clone.promotedWith ?? []) assign(ctx, p);
  clone.allocating = false;
  const deps = clone.promotedColocs ?? [];
  mergePromotedDependents(clone, deps, ctx.available);
  const cmp = (a: Rsc, b: Rsc): number => compareInstances(ctx, a, b);
  const order = deps.length > 0 ? stableSorted(clone.instances!, cmp) : [];
  // `append_parent_colocation`: each instance merges the dependents' scores itself, all of them
  // when clone-max is below the number of available nodes, else the negative ones. Pacemaker
  // appends them at every assignment attempt: an instance whose first attempt (on its current
  // node) failed would merge them twice, which is not modelled (see `ambiguities`).
  let availableNodes = 0;
  for (let n = 0; n < ctx.N; n++) if (ctx.available[n]) availableNodes++;
  const all = (clone.cloneMax ?? 0) < availableNodes;
  let appended = false;
  for (const inst of clone.instances!) {
    for (const c of deps) {
      if (!(c.influence || !inst.active) || !(all || c.score < 0)) continue;
      insertSorted(inst.withThis, { id: c.id, dep: c.dep, prim: inst, score: c.score, influence: c.influence }, cmpByDependent);
      appended = true;
    }
  }
  const out = assignClone(ctx, clone);
  if (appended && clone.instances!.some((i) => i.activeNode >= 0 && !i.failed && ctx.available[i.activeNode] && i.assigned !== i.activeNode)) {
    ctx.ambiguities.push(`rsc_colocation with a role of clone ${clone.id}: an instance may have been assigned twice, merging its dependents twice`);
  }
  if (deps.length > 0) clone.promoted = assignRoles(clone, spec, order, deps.filter((c) => !c.unpromoted), { nodeNames: ctx.nodeNames, available: ctx.available, compareInstances: cmp });
  return out;
}

/** `pcmk__apply_coloc_to_weights` for the #uname attribute. */
function applyColocToWeights(ctx: Ctx, dep: Rsc, c: Coloc, primNode: number): void {
  if (primNode < 0 && c.score < 0) return; // anti-colocation with something not running
  const work = dep.w.slice();
  for (let n = 0; n < ctx.N; n++) {
    if (primNode < 0) {
      work[n] = addScores(-c.score, work[n]!);
    } else if (n === primNode) {
      if (c.score < INFINITY) work[n] = addScores(c.score, work[n]!);
    } else if (c.score >= INFINITY) {
      work[n] = addScores(-c.score, work[n]!);
    }
  }
  if (c.score <= -INFINITY || c.score >= INFINITY || anyAvailable(ctx, work)) dep.w = work;
}

/** Rounds like C's `(int)((f < 0) ? (f - 0.5) : (f + 0.5))`. */
function roundHalfAway(f: number): number {
  return Math.trunc(f < 0 ? f - 0.5 : f + 0.5);
}

/**
 * `add_dependent_scores`: fold the dependent's scores into the primary's, at score/INFINITY.
 * Pacemaker computes the factor in single precision: fround keeps the same roundings.
 */
function mergeDependentScores(ctx: Ctx, c: Coloc, r: Rsc): void {
  if (!(c.influence || !c.prim.active)) return;
  const factor = Math.fround(c.score / INFINITY);
  const merged = mergeWeights(ctx, c.dep, r.w, factor);
  if (merged) r.w = merged;
}

/**
 * `pcmk__native_merge_weights` (2.1.5, with `pe_weights_rollback`): returns the new table, or
 * null to leave `nodes` as it was. The recursion into the dependent's own dependents scales by
 * sign(factor) · score / INFINITY — not factor · score / INFINITY (measured against 2.1.5).
 */
function mergeWeights(ctx: Ctx, rsc: Rsc, nodes: Int32Array, factor: number): Int32Array | null {
  if (rsc.merging) return null; // dependency loop
  rsc.merging = true;
  let work: Int32Array = nodes.slice();
  if (rsc.members) {
    // `init_group_colocated_nodes`: the first member brings in the rest through the internal
    // colocations; then the last member's "with" colocations are merged once more at group level.
    const first = mergeWeights(ctx, rsc.members[0]!, work, factor);
    if (first) work = first;
  } else addNodeScoresMatchingAttr(ctx, work, rsc, factor);
  if (anyAvailable(ctx, work)) {
    const multiplier = factor < 0 ? -1 : 1;
    const withThis = rsc.members ? rsc.members[rsc.members.length - 1]!.withThis : rsc.withThis;
    for (const c of withThis) {
      if (!(c.influence || !c.prim.active)) continue;
      const next = mergeWeights(ctx, c.dep, work, Math.fround((multiplier * c.score) / INFINITY));
      if (next) work = next;
    }
  } else {
    rsc.merging = false;
    return null; // roll back
  }
  rsc.merging = false;
  return work;
}

/** `add_node_scores_matching_attr` for #uname, without `only_positive` (primitives). */
function addNodeScoresMatchingAttr(ctx: Ctx, work: Int32Array, rsc: Rsc, factor: number): void {
  for (let n = 0; n < ctx.N; n++) {
    const score = ctx.available[n] ? rsc.w[n]! : -INFINITY;
    if (factor < 0 && score < 0) continue; // double negative disallowed
    const weightF = Math.fround(factor * score);
    let weight = roundHalfAway(weightF);
    if (weight === 0 && score !== 0) {
      if (factor > 0) weight = 1;
      else if (factor < 0) weight = -1;
    }
    work[n] = addScores(weight, work[n]!);
  }
}

/**
 * `assign_best_node` + `pcmk__finalize_assignment`. Pacemaker sorts the nodes with
 * `compare_nodes` (score, then fewer assigned resources, then the current node, then name) and
 * takes the first, or the current node when it scores the same as the first: a linear scan for
 * the first in that order gives the same node.
 */
function assignBestNode(ctx: Ctx, r: Rsc, prefer = -1): void {
  const { N, available, numResources } = ctx;
  // Capacity bans apply in any case; the most capable node is preferred only without a preference
  // of the caller (a clone instance's current node), as in `assign_best_node`.
  const mostCapable = banInsufficientCapacity(ctx, r);
  const prefers = prefer >= 0 ? [prefer] : mostCapable;
  const w = r.w;
  const eff = (n: number): number => (available[n] ? w[n]! : -INFINITY);
  const better = (n: number, best: number): boolean => (eff(n) !== eff(best) ? eff(n) > eff(best) : compareNodes(ctx, n, best, r.running) < 0);
  let best = -1;
  for (let n = 0; n < N; n++) if (best < 0 || better(n, best)) best = n;
  // Capacities are compared by a vote, which can be cyclic: then the node Pacemaker's sort puts
  // first depends on the order it meets them in.
  if (best >= 0 && ctx.strategy === 'balanced') {
    for (let n = 0; n < N; n++) if (n !== best && !better(best, n)) ctx.ambiguities.push(`${r.id}: node capacities compare in a cycle`);
  }
  const choose = (prefer: number): number => {
    // A preferred node (the most capable one) wins when it scores as well as the best one.
    if (prefer >= 0 && best >= 0 && w[prefer]! >= w[best]! && available[prefer] && w[prefer]! >= 0) return prefer;
    let chosen = best;
    if (chosen >= 0 && w[chosen]! > 0 && available[chosen] && r.running >= 0 && available[r.running] && w[r.running] === w[chosen]) {
      chosen = r.running; // prefer the current node among equally good ones
    }
    return chosen;
  };
  let chosen = choose(prefers[0] ?? -1);
  if (prefers.some((p) => choose(p) !== chosen)) ctx.ambiguities.push(`${r.id}: which node has the most free capacity depends on hash table order`);
  if (chosen >= 0 && (w[chosen]! < 0 || !available[chosen])) chosen = -1;
  r.provisional = false;
  r.assigned = chosen;
  if (chosen >= 0) numResources[chosen]!++;
  if (chosen >= 0 && r.use) consumeCapacity(ctx.free[chosen]!, r.use);
}

/** For explanations: the colocations of a resource as given in the spec. */
export function colocationsOf(spec: ClusterSpec, id: string): ColocationConstraint[] {
  return (spec.colocations ?? []).filter((c) => c.resource === id);
}
