// Note [Utilization]
// ~~~~~~~~~~~~~~~~~~
// Pacemaker 2.1.5's `placement-strategy` (pcmk_sched_utilization.c, pcmk_sched_nodes.c,
// `cmp_resources` in pcmk_sched_resource.c), for primitives and groups:
// - nodes have capacities and resources use amounts, both named integer attributes (`<utilization>`
//   nvpairs; an attribute a node or resource does not list counts as 0);
// - `default` ignores them all. Any other strategy:
//   a. sorts the top-level resources before assignment (stable): priority; then the score of each
//      on the node it is active on, in its table with its "with" colocations merged (−INFINITY when
//      inactive); then its score on each node in turn, nodes taken by capacity (balanced) then
//      name;
//   b. before choosing a node for a primitive, sums what it and every resource chained to it by
//      INFINITY colocations (either way, through groups) that is not yet assigned use; if some
//      available node with a non-negative score has room for the sum, every such node without
//      room is banned (−INFINITY); otherwise every one without room for the primitive alone is
//      banned, and the one with the most free capacity (see compareCapacities) is preferred when
//      its score is as good as the best node's;
//   c. orders the candidate nodes of equal score: `minimal` by name only; `balanced` by free
//      capacity first, then as `utilization` and `default` do (fewer assigned resources, the
//      current node, name);
//   d. takes what a resource uses from the free capacity of the node it is assigned to, on the
//      attributes that node lists (an unmanaged one too).
// Which of several nodes tied for the most free capacity is preferred in (b) depends on GLib's
// hash table order: when that choice would change the node, the reader refuses the CIB.

/** Pacemaker's `placement-strategy`. */
export type PlacementStrategy = 'default' | 'utilization' | 'balanced' | 'minimal';

/** Named integer amounts (a node's capacity, a resource's use); a missing name counts as 0. */
export type Amounts = ReadonlyMap<string, number>;

const STRATEGIES: readonly string[] = ['default', 'utilization', 'balanced', 'minimal'];

/** The strategy named by the cluster option (case-insensitive), or undefined for an unknown one. */
export function parsePlacementStrategy(text: string | undefined): PlacementStrategy | undefined {
  if (text === undefined) return 'default';
  const t = text.trim().toLowerCase();
  return STRATEGIES.includes(t) ? (t as PlacementStrategy) : undefined;
}

const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;

/** A utilization value: a decimal integer in C `int` range, else undefined (refused by the reader). */
export function parseUtilizationValue(text: string): number | undefined {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) return undefined;
  const n = Number(text.trim());
  return n >= INT_MIN && n <= INT_MAX ? n : undefined;
}

/**
 * `pcmk__compare_node_capacities`: negative when `a` has more free capacity than `b` on more
 * attributes than the other way round, positive in the opposite case, 0 when even.
 */
export function compareCapacities(a: Amounts, b: Amounts): number {
  let result = 0;
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of keys) {
    const x = a.get(k) ?? 0;
    const y = b.get(k) ?? 0;
    if (x > y) result--;
    else if (x < y) result++;
  }
  return result;
}

/** `have_enough_capacity`: whether `free` has at least `required` on every attribute required. */
export function hasEnoughCapacity(free: Amounts, required: Amounts): boolean {
  for (const [k, v] of required) if (v > (free.get(k) ?? 0)) return false;
  return true;
}

/** `pcmk__release_node_capacity` into a sum: adds `use` to `total`. */
export function addAmounts(total: Map<string, number>, use: Amounts): void {
  for (const [k, v] of use) total.set(k, (total.get(k) ?? 0) + v);
}

/**
 * `pcmk__consume_node_capacity`: takes `use` from `free`, on the attributes `free` lists (one it
 * does not list stays 0, i.e. absent).
 */
export function consumeCapacity(free: Map<string, number>, use: Amounts): void {
  for (const [k, v] of use) if (free.has(k)) free.set(k, free.get(k)! - v);
}

/**
 * Step (b) of Note [Utilization] for one primitive: the node indexes to ban (−INFINITY) and the
 * most capable candidates (several when tied; empty when some node has room for the whole sum).
 * `candidates` are the available nodes with a non-negative score.
 */
export function insufficientCapacity(
  candidates: readonly number[],
  free: readonly Amounts[],
  own: Amounts,
  chained: Amounts,
): { ban: number[]; mostCapable: number[] } {
  const anyCapable = candidates.some((n) => hasEnoughCapacity(free[n]!, chained));
  if (anyCapable) return { ban: candidates.filter((n) => !hasEnoughCapacity(free[n]!, chained)), mostCapable: [] };
  return { ban: candidates.filter((n) => !hasEnoughCapacity(free[n]!, own)), mostCapable: possibleMostCapable(candidates, free) };
}

/**
 * Every node Pacemaker's scan for the most free capacity can end on, whatever the (hash table)
 * order it visits the candidates in: the scan keeps a node only when it beats the one kept so
 * far, and the comparison is a vote, not an order. Up to 6 candidates every order is tried;
 * beyond, every candidate is returned (the caller then refuses unless all lead to one node).
 */
function possibleMostCapable(candidates: readonly number[], free: readonly Amounts[]): number[] {
  if (candidates.length > 6) return [...candidates];
  const out = new Set<number>();
  const permute = (rest: number[], kept: number): void => {
    if (rest.length === 0) {
      out.add(kept);
      return;
    }
    rest.forEach((n, i) => {
      const next = kept < 0 || compareCapacities(free[n]!, free[kept]!) < 0 ? n : kept;
      permute([...rest.slice(0, i), ...rest.slice(i + 1)], next);
    });
  };
  permute([...candidates], -1);
  return [...out].filter((n) => n >= 0).sort((a, b) => a - b);
}
