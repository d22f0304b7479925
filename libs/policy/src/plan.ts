import { PolicyAction, PolicyStep } from './action.types';
import { Assignment, Rsc, assignResources } from './assign';
import { ClusterObservedState, ClusterSpec, FailureHistory } from './cluster.types';
import { FenceAction, planFencing } from './fencing';
import { expandGroupConstraints } from './groups';
import { OrderEdge, cloneOrderEdges } from './clones';
import { startRunnableWithoutQuorum } from './quorum';
import { INFINITY, formatScore } from './score.util';

// Note [Runnability]
// ~~~~~~~~~~~~~~~~~~
// Assignment alone is not where resources end up. Pacemaker then builds actions, and a start
// is unrunnable when (a) a mandatory order's `first` cannot start (assigned or not), or (b) the
// primary of an INFINITY colocation has a start action that is unrunnable. An unassigned primary
// has a start action only as the `first` of an order; otherwise its dependents were banned by
// scores already, or a colocation loop hid it and Pacemaker does not block them (both measured). An unrunnable start keeps the resource stopped, and stops it
// if it runs (measured: "stop B: unrunnable A start", "stop D: colocation with P"). Runnable
// flags only ever get cleared, so this is a greatest fixed point; cycles stay runnable.
//
// Note [Order kinds]
// ~~~~~~~~~~~~~~~~~~
// Only a Mandatory order blocks (`pe_order_runnable_left` when symmetrical,
// `pe_order_asymmetrical` otherwise, which spares a `then` already started where it stays) and
// only a symmetrical Mandatory one implies restarts (`pe_order_implies_then`). Optional and
// Serialize orders just order actions that happen anyway; every order still makes Pacemaker
// create its `first`'s start action.
//
// Note [Implied restarts]
// ~~~~~~~~~~~~~~~~~~~~~~~
// A mandatory order F → T also makes T's start required when F starts, and T's stop required
// when F stops (stop in reverse). So when F has any action while T stays where it runs, T is
// restarted, transitively. Steps then follow the orders: start T after start F, stop F after
// stop T; for an INFINITY anti-colocation, a start on a node waits for the other's stop there.

/** Options of `plan()`. */
export interface PlanOptions {
  /** Also return every resource's final node scores (for debugging and differential tests). */
  withScores?: boolean;
}

/** The decision of `plan()`. */
export interface PlanResult {
  /** Where each resource will run, or null (CIB order). */
  placement: Record<string, string | null>;
  /** What to do, in an order that satisfies every step dependency. */
  actions: PolicyAction[];
  /** All steps of all actions, topologically sorted by `after`. */
  steps: PolicyStep[];
  /** One line per resource: why it runs where it does, or why it cannot run. */
  explanations: Record<string, string>;
  /**
   * Unclean nodes fenced before anything else (see Note [Fencing] in fencing.ts); what was active
   * on them is stopped by the fencing, and placed elsewhere.
   */
  fencing: FenceAction[];
  /** Final node scores per resource, when `withScores` was asked for. */
  scores?: Record<string, Record<string, number>>;
}

/**
 * Plans a cluster the way Pacemaker's scheduler would (see Note [Pacemaker assignment] in
 * assign.ts): which node each resource runs on, and the actions to get there.
 *
 * @param spec the configuration (nodes, resources, constraints, defaults)
 * @param observedState which nodes are up and where resources run now
 * @param failureHistory fail counts and last-failure times per resource and node
 * @param now the current time, epoch ms (for failure-timeout)
 */
