import {
  ClusterObservedState,
  ClusterSpec,
  ColocationConstraint,
  FailureRecord,
  CloneSpec,
  GroupSpec,
  LocationConstraint,
  NodeSpec,
  OrderConstraint,
  ResourceObservation,
  ResourceSpec,
} from './cluster.types';
import { createPrng } from './prng.util';
import { RuleLocationSpec } from './cib-writer';
import { INFINITY } from './score.util';

/** A generated planning problem. */
export interface GeneratedCluster {
  seed: number;
  spec: ClusterSpec;
  state: ClusterObservedState;
  history: FailureRecord[];
  /** Epoch ms, a whole second. */
  now: number;
  /**
   * Transient node attributes beyond `history` (for `writeCib`'s `extraNodeAttributes`): fail
   * counts Pacemaker reads differently from how they look — a legacy `fail-count-<id>` without
   * `#op_interval` (ignored in a current CIB), a second operation's count (added), a last-failure
   * without a count. `history` does not include them; `readCib()` of the written CIB does.
   */
  extraNodeAttributes: Array<{ node: string; name: string; value: string }>;
  /** Locations written as rules over node attributes (`zone`, `weight` in extraNodeAttributes). */
  ruleLocations: RuleLocationSpec[];
  /** rsc_ticket constraints and ticket states (see Note [Tickets]). */
  tickets: Array<{ id: string; resource: string; ticket: string; lossPolicy: 'stop' | 'freeze' | 'fence' }>;
  ticketStates: Record<string, { granted: boolean; standby?: boolean }>;
  /** Resources that are fencing devices (for `writeCib`'s `fencingDevices`). */
  fencingDevices: string[];
}

/** Shape of generated clusters. Counts are inclusive ranges. */
export interface GeneratorOptions {
  nodes?: [number, number];
  resources?: [number, number];
  /** Constraints per resource, on average. */
  locationsPerResource?: number;
  colocationsPerResource?: number;
  ordersPerResource?: number;
  /** Fix `now` (epoch ms, a whole second) instead of drawing it. */
  now?: number;
  /** Chance of fencing enabled with a device (default 0.1). */
  fencingChance?: number;
  /** Chance of a placement-strategy other than default, with capacities and uses (default 0.15). */
  utilizationChance?: number;
  /** Chance of each eligible resource being turned into an anonymous clone (default 0.15). */
  cloneChance?: number;
  /** Chance of each clone getting a primitive colocated with it at +INFINITY (default 0.3). */
  cloneColocationChance?: number;
  /** Chance of an opt-in cluster, symmetric-cluster=false (default 0.1). */
  optInChance?: number;
  /** Chance of a cluster without quorum, when fencing is off (default 0.1). */
  noQuorumChance?: number;
}

const NOW = Date.UTC(2024, 0, 1) + 3_600_000;

const SCORES = [
  1, 5, 10, 20, 50, 100, 200, 500, 1000, -1, -10, -50, -100, -500, 500000, -500000, 700000, INFINITY, -INFINITY,
];

function score(rnd: ReturnType<typeof createPrng>, infinityBias: number): number {
  if (rnd.chance(infinityBias)) return rnd.chance(0.5) ? INFINITY : -INFINITY;
  return rnd.pick(SCORES);
}

/**
 * Generates a random cluster inside the supported subset, deterministically from `seed`.
 *
 * Narrowed where Pacemaker's behaviour leaves the subset (each is a separate feature there):
 * - orders only go from earlier to later resources of a random permutation: an order cycle is
 *   an "ordering loop" Pacemaker resolves by dropping actions, which is not part of the subset;
 * Failures are drawn to exercise `pe_get_failcount`: fail counts on nodes where nothing failed,
 * failed operations without a fail count, expired failures, decoy attributes (see
 * `extraNodeAttributes`), unmanaged resources.
 */
