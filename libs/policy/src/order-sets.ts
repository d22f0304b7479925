import { RuleXml, orderKind, ruleAttr, ruleChildren } from './rules';

/** One start → start order between two resources, as `unpackOrder` returns it. */
export interface PairOrder {
  id: string;
  first: string;
  then: string;
  kind: 'Mandatory' | 'Optional' | 'Serialize';
  symmetrical: boolean;
}

// Note [Ordered sets]
// ~~~~~~~~~~~~~~~~~~~
// An `rsc_order` with `<resource_set>`s is read as the pairwise orders Pacemaker 2.1.5 makes of it
// (`pcmk__unpack_ordering`, `unpack_order_set`, `order_rsc_sets`), every pair with the
// constraint's kind and symmetry (a symmetrical pair's inverse is the stop order a symmetrical
// simple order implies, so the pairs are exact):
// - inside a set that is sequential (the default: `sequential` absent counts as true there),
//   each member then the next; a Serialize set orders each member before every later one;
// - between two consecutive sets S1 then S2: the last member of S1 when S1 says
//   `sequential="true"` explicitly, else every member of S1 (absent counts as false here),
//   before the first member of S2 when S2 says `sequential="true"`, else every member of S2.
// Sets with `require-all=false` (the one-or-more pseudo action), or their own `action`, `kind`,
// `score`, `symmetrical` or `role`, set references and unknown resources are refused.

const SET_ATTRIBUTES = new Set(['id', 'sequential', 'require-all']);

function isTrueText(v: string | undefined): boolean {
  return v !== undefined && ['true', 'on', 'yes', 'y', '1'].includes(v.trim().toLowerCase());
}

function isFalseText(v: string | undefined): boolean {
  return v !== undefined && ['false', 'off', 'no', 'n', '0'].includes(v.trim().toLowerCase());
}

/**
 * The pairwise orders of an `rsc_order` with resource sets (see Note [Ordered sets]); `known`
 * tells which ids name a resource or group. Anything else is refused through `refuse`.
 */
export function unpackOrderSets(o: RuleXml, known: (id: string) => boolean, refuse: (what: string) => void): PairOrder[] {
  const id = ruleAttr(o, 'id') ?? 'rsc_order';
  for (const k of ['first', 'then', 'first-action', 'then-action', 'first-instance', 'then-instance', 'require-all']) {
    if (ruleAttr(o, k) !== undefined) refuse(`${k} in rsc_order ${id} with a resource_set`);
  }
  if (o['lifetime'] !== undefined) refuse(`lifetime in ${id}`);
  const { kind, symmetrical } = orderKind(o);
  const sets = ruleChildren(o, 'resource_set').map((set) => {
    const sid = ruleAttr(set, 'id') ?? '';
    for (const k of Object.keys(set)) {
      if (k === 'resource_ref' || k === '#text') continue;
      if (!SET_ATTRIBUTES.has(k)) refuse(`${k} on resource_set ${sid} in rsc_order ${id}`);
    }
    const requireAll = ruleAttr(set, 'require-all');
    if (requireAll !== undefined && !isTrueText(requireAll)) refuse(`require-all=${requireAll} on resource_set ${sid} in rsc_order ${id}`);
    const sequential = ruleAttr(set, 'sequential');
    if (sequential !== undefined && !isTrueText(sequential) && !isFalseText(sequential)) refuse(`sequential=${sequential} on resource_set ${sid} in rsc_order ${id}`);
    const members = ruleChildren(set, 'resource_ref').map((r) => ruleAttr(r, 'id') ?? '');
    for (const m of members) if (!known(m)) refuse(`resource_ref ${m} in rsc_order ${id} (not a primitive or group)`);
    return { members, inner: !isFalseText(sequential), between: isTrueText(sequential) };
  });
  const out: PairOrder[] = [];
  const add = (first: string, then: string): void => {
    out.push({ id, first, then, kind, symmetrical });
  };
  for (let i = 0; i < sets.length; i++) {
    const s = sets[i]!;
    if (s.members.length > 1) {
      if (kind === 'Serialize') {
        for (let a = 0; a < s.members.length; a++) for (let b = a + 1; b < s.members.length; b++) add(s.members[a]!, s.members[b]!);
      } else if (s.inner) {
        for (let a = 1; a < s.members.length; a++) add(s.members[a - 1]!, s.members[a]!);
      }
    }
    if (i === 0) continue;
    const p = sets[i - 1]!;
    const firsts = p.between ? p.members.slice(-1) : p.members;
    const thens = s.between ? s.members.slice(0, 1) : s.members;
    for (const f of firsts) for (const t of thens) add(f, t);
  }
  return out;
}