export function plan(
  spec: ClusterSpec,
  observedState: ClusterObservedState,
  failureHistory: FailureHistory,
  now: number,
  options: PlanOptions = {},
): PlanResult {
  const a = assignResources(spec, observedState, failureHistory, now);
  // Groups are assigned as units (assign.ts); their actions are their members' (see Note [Groups]).
  spec = expandGroupConstraints(spec);
  const fencing = planFencing(spec, observedState);
  const fenced = new Set(fencing.map((f) => f.node));
  let runnable = computeRunnable(spec, a, new Set());
  let target = a.resources.map((r) => (runnable[r.index] ? r.assigned : -1));
  // An asymmetrical order spares a `then` only while its start is optional: not when an implied
  // restart makes it required, which needs the actions (see Note [Order kinds]).
  if ((spec.orders ?? []).some((o) => o.symmetrical === false && (o.kind ?? 'Mandatory') === 'Mandatory')) {
    // Required starts only accumulate (Pacemaker only ever clears `optional`).
    const restarted = new Set<number>();
    for (let i = 0; i <= a.resources.length; i++) {
      for (const x of buildActions(spec, a, target, {}, fenced).actions) if (x.kind === 'restart') restarted.add(a.byId.get(resourceOf(x))!.index);
      const next = computeRunnable(spec, a, restarted);
      if (next.every((v, j) => v === runnable[j])) break;
      runnable = next;
      target = a.resources.map((r) => (runnable[r.index] ? r.assigned : -1));
    }
  }

  const placement: Record<string, string | null> = {};
  const explanations: Record<string, string> = {};
  for (const r of a.resources) {
    const t = target[r.index]!;
    placement[r.id] = t >= 0 ? a.nodeNames[t]! : null;
    explanations[r.id] = explainPlacement(spec, a, r, t, runnable);
  }

  const built = buildActions(spec, a, target, explanations, fenced);
  const { actions, steps } = stallSerialized(spec, a, target, built, placement, explanations);
  const result: PlanResult = { placement, actions, steps, explanations, fencing };
  if (options.withScores) {
    result.scores = {};
    for (const r of a.resources) {
      const s: Record<string, number> = {};
      a.nodeNames.forEach((n, i) => (s[n] = (r.shownScores ?? r.w)[i]!));
      result.scores[r.id] = s;
    }
  }
  return result;
}

/** Greatest fixed point of "start is runnable" (see Note [Runnability]). */
function computeRunnable(spec: ClusterSpec, a: Assignment, restarted: ReadonlySet<number>): boolean[] {
  // see Note [Quorum] (quorum.ts)
  const runnable = a.resources.map((r) => r.assigned >= 0 && startRunnableWithoutQuorum(spec, r));
  const edges: OrderEdge[] = [];
  const colocEdges: Array<[number, number]> = []; // [primary, dependent]
  const cloneColocEdges: Array<[number[], number]> = []; // [primary's instances, dependent]
  const firsts: number[] = [];
  // An asymmetrical order leaves alone a `then` that already runs where it stays.
  const spared = (o: { symmetrical?: boolean }, t: Rsc): boolean =>
    o.symmetrical === false && t.running >= 0 && t.running === t.assigned && !t.failed && !t.definitionChanged && !restarted.has(t.index);
  for (const o of spec.orders ?? []) {
    if (a.clones.has(o.first) || a.clones.has(o.then)) {
      // see Note [Clone orders] in clones.ts
      const ce = cloneOrderEdges(spec, a, o);
      firsts.push(...ce.firsts);
      if ((o.kind ?? 'Mandatory') === 'Mandatory') edges.push(...ce.edges.filter((e) => !spared(o, a.resources[e.then]!)));
      continue;
    }
    const f = a.byId.get(o.first);
    const t = a.byId.get(o.then);
    if (!f || !t || f === t) continue;
    firsts.push(f.index);
    if ((o.kind ?? 'Mandatory') !== 'Mandatory') continue; // see Note [Order kinds]
    if (spared(o, t)) continue;
    edges.push({ firsts: [f.index], min: 1, then: t.index });
  }
  for (const c of spec.colocations ?? []) {
    const d = a.byId.get(c.resource);
    const p = a.byId.get(c.withResource);
    // A primary in a group never blocks (see Note [Groups] in groups.ts).
    if (d && p && d !== p && c.score >= INFINITY && !p.group) colocEdges.push([p.index, d.index]);
    // A clone blocks only when none of its instances can start (Note [Colocation with a clone]).
    const pc = a.clones.get(c.withResource);
    // A group instance can start when its last member can (see Note [Clones of groups]).
    if (d && pc && c.score >= INFINITY) cloneColocEdges.push([pc.instances!.map((i) => (i.members ? i.members[i.members.length - 1]! : i).index), d.index]);
  }
  // Only a primary that has a start action blocks its dependents: it has one when it is
  // assigned, when a changed definition forces its restart (`force_restart` creates the start
  // even where it cannot run), or when it is the `first` of an order (Pacemaker creates it,
  // unrunnable, then).
  const hasStart = a.resources.map((r) => r.assigned >= 0 || (r.running >= 0 && r.definitionChanged));
  for (const f of firsts) hasStart[f] = true;
  // An unmanaged resource has no action to block: it stays as it is.
  for (const r of a.resources) if (r.unmanaged) hasStart[r.index] = false;
  const blockable = a.resources.map((r) => !r.unmanaged);
  let changed = true;
  while (changed) {
    changed = false;
    for (const { firsts: fs, min, then: d } of edges) {
      if (!runnable[d] || !blockable[d]) continue;
      let n = 0;
      for (const f of fs) if (runnable[f]) n++;
      if (n < min) {
        runnable[d] = false;
        changed = true;
      }
    }
    for (const [p, d] of colocEdges) {
      if (!runnable[p] && hasStart[p] && runnable[d] && blockable[d]) {
        runnable[d] = false;
        changed = true;
      }
    }
    for (const [ps, d] of cloneColocEdges) {
      // Every instance has a start action (unassigned ones one that cannot run).
      if (runnable[d] && blockable[d] && ps.every((p) => !runnable[p])) {
        runnable[d] = false;
        changed = true;
      }
    }
  }
  return runnable;
}