export function generateCluster(seed: number, options: GeneratorOptions = {}): GeneratedCluster {
  const rnd = createPrng(seed);
  const [nMin, nMax] = options.nodes ?? [2, 7];
  const [rMin, rMax] = options.resources ?? [2, 14];
  const nodeCount = rnd.int(nMin, nMax);
  const rscCount = rnd.int(rMin, rMax);
  const drawnNow = NOW + rnd.int(0, 86_400) * 1000;
  const now = options.now ?? drawnNow;

  const nodes: NodeSpec[] = [];
  const online: Record<string, boolean> = {};
  const names = Array.from({ length: nodeCount }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);
  // Names are shuffled so that CIB order and name order differ (ties break by name).
  for (let i = names.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [names[i], names[j]] = [names[j]!, names[i]!];
  }
  for (const name of names) {
    const n: NodeSpec = { name };
    if (rnd.chance(0.1)) n.standby = true;
    nodes.push(n);
    online[name] = !rnd.chance(0.12);
  }
  const upNodes = nodes.filter((n) => online[n.name]);

  const resources: ResourceSpec[] = [];
  const running: Record<string, ResourceObservation | undefined> = {};
  const history: FailureRecord[] = [];
  const extra: GeneratedCluster['extraNodeAttributes'] = [];
  for (let i = 0; i < rscCount; i++) {
    const id = `rsc${String(i + 1).padStart(3, '0')}`;
    const r: ResourceSpec = { id };
    if (rnd.chance(0.3)) r.priority = rnd.int(-2, 5);
    if (rnd.chance(0.4)) r.stickiness = rnd.pick([0, 1, 10, 50, 100, 1000, INFINITY, -5]);
    if (rnd.chance(0.35)) r.migrationThreshold = rnd.pick([0, 1, 2, 3, 5]);
    if (rnd.chance(0.3)) r.failureTimeoutMs = rnd.pick([30, 60, 600]) * 1000;
    if (rnd.chance(0.07)) r.targetRole = 'Stopped';
    else if (rnd.chance(0.05)) r.targetRole = 'Started';
    resources.push(r);

    if (rnd.chance(0.04)) r.managed = false;
    if (upNodes.length > 0 && rnd.chance(0.6)) {
      const where = rnd.pick(upNodes).name;
      const failed = rnd.chance(0.15);
      running[id] = failed ? { node: where, failed: true } : { node: where };
      if (failed) {
        // Fresh, old (possibly expired: the failed operation is then ignored) or without a fail
        // count at all (the failure then stands, whatever its age).
        const age = rnd.chance(0.6) ? rnd.int(0, 20) : rnd.int(20, 1500);
        running[id] = { node: where, failed: true, failedAt: now - age * 1000 };
        if (!rnd.chance(0.15)) history.push({ resource: id, node: where, count: rnd.int(1, 4), lastFailureAt: now - age * 1000 });
      }
    }
    for (const n of nodes) {
      if (rnd.chance(0.08) && !history.some((f) => f.resource === id && f.node === n.name)) {
        const count = rnd.chance(0.1) ? INFINITY : rnd.int(1, 6);
        const rec: FailureRecord = { resource: id, node: n.name, count };
        if (rnd.chance(0.85)) rec.lastFailureAt = now - rnd.int(0, 1200) * 1000;
        history.push(rec);
      }
      if (rnd.chance(0.03)) extra.push({ node: n.name, name: `fail-count-${id}`, value: rnd.chance(0.3) ? 'INFINITY' : String(rnd.int(1, 5)) });
      if (rnd.chance(0.03)) extra.push({ node: n.name, name: `fail-count-${id}#start_0`, value: rnd.chance(0.3) ? 'INFINITY' : String(rnd.int(1, 3)) });
      if (rnd.chance(0.02)) extra.push({ node: n.name, name: `last-failure-${id}#start_0`, value: String(Math.floor(now / 1000) - rnd.int(0, 1200)) });
    }
  }

  const defaults: ClusterSpec['defaults'] = {};
  if (rnd.chance(0.4)) defaults.stickiness = rnd.pick([0, 10, 100]);
  if (rnd.chance(0.3)) defaults.migrationThreshold = rnd.pick([1, 2, 3, 10]);
  if (rnd.chance(0.3)) defaults.failureTimeoutMs = rnd.pick([60, 300]) * 1000;

  // Groups: runs of consecutive resources (so CIB order is kept).
  const groups: GroupSpec[] = [];
  for (let i = 0; i < resources.length; i++) {
    if (!rnd.chance(0.15)) continue;
    const size = rnd.int(1, 4);
    const members = resources.slice(i, i + size);
    const g: GroupSpec = { id: `grp${String(groups.length + 1).padStart(2, '0')}`, members: members.map((r) => r.id) };
    if (rnd.chance(0.3)) g.priority = rnd.int(-2, 5);
    // Unmanaged: every member or none (a partly unmanaged group is refused).
    const unmanaged = members.some((m) => m.managed === false);
    for (const m of members) {
      if (unmanaged) m.managed = false;
      // Members inherit the group's priority (as readCib reads them back).
      if (g.priority !== undefined && m.priority === undefined) m.priority = g.priority;
    }
    groups.push(g);
    i += size;
  }
  const groupOf = new Map(groups.flatMap((g) => g.members.map((m) => [m, g.id] as const)));
  const sameGroup = (a: string, b: string): boolean => (groupOf.get(a) ?? a) === (groupOf.get(b) ?? b);

  const ids = [...resources.map((r) => r.id), ...groups.map((g) => g.id)];
  const expected = (perResource: number): number => Math.round(rscCount * perResource * (0.5 + rnd.next()));

  const locations: LocationConstraint[] = [];
  for (let i = 0, k = expected(options.locationsPerResource ?? 0.8); i < k; i++) {
    locations.push({ id: `loc${i + 1}`, resource: rnd.pick(ids), node: rnd.pick(nodes).name, score: score(rnd, 0.15) });
  }
  const colocations: ColocationConstraint[] = [];
  const units = new Set(ids.map((id) => groupOf.get(id) ?? id)).size;
  for (let i = 0, k = expected(options.colocationsPerResource ?? 0.5); i < k && units > 1; i++) {
    const a = rnd.pick(ids);
    let b = rnd.pick(ids);
    while (sameGroup(a, b)) b = rnd.pick(ids);
    colocations.push({ id: `col${i + 1}`, resource: a, withResource: b, score: score(rnd, 0.35) });
  }
  // Orders never involve an unmanaged resource (see readCib: outside the subset), and name a group
  // or a resource outside groups, never a member (a group's internal orders could close a loop).
  const unmanagedGroup = (g: GroupSpec): boolean => g.members.some((m) => resources.some((r) => r.id === m && r.managed === false));
  const perm = [...resources.filter((r) => r.managed !== false && !groupOf.has(r.id)).map((r) => r.id), ...groups.filter((g) => !unmanagedGroup(g)).map((g) => g.id)];
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const orders: OrderConstraint[] = [];
  for (let i = 0, k = expected(options.ordersPerResource ?? 0.3); i < k && perm.length > 1; i++) {
    const x = rnd.int(0, perm.length - 2);
    const y = rnd.int(x + 1, perm.length - 1);
    const order: OrderConstraint = { id: `ord${i + 1}`, first: perm[x]!, then: perm[y]! };
    // Optional orders never block; asymmetrical Mandatory ones spare a `then` already in place.
    const form = rnd.next();
    if (form < 0.2) order.kind = 'Optional';
    else if (form < 0.36) order.symmetrical = false;
    orders.push(order);
  }

  // Node attributes and location rules over them (see Note [Rules]): a zone on most nodes, a
  // numeric weight on some (score-attribute gives −INFINITY where it is missing).
  const zones = ['east', 'West', 'north'];
  for (const n of nodes) {
    if (rnd.chance(0.8)) extra.push({ node: n.name, name: 'zone', value: rnd.pick(zones) });
    if (rnd.chance(0.6)) extra.push({ node: n.name, name: 'weight', value: String(rnd.pick([0, 5, 10, 50, 200, 1500, -20])) });
  }
  const ruleLocations: RuleLocationSpec[] = [];
  for (let i = 0, k = rnd.chance(0.5) ? rnd.int(1, 3) : 0; i < k; i++) {
    const expressions: RuleLocationSpec['expressions'][number][] = [];
    for (let j = 0, m = rnd.int(1, 2); j < m; j++) {
      const form = rnd.int(0, 4);
      if (form === 0) expressions.push({ attribute: 'zone', operation: rnd.pick(['eq', 'ne'] as const), value: rnd.pick(zones).toLowerCase() });
      else if (form === 1) expressions.push({ attribute: 'weight', operation: rnd.pick(['lt', 'gt', 'lte', 'gte'] as const), value: String(rnd.pick([0, 10, 100])) });
      else if (form === 2) expressions.push({ attribute: 'weight', operation: rnd.pick(['defined', 'not_defined'] as const) });
      else if (form === 3) expressions.push({ attribute: '#uname', operation: 'eq', value: rnd.pick(nodes).name });
      else expressions.push({ attribute: 'zone', operation: 'gt', value: 'm', type: 'string' });
    }
    const target = rnd.chance(0.2) && groups.length > 0 ? rnd.pick(groups).id : rnd.pick(resources).id;
    const l: RuleLocationSpec = { id: `rloc${i + 1}`, resource: target, expressions };
    if (rnd.chance(0.4)) l.scoreAttribute = 'weight';
    else l.score = score(rnd, 0.2);
    if (rnd.chance(0.3)) l.booleanOp = 'or';
    ruleLocations.push(l);
  }
  // Tickets: granted, revoked, in standby or without state; freeze only for resources no order
  // names (a frozen resource in an order is refused, as for unmanaged ones).
  const tickets: GeneratedCluster['tickets'] = [];
  const ticketStates: GeneratedCluster['ticketStates'] = {};
  if (rnd.chance(0.3)) {
    for (const t of ['tA', 'tB']) {
      const form = rnd.int(0, 3);
      if (form === 0) ticketStates[t] = { granted: true };
      else if (form === 1) ticketStates[t] = { granted: false };
      else if (form === 2) ticketStates[t] = { granted: true, standby: true };
    }
    const ordered = new Set(orders.flatMap((o) => [o.first, o.then]));
    for (let i = 0, k = rnd.int(1, 3); i < k; i++) {
      // A ticket on a group or a member never freezes (a frozen member is refused).
      const r = rnd.chance(0.2) && groups.length > 0 ? rnd.pick(groups).id : rnd.pick(resources).id;
      const freeze = !ordered.has(r) && !groupOf.has(r) && !groups.some((g) => g.id === r) && rnd.chance(0.4);
      tickets.push({ id: `tk${i + 1}`, resource: r, ticket: rnd.pick(['tA', 'tB']), lossPolicy: freeze ? 'freeze' : 'stop' });
    }
  }

  // Fencing (see Note [Fencing]), drawn last so that the clusters drawn before stay as they were:
  // a device (placed like any resource), and offline nodes left clean, lost from the membership
  // while expected up, or with managed resources still active there (both are fenced).
  const fencingDevices: string[] = [];
  const spec: ClusterSpec = { nodes, resources, locations, colocations, orders, defaults, ...(groups.length > 0 ? { groups } : {}) };
  const state: ClusterObservedState = { online, resources: running };
  if (rnd.chance(options.fencingChance ?? 0.1)) {
    spec.fencing = rnd.chance(0.3) ? { action: 'off' } : {};
    const device: ResourceSpec = { id: 'fence1' };
    if (rnd.chance(0.3)) device.stickiness = rnd.pick([10, 100]);
    resources.push(device);
    fencingDevices.push(device.id);
    if (upNodes.length > 0 && rnd.chance(0.5)) running[device.id] = { node: rnd.pick(upNodes).name };
    if (rnd.chance(0.4)) locations.push({ id: 'loc-fence1', resource: device.id, node: rnd.pick(nodes).name, score: score(rnd, 0.3) });
    // Unmanaged or frozen resources active on a node being fenced are refused when colocated.
    const frozen = new Set(tickets.filter((t) => t.lossPolicy === 'freeze').map((t) => t.resource));
    // Group members stay where the group put them (groups on fenced nodes are not drawn).
    const movable = resources.filter((r) => r.managed !== false && !frozen.has(r.id) && !groupOf.has(r.id));
    const unclean: Record<string, string> = {};
    for (const n of nodes.filter((x) => !online[x.name])) {
      const form = rnd.int(0, 2);
      if (form === 1) unclean[n.name] = 'peer is no longer part of the cluster';
      if (form === 0 || movable.length === 0) continue;
      for (let k = rnd.int(form === 1 ? 0 : 1, 2); k > 0; k--) {
        const r = rnd.pick(movable);
        running[r.id] = { node: n.name };
        unclean[n.name] ??= `${r.id} is thought to be active there`;
      }
    }
    if (Object.keys(unclean).length > 0) state.unclean = unclean;
    // A lost ticket with loss-policy=fence fences the node its resource is active on (refused
    // when an unmanaged or frozen resource there is colocated: none then).
    if (resources.every((r) => r.managed !== false) && tickets.every((t) => t.lossPolicy !== 'freeze')) {
      for (const t of tickets) if (!groupOf.has(t.resource) && !groups.some((g) => g.id === t.resource) && rnd.chance(0.5)) t.lossPolicy = 'fence';
    }
  }

  // Utilization (see Note [Utilization]), drawn last too. One attribute, and capacities that stay
  // distinct on every node whatever is assigned (node i's is i modulo 1000, uses are multiples of
  // 1000): then no choice depends on an order Pacemaker takes from a hash table.
  if (rnd.chance(options.utilizationChance ?? 0.15)) {
    const capacity: Record<string, Record<string, number>> = {};
    nodes.forEach((n, i) => (capacity[n.name] = { cpu: 1000 * rnd.int(0, 6) + i + 1 }));
    const use: Record<string, Record<string, number>> = {};
    for (const r of resources) if (rnd.chance(0.8)) use[r.id] = { cpu: 1000 * rnd.int(0, 3) };
    spec.utilization = { strategy: rnd.pick(['utilization', 'balanced', 'minimal'] as const), capacity, use };
  }
  // Clones and utilization are not planned together (the reader refuses them): clones only without.
  if (!spec.utilization) addClones(createPrng(seed * 7919 + 17), spec, state, history, tickets, ruleLocations, fencingDevices, options.cloneChance ?? 0.15);
  addCloneColocations(createPrng(seed * 7927 + 5), spec, tickets, fencingDevices, options.cloneColocationChance ?? 0.3);
  // Cluster options from their own stream too: opt-in (Note [Opt-in clusters]) and no quorum
  // (Note [Quorum]; without fencing, which cannot fence out of the membership then).
  const optionsRnd = createPrng(seed * 104729 + 31);
  if (optionsRnd.chance(options.optInChance ?? 0.1)) spec.symmetricCluster = false;
  if (optionsRnd.chance(options.noQuorumChance ?? 0.1) && !spec.fencing) spec.noQuorum = { policy: optionsRnd.pick(['stop', 'freeze'] as const) };

  return {
    fencingDevices,
    ruleLocations,
    tickets,
    ticketStates,
    seed,
    spec,
    state,
    history,
    now,
    extraNodeAttributes: extra,
  };
}

