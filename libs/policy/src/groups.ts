import { ClusterSpec, ColocationConstraint, GroupSpec, OrderConstraint } from './cluster.types';

// Note [Groups]
// ~~~~~~~~~~~~~
// A Pacemaker group (ordered and colocated, the defaults) as Pacemaker 2.1.5 plans it:
// - members inherit the group's meta attributes they do not set (above rsc_defaults);
// - each member after the first is colocated with the previous one (INFINITY, influence) and
//   starts after it (a mandatory symmetrical order: it stops before it, and restarts when it does);
// - the group is assigned as one unit in the priority order (with its own priority, at its
//   first member's CIB position), members in turn; the first member takes in the scores of the
//   later ones through the internal colocations, so a group's preference (stickiness included)
//   is the sum of its members' (assign.ts, Note [Pacemaker assignment]);
// - a location on the group applies to its first member only (later ones get it at score 0);
// - "group with P" is the first member's colocation; "D with group" is merged through the last
//   member, and applied to D with the last member's node when mandatory, the first member's when
//   optional (`colocate_with_group`). When the group is itself merged as a dependent, the last
//   member's "with" colocations count twice (`init_group_colocated_nodes`, then the group level);
// - an order naming the group orders every member (the group's start waits for all members,
//   and everything ordered after the group waits for all of them);
// - a mandatory colocation with a member or the group never blocks its dependent's start
//   (`pcmk__block_colocation_dependents` looks at the group's own, emptied, list); a group that
//   depends on an unrunnable primary is blocked as a whole.
// A ticket on a group is one on each member. Groups that are not ordered or not colocated,
// partly unmanaged groups (some members is-managed=false or frozen by a ticket: Pacemaker's
// transition stalls on them), orders naming an unmanaged group and Serialize orders naming a
// group are refused by the reader.

/** The group of each member id. */
export function groupOfMember(spec: ClusterSpec): Map<string, GroupSpec> {
  const out = new Map<string, GroupSpec>();
  for (const g of spec.groups ?? []) for (const m of g.members) out.set(m, g);
  return out;
}

/**
 * The orders and colocations the action phase sees (plan.ts): the groups' internal orders, and
 * constraints naming a group spelled out over its members. Colocations whose primary is a group
 * are left out (they never block a start); those whose dependent is a group name each member.
 */
export function expandGroupConstraints(spec: ClusterSpec): ClusterSpec {
  const groups = spec.groups ?? [];
  if (groups.length === 0) return spec;
  const byId = new Map(groups.map((g) => [g.id, g]));
  const members = (id: string): readonly string[] => byId.get(id)?.members ?? [id];
  const orders: OrderConstraint[] = [];
  for (const g of groups) {
    for (let i = 1; i < g.members.length; i++) {
      orders.push({ id: `group ${g.id}`, first: g.members[i - 1]!, then: g.members[i]! });
    }
  }
  for (const o of spec.orders ?? []) {
    if (!byId.has(o.first) && !byId.has(o.then)) {
      orders.push(o);
      continue;
    }
    for (const f of members(o.first)) for (const t of members(o.then)) orders.push({ ...o, first: f, then: t });
  }
  const colocations: ColocationConstraint[] = [];
  for (const c of spec.colocations ?? []) {
    if (byId.has(c.withResource)) continue;
    for (const d of members(c.resource)) colocations.push({ ...c, resource: d });
  }
  return { ...spec, orders, colocations };
}