function nodeWhy(a: Assignment, r: Rsc, n: number): string {
  const name = a.nodeNames[n]!;
  if (!a.available[n]) return `${name} is offline or in standby`;
  const ban = r.bans.get(n);
  if (ban) return `${name} is banned (${ban})`;
  return `${name} scores ${formatScore(r.w[n]!)}`;
}

function explainPlacement(spec: ClusterSpec, a: Assignment, r: Rsc, t: number, runnable: boolean[]): string {
  if (r.unmanaged) return t >= 0 ? `unmanaged: stays on ${a.nodeNames[t]!}` : 'unmanaged: stays stopped';
  if (t >= 0) {
    const name = a.nodeNames[t]!;
    const score = formatScore(r.w[t]!);
    if (r.running === t) {
      return r.stickiness >= 1
        ? `stays on ${name} (score ${score}, stickiness ${r.stickiness})`
        : `stays on ${name} (score ${score})`;
    }
    if (r.running >= 0) return `${name} has the best score (${score}); ${nodeWhy(a, r, r.running)}`;
    return `${name} has the best score (${score})`;
  }
  if (r.stopped) return 'target-role is Stopped';
  if (r.assigned >= 0 && !runnable[r.index]) {
    if (!startRunnableWithoutQuorum(spec, r)) return `cannot start: no quorum (no-quorum-policy=${spec.noQuorum!.policy})`;
    for (const o of spec.orders ?? []) {
      const f = a.byId.get(o.first);
      if (o.then === r.id && (o.kind ?? 'Mandatory') === 'Mandatory' && f && !runnable[f.index]) return `cannot start: order ${o.id} needs ${f.id} started first, and it cannot start`;
    }
    for (const c of spec.colocations ?? []) {
      const p = a.byId.get(c.withResource);
      if (c.resource === r.id && c.score >= INFINITY && p && !runnable[p.index]) {
        return `cannot start: colocation ${c.id} needs ${p.id}, which cannot start`;
      }
    }
    return 'cannot start';
  }
  if (!a.available.some(Boolean)) return 'no node is available';
  for (const c of r.thisWith) {
    if (c.score >= INFINITY && c.prim.assigned < 0 && !c.prim.instances) return `colocation ${c.id} needs ${c.prim.id}, which cannot run`;
  }
  for (const c of r.thisWith) {
    if (c.score >= INFINITY && c.prim.assigned >= 0) {
      const m = c.prim.assigned;
      if (r.w[m]! < 0 || !a.available[m]) {
        return `colocation ${c.id} needs ${a.nodeNames[m]} (where ${c.prim.id} runs), but ${nodeWhy(a, r, m)}`;
      }
    }
  }
  const why: string[] = [];
  for (let n = 0; n < a.nodeNames.length && why.length < 3; n++) {
    if (a.available[n]) why.push(nodeWhy(a, r, n));
  }
  return `no available node has a non-negative score (${why.join('; ')})`;
}