/**
 * Turns some resources into anonymous clones of themselves (see Note [Clones] in clones.ts),
 * drawn from their own PRNG so that the rest of a seed's cluster stays as it was. Only managed
 * resources outside groups that no colocation or ticket names, that are no fencing device and
 * that are not active on an offline node qualify; locations, rule locations and orders naming the
 * resource then name the clone. Instances run where the resource ran, and on some other nodes.
 */
function addClones(
  rnd: ReturnType<typeof createPrng>,
  spec: ClusterSpec,
  state: ClusterObservedState,
  history: FailureRecord[],
  tickets: GeneratedCluster['tickets'],
  ruleLocations: RuleLocationSpec[],
  fencingDevices: string[],
  chance: number,
): void {
  const resources = spec.resources as ResourceSpec[];
  const running = state.resources as Record<string, ResourceObservation | undefined>;
  const inGroup = new Set((spec.groups ?? []).flatMap((g) => g.members));
  const named = new Set([...(spec.colocations ?? []).flatMap((c) => [c.resource, c.withResource]), ...tickets.map((t) => t.resource), ...fencingDevices]);
  const upNodes = spec.nodes.filter((n) => state.online[n.name] === true).map((n) => n.name);
  const clones: CloneSpec[] = [];
  for (const r of [...resources]) {
    if (r.managed === false || inGroup.has(r.id) || named.has(r.id) || !rnd.chance(chance)) continue;
    const obs = running[r.id];
    if (obs && state.online[obs.node] !== true) continue;
    const cloneId = `${r.id}-clone`;
    const max = rnd.chance(0.5) ? spec.nodes.length : rnd.int(1, spec.nodes.length + 1);
    const c: CloneSpec = { id: cloneId, instances: Array.from({ length: max }, (_, i) => `${r.id}:${i}`), max };
    if (rnd.chance(0.3)) c.priority = rnd.int(-2, 5);
    if (rnd.chance(0.5)) c.interleave = true;
    if (rnd.chance(0.1)) c.min = rnd.int(1, 3);
    // Instances inherit the clone's priority, and its stickiness of 1 unless rsc_defaults set one
    // (as readCib reads them back).
    const inst: ResourceSpec = { ...r };
    if (r.priority === undefined && c.priority !== undefined) inst.priority = c.priority;
    if (r.stickiness === undefined && spec.defaults?.stickiness === undefined) inst.stickiness = 1;
    resources.splice(resources.indexOf(r), 1, ...c.instances.map((id) => ({ ...inst, id })));
    // Where it ran, then on some other nodes that are up (at most clone-max).
    delete running[r.id];
    // Instances are numbered in node order, as readCib maps the history to them.
    const where = upNodes.filter((n) => n === obs?.node || rnd.chance(0.4)).slice(0, max);
    if (obs && !where.includes(obs.node)) where[where.length - 1] = obs.node;
    where.sort((x, y) => upNodes.indexOf(x) - upNodes.indexOf(y));
    where.forEach((node, i) => (running[c.instances[i]!] = node === obs?.node ? { ...obs } : { node }));
    for (const f of history) if (f.resource === r.id) f.resource = cloneId;
    for (const l of spec.locations ?? []) if (l.resource === r.id) (l as { resource: string }).resource = cloneId;
    for (const l of ruleLocations) if (l.resource === r.id) l.resource = cloneId;
    for (const o of spec.orders ?? []) {
      if (o.first === r.id) (o as { first: string }).first = cloneId;
      if (o.then === r.id) (o as { then: string }).then = cloneId;
    }
    clones.push(c);
  }
  if (clones.length > 0) spec.clones = clones;
}

/**
 * Colocates some primitive with some clones at +INFINITY (see Note [Colocation with a clone] in
 * clone-colocation.ts), from its own PRNG: a managed primitive outside groups and clones that no
 * other colocation or ticket names and that is no fencing device, one per clone at most.
 */
function addCloneColocations(rnd: ReturnType<typeof createPrng>, spec: ClusterSpec, tickets: GeneratedCluster['tickets'], fencingDevices: string[], chance: number): void {
  const colocations = spec.colocations as ColocationConstraint[];
  const taken = new Set([...colocations.flatMap((c) => [c.resource, c.withResource]), ...tickets.map((t) => t.resource), ...fencingDevices]);
  const grouped = new Set([...(spec.groups ?? []).flatMap((g) => g.members), ...(spec.clones ?? []).flatMap((c) => c.instances)]);
  for (const c of spec.clones ?? []) {
    if (!rnd.chance(chance)) continue;
    const candidates = spec.resources.filter((r) => r.managed !== false && !grouped.has(r.id) && !taken.has(r.id));
    if (candidates.length === 0) continue;
    const d = rnd.pick(candidates);
    colocations.push({ id: `col-${d.id}-with-${c.id}`, resource: d.id, withResource: c.id, score: INFINITY });
    taken.add(d.id);
  }
}