interface Draft {
  action: PolicyAction;
  stop?: PolicyStep;
  start?: PolicyStep;
}

function buildActions(
  spec: ClusterSpec,
  a: Assignment,
  target: number[],
  explanations: Record<string, string>,
  fenced: ReadonlySet<string>,
): { actions: PolicyAction[]; steps: PolicyStep[] } {
  const drafts = new Map<number, Draft>();
  const implied = new Map<number, string>();
  const name = (n: number): string => a.nodeNames[n]!;

  const make = (r: Rsc, t: number, impliedBy?: string): Draft | undefined => {
    if (r.unmanaged) return undefined;
    const cur = r.running;
    const id = (kind: string): string => `${kind}:${r.id}`;
    const stopStep = (n: number, action: string): PolicyStep => ({
      id: `stop:${r.id}@${name(n)}`,
      op: 'stop',
      resource: r.id,
      node: name(n),
      after: [],
      action,
    });
    const startStep = (n: number, action: string): PolicyStep => ({
      id: `start:${r.id}@${name(n)}`,
      op: 'start',
      resource: r.id,
      node: name(n),
      after: [],
      action,
    });
    // Active on a node being fenced: the fencing stops it there (no stop step), as Pacemaker's
    // implied stop (see Note [Fencing] in fencing.ts).
    const gone = cur < 0 && r.activeNode >= 0 && fenced.has(name(r.activeNode)) ? name(r.activeNode) : undefined;
    if (gone !== undefined && t >= 0) {
      const start = startStep(t, id('move'));
      const explanation = `move ${r.id} from ${gone} to ${name(t)}: ${gone} is fenced; ${explanations[r.id]}`;
      return { action: { kind: 'move', id: id('move'), resource: r.id, node: name(t), from: gone, explanation, steps: [start] }, start };
    }
    if (gone !== undefined) {
      const explanation = `stop ${r.id} on ${gone}: ${gone} is fenced; ${explanations[r.id]}`;
      return { action: { kind: 'stop', id: id('stop'), resource: r.id, node: gone, explanation, steps: [] } };
    }
    if (cur < 0 && t >= 0) {
      const start = startStep(t, id('start'));
      const explanation = `start ${r.id} on ${name(t)}: ${explanations[r.id]}`;
      return { action: { kind: 'start', id: id('start'), resource: r.id, node: name(t), explanation, steps: [start] }, start };
    }
    if (cur >= 0 && t < 0) {
      const stop = stopStep(cur, id('stop'));
      const explanation = `stop ${r.id} on ${name(cur)}: ${explanations[r.id]}`;
      return { action: { kind: 'stop', id: id('stop'), resource: r.id, node: name(cur), explanation, steps: [stop] }, stop };
    }
    if (cur >= 0 && t >= 0 && cur !== t) {
      const stop = stopStep(cur, id('move'));
      const start = startStep(t, id('move'));
      start.after.push(stop.id);
      const why = r.failed ? `${r.id} failed on ${name(cur)}; ` : '';
      const explanation = `move ${r.id} from ${name(cur)} to ${name(t)}: ${why}${explanations[r.id]}`;
      return {
        action: { kind: 'move', id: id('move'), resource: r.id, node: name(t), from: name(cur), explanation, steps: [stop, start] },
        stop,
        start,
      };
    }
    if (cur >= 0 && cur === t && (r.failed || r.definitionChanged || impliedBy)) {
      const stop = stopStep(cur, id('restart'));
      const start = startStep(cur, id('restart'));
      start.after.push(stop.id);
      const explanation = r.failed
        ? `restart ${r.id} on ${name(cur)}: it failed, and recovers in place (${explanations[r.id]})`
        : r.definitionChanged
          ? `restart ${r.id} on ${name(cur)}: it runs with another agent than configured`
          : `restart ${r.id} on ${name(cur)}: ${impliedBy}`;
      return { action: { kind: 'restart', id: id('restart'), resource: r.id, node: name(cur), explanation, steps: [stop, start] }, stop, start };
    }
    return undefined;
  };

  for (const r of a.resources) {
    const d = make(r, target[r.index]!);
    if (d) drafts.set(r.index, d);
  }

  // Implied restarts through orders (see Note [Implied restarts]).
  const allOrders = (spec.orders ?? [])
    .map((o) => ({ o, f: a.byId.get(o.first), t: a.byId.get(o.then) }))
    .filter((x): x is { o: (typeof x)['o']; f: Rsc; t: Rsc } => !!x.f && !!x.t && x.f !== x.t);
  const orders = allOrders.filter(({ o }) => (o.kind ?? 'Mandatory') === 'Mandatory' && o.symmetrical !== false);
  let changed = true;
  while (changed) {
    changed = false;
    for (const { o, f, t } of orders) {
      if (!drafts.has(f.index) || drafts.has(t.index)) continue;
      if (t.running < 0 || target[t.index] !== t.running) continue;
      const fa = drafts.get(f.index)!.action;
      const reason = `order ${o.id} restarts it because ${f.id} ${fa.kind === 'stop' ? 'stops' : fa.kind === 'start' ? 'starts' : fa.kind === 'move' ? 'moves' : 'restarts'}`;
      implied.set(t.index, reason);
      const d = make(t, target[t.index]!, reason);
      if (d) {
        drafts.set(t.index, d);
        changed = true;
      }
    }
  }

  // Dependencies.
  const addAfter = (step: PolicyStep | undefined, dep: PolicyStep | undefined): void => {
    if (step && dep && step !== dep && !step.after.includes(dep.id)) step.after.push(dep.id);
  };
  for (const { o, f, t } of allOrders) {
    const df = drafts.get(f.index);
    const dt = drafts.get(t.index);
    if (!df || !dt) continue;
    addAfter(dt.start, df.start);
    if (o.symmetrical !== false && o.kind !== 'Serialize') addAfter(df.stop, dt.stop);
  }
  for (const c of spec.colocations ?? []) {
    if (c.score > -INFINITY) continue;
    const x = a.byId.get(c.resource);
    const y = a.byId.get(c.withResource);
    if (!x || !y) continue;
    const dx = drafts.get(x.index);
    const dy = drafts.get(y.index);
    if (!dx || !dy) continue;
    if (dx.start && dy.stop && dx.start.node === dy.stop.node) addAfter(dx.start, dy.stop);
    if (dy.start && dx.stop && dy.start.node === dx.stop.node) addAfter(dy.start, dx.stop);
  }

  const all: PolicyStep[] = [];
  const ordered = [...drafts.values()].sort((x, y) => a.byId.get(resourceOf(x.action))!.index - a.byId.get(resourceOf(y.action))!.index);
  for (const d of ordered) all.push(...d.action.steps);
  const steps = topoSort(all);
  const pos = new Map(steps.map((s, i) => [s.id, i]));
  // An action without steps (carried out by fencing) comes first, as the fencing does.
  const firstStep = (x: PolicyAction): number => (x.steps.length === 0 ? -1 : Math.min(...x.steps.map((s) => pos.get(s.id)!)));
  const actions = ordered
    .map((d) => d.action)
    .sort((x, y) => firstStep(x) - firstStep(y));
  return { actions, steps };
}

// Note [Serialize stalls]
// ~~~~~~~~~~~~~~~~~~~~~~~
// A Serialize order F → T (`pe_order_optional | pe_order_serialize_only`) makes T's start wait for
// F's start. Pacemaker creates F's start for every order; when F is active and cannot stay (it has
// no node, so it stops), that start is required and unrunnable (when F is not active, it is
// optional and the graph drops it), and unlike an Optional order's (which the transition graph
// drops), a Serialize order's unrunnable input is kept (`ordering_can_change_actions`). A required
// start of T then waits for an action that never runs: the transition stalls (crm_simulate: "An
// invalid transition was produced"), and so does every step that waits for T's start. Stops still
// run. The same when F is not active but was assigned a node and its start there is unrunnable
// (a mandatory order or an INFINITY colocation blocks it): that start is required too (held-out
// CIB, measured). Nephele plans what Pacemaker would do: the stalled starts are dropped and their
// resources end stopped, the explanation saying why.

/** Drops the starts a Serialize order stalls (see Note [Serialize stalls]), in place. */
function stallSerialized(
  spec: ClusterSpec,
  a: Assignment,
  target: number[],
  built: { actions: PolicyAction[]; steps: PolicyStep[] },
  placement: Record<string, string | null>,
  explanations: Record<string, string>,
): { actions: PolicyAction[]; steps: PolicyStep[] } {
  const stalled = new Map<string, string>(); // step id → why
  for (const o of spec.orders ?? []) {
    if (o.kind !== 'Serialize') continue;
    const f = a.byId.get(o.first);
    const t = a.byId.get(o.then);
    if (!f || !t || f === t || target[f.index]! >= 0) continue;
    // F's start is required when F runs and cannot stay, or when F was assigned a node it does
    // not run on but its start cannot run (blocked by an order or a colocation).
    // (A start held back for want of quorum does not stall it: measured.)
    if (f.running < 0 && (f.assigned < 0 || !startRunnableWithoutQuorum(spec, f))) continue;
    const start = built.steps.find((x) => x.op === 'start' && x.resource === t.id);
    if (start && !stalled.has(start.id)) stalled.set(start.id, `Serialize order ${o.id} makes its start wait for ${f.id}'s start, which cannot run`);
  }
  if (stalled.size === 0) return built;
  for (const step of built.steps) {
    if (stalled.has(step.id)) continue;
    const dep = step.after.find((d) => stalled.has(d));
    if (dep !== undefined) stalled.set(step.id, `its ${step.op} waits for ${dep}, which is stalled`);
  }
  for (const step of built.steps) {
    const why = stalled.get(step.id);
    if (why === undefined || step.op !== 'start' || step.resource === undefined) continue;
    placement[step.resource] = null;
    explanations[step.resource] = `stalled: ${why} (Pacemaker's transition would stop there)`;
  }
  const steps = built.steps.filter((x) => !stalled.has(x.id));
  const actions: PolicyAction[] = [];
  for (const x of built.actions) {
    const kept = x.steps.filter((st) => !stalled.has(st.id));
    if (kept.length === x.steps.length) actions.push(x);
    else if (kept.length > 0 && kept.every((st) => st.op === 'stop') && x.kind !== 'replace-assembly' && x.kind !== 'mark-failed') {
      // A move or restart whose start stalls only stops.
      const stop = kept[0]!;
      actions.push({ kind: 'stop', id: x.id, resource: x.resource, node: stop.node!, explanation: `stop ${x.resource} on ${stop.node}: ${explanations[x.resource]}`, steps: kept });
    }
  }
  return { actions, steps };
}

function resourceOf(action: PolicyAction): string {
  switch (action.kind) {
    case 'start':
    case 'stop':
    case 'restart':
    case 'move':
      return action.resource;
    case 'replace-assembly':
    case 'mark-failed':
      return action.node;
  }
}

/**
 * Kahn's algorithm, always taking the earliest ready step in the given order. Steps caught in a
 * cycle (only possible with cyclic orders) are appended in their given order, cycle edges dropped.
 */
export function topoSort(steps: readonly PolicyStep[]): PolicyStep[] {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const indeg = new Int32Array(steps.length);
  const out: number[][] = steps.map(() => []);
  steps.forEach((s, i) => {
    for (const dep of s.after) {
      const j = index.get(dep);
      if (j === undefined) continue;
      indeg[i]!++;
      out[j]!.push(i);
    }
  });
  const ready: number[] = []; // kept sorted descending, so pop() yields the earliest
  const push = (i: number): void => {
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ready[mid]! > i) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, i);
  };
  steps.forEach((_, i) => indeg[i] === 0 && push(i));
  const done = new Uint8Array(steps.length);
  const result: PolicyStep[] = [];
  while (ready.length > 0) {
    const i = ready.pop()!;
    done[i] = 1;
    result.push(steps[i]!);
    for (const j of out[i]!) if (--indeg[j]! === 0) push(j);
  }
  if (result.length < steps.length) {
    const placed = new Set(result.map((s) => s.id));
    steps.forEach((s, i) => {
      if (done[i]) return;
      s.after = s.after.filter((d) => placed.has(d));
      placed.add(s.id);
      result.push(s);
    });
  }
  return result;
}
