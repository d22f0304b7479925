import { addScores } from './score.util';

// Note [Rules]
// ~~~~~~~~~~~~
// Pacemaker 2.1.5's rule evaluation (`pe_eval_expr`, `pe__eval_attr_expr`, `pe__eval_date_expr`)
// for the expressions a node-placement rule can hold:
// - a `<rule>` is the AND (default) or OR (`boolean-op="or"`) of its children; an empty AND rule
//   passes and an empty OR rule fails. Children are pure, so their order does not matter.
// - `<expression attribute operation value [type]>` compares a node attribute (`#uname`, `#id`,
//   `#kind`, `#is_dc`, `#cluster-name`, `#site-name` or a configured/transient one) with the
//   literal value. Without `type`, lt/lte/gt/gte compare as `number` when either side has a `.`
//   and as `integer` otherwise; eq/ne compare as `string` (case-insensitively). An unparsable
//   number falls back to a string comparison. `defined`/`not_defined` test presence. An empty
//   value counts as no value.
// - `<date_expression>` with `in_range` (start and/or end), `gt` (start), `lt` (end), against the
//   CIB's effective date; dates are ISO 8601 calendar or ordinal dates with an optional time
//   and offset.
// Anything else (date_spec, durations, value-source, rsc/op/role expressions, id-refs) is
// refused through `refuse`: its answer would depend on things this reader does not model.

/** The XML shape produced by the CIB reader's parser. */
export type RuleXml = Record<string, unknown>;

/** What a rule is evaluated against. */
export interface RuleContext {
  /** The node's attributes, or undefined where no node is involved (attribute tests then fail). */
  attrs?: ReadonlyMap<string, string>;
  /** The effective date, epoch seconds. */
  nowSec: number;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function xmlAttr(node: RuleXml | undefined, name: string): string | undefined {
  const v = node?.[name];
  if (typeof v !== 'string') return undefined;
  if (!v.includes('&')) return v;
  return v.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e]!;
  });
}

function xmlChildren(node: RuleXml | undefined, name: string): RuleXml[] {
  if (!node) return [];
  const v = node[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (x === '' || typeof x !== 'object' ? {} : (x as RuleXml)));
}

const RULE_CHILDREN = new Set(['rule', 'expression', 'date_expression']);

/** C `strtoll` on the whole prefix, as `pcmk__scan_ll` does (trailing characters allowed). */
function scanInteger(text: string): bigint | undefined {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? BigInt(m[1]!) : undefined;
}

/** C `strtod` prefix, as `pcmk__scan_double` uses it. */
function scanNumber(text: string): number | undefined {
  const m = /^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Pacemaker's `compare_version` on two dotted texts. */
function compareVersionText(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function strcasecmp(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareValues(l: string | undefined, r: string | undefined, type: string | undefined, op: string): number {
  if (l === undefined || r === undefined) return l === undefined && r === undefined ? 0 : r === undefined ? 1 : -1;
  let t = type?.toLowerCase();
  if (t === undefined) {
    if (['lt', 'lte', 'gt', 'gte'].includes(op)) t = l.includes('.') || r.includes('.') ? 'number' : 'integer';
    else t = 'string';
  }
  if (t === 'integer') {
    const a = scanInteger(l);
    const b = scanInteger(r);
    if (a !== undefined && b !== undefined) return a < b ? -1 : a > b ? 1 : 0;
    return strcasecmp(l, r);
  }
  if (t === 'number') {
    const a = scanNumber(l);
    const b = scanNumber(r);
    if (a !== undefined && b !== undefined) return a < b ? -1 : a > b ? 1 : 0;
    return strcasecmp(l, r);
  }
  if (t === 'version') return compareVersionText(l, r);
  if (t === 'string') return strcasecmp(l, r);
  return 0;
}

function evalAttrExpr(expr: RuleXml, ctx: RuleContext, refuse: (what: string) => void): boolean {
  const id = xmlAttr(expr, 'id') ?? '';
  const attribute = xmlAttr(expr, 'attribute');
  const op = xmlAttr(expr, 'operation')?.toLowerCase();
  const type = xmlAttr(expr, 'type');
  if (xmlAttr(expr, 'id-ref') !== undefined) refuse(`<expression id-ref> in a rule`);
  const source = xmlAttr(expr, 'value-source');
  if (source !== undefined && source.toLowerCase() !== 'literal') refuse(`value-source=${source} in expression ${id}`);
  if (type !== undefined && !['string', 'integer', 'number', 'version'].includes(type.toLowerCase())) refuse(`type=${type} in expression ${id}`);
  if (attribute === undefined) return false;
  if (attribute === '#role') refuse(`#role expression ${id}`);
  if (op === undefined || !['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'defined', 'not_defined'].includes(op)) {
    refuse(`operation=${op ?? '(none)'} in expression ${id}`);
    return false;
  }
  if (!ctx.attrs) return false;
  const raw = xmlAttr(expr, 'value');
  const value = raw === '' ? undefined : raw;
  const have = ctx.attrs.get(attribute);
  if (op === 'defined') return have !== undefined;
  if (op === 'not_defined') return have === undefined;
  const cmp = compareValues(have, value, type, op);
  if (op === 'eq') return cmp === 0;
  if (op === 'ne') return cmp !== 0;
  if (have === undefined || value === undefined) return false;
  if (op === 'lt') return cmp < 0;
  if (op === 'lte') return cmp <= 0;
  if (op === 'gt') return cmp > 0;
  return cmp >= 0;
}

/**
 * Parses the ISO 8601 forms Pacemaker's `crm_time_new` reads in CIBs: `YYYY-MM-DD` or
 * `YYYY-DDD`, optionally followed (after a space or `T`) by `HH:MM[:SS]` and an offset (`Z`,
 * `±HH[:MM]`). Returns epoch seconds, or undefined when the text is outside those forms or has no
 * explicit offset while carrying a time (a date alone is taken as UTC midnight, as Pacemaker
 * does).
 */
export function parseIsoDate(text: string): number | undefined {
  const m = /^\s*(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?\s*$/.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  let days: number;
  if (m[4] !== undefined) {
    const ordinal = Number(m[4]);
    if (ordinal < 1 || ordinal > 366) return undefined;
    days = Date.UTC(year, 0, 1) / 86_400_000 + ordinal - 1;
  } else {
    const month = Number(m[2]);
    const day = Number(m[3]);
    if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
    days = Date.UTC(year, month - 1, day) / 86_400_000;
  }
  let secs = days * 86_400;
  if (m[5] !== undefined) {
    if (m[8] === undefined) return undefined; // local time: depends on the scheduler's time zone
    secs += Number(m[5]) * 3600 + Number(m[6]) * 60 + Number(m[7] ?? '0');
    if (m[8] !== 'Z') {
      const o = /^([+-])(\d{2}):?(\d{2})?$/.exec(m[8])!;
      const off = Number(o[2]) * 3600 + Number(o[3] ?? '0') * 60;
      secs -= o[1] === '-' ? -off : off;
    }
  }
  return secs;
}

function evalDateExpr(expr: RuleXml, ctx: RuleContext, refuse: (what: string) => void): boolean {
  const id = xmlAttr(expr, 'id') ?? '';
  const op = (xmlAttr(expr, 'operation') ?? 'in_range').toLowerCase();
  if (xmlChildren(expr, 'duration').length > 0) refuse(`<duration> in date_expression ${id}`);
  if (op === 'date_spec' || xmlChildren(expr, 'date_spec').length > 0) refuse(`date_spec in date_expression ${id}`);
  const date = (name: string): number | undefined => {
    const v = xmlAttr(expr, name);
    if (v === undefined) return undefined;
    const t = parseIsoDate(v);
    if (t === undefined) refuse(`${name}="${v}" in date_expression ${id}`);
    return t;
  };
  const start = date('start');
  const end = date('end');
  const now = ctx.nowSec;
  if (op === 'in_range') {
    if (start === undefined && end === undefined) return false;
    if (start !== undefined && now < start) return false;
    if (end !== undefined && now > end) return false;
    return true;
  }
  if (op === 'gt') return start !== undefined && now > start;
  if (op === 'lt') return end !== undefined && now < end;
  refuse(`operation=${op} in date_expression ${id}`);
  return false;
}

/** `pe_eval_expr`: whether `rule` passes. */
export function evalRule(rule: RuleXml, ctx: RuleContext, refuse: (what: string) => void): boolean {
  const id = xmlAttr(rule, 'id') ?? '';
  if (xmlAttr(rule, 'id-ref') !== undefined) refuse(`<rule id-ref=${xmlAttr(rule, 'id-ref')}>`);
  for (const k of Object.keys(rule)) {
    if (typeof rule[k] === 'string' || k.startsWith('#')) continue;
    if (!RULE_CHILDREN.has(k)) refuse(`<${k}> in rule ${id}`);
  }
  const or = xmlAttr(rule, 'boolean-op')?.toLowerCase() === 'or';
  const results: boolean[] = [];
  for (const e of xmlChildren(rule, 'expression')) results.push(evalAttrExpr(e, ctx, refuse));
  for (const e of xmlChildren(rule, 'date_expression')) results.push(evalDateExpr(e, ctx, refuse));
  for (const e of xmlChildren(rule, 'rule')) results.push(evalRule(e, ctx, refuse));
  return or ? results.some(Boolean) : results.every(Boolean);
}

/** `pe_eval_rules`: a set of `<rule>`s passes when it has none or any of them passes. */
export function evalRules(rules: readonly RuleXml[], ctx: RuleContext, refuse: (what: string) => void): boolean {
  if (rules.length === 0) return true;
  let pass = false;
  for (const r of rules) if (evalRule(r, ctx, refuse)) pass = true;
  return pass;
}

/** Children of a rule, for callers that need to look at them. */
export const ruleChildren = xmlChildren;
/** An attribute of a rule element, entities decoded. */
export const ruleAttr = xmlAttr;

/** Scores of the node-health colours (`node-health-red`, `-yellow`, `-green`). */
export interface HealthScores {
  red: number;
  yellow: number;
  green: number;
}

/**
 * Pacemaker's `char2score` (2.1.5): `INFINITY`/`+INFINITY`/`-INFINITY`, the health colours, else
 * the leading integer clamped to ±INFINITY, else 0.
 */
export function char2score(text: string | undefined, health: HealthScores): number {
  if (text === undefined) return 0;
  if (text === '-INFINITY') return -1_000_000;
  if (text === 'INFINITY' || text === '+INFINITY') return 1_000_000;
  const t = text.toLowerCase();
  if (t === 'red') return health.red;
  if (t === 'yellow') return health.yellow;
  if (t === 'green') return health.green;
  const n = scanInteger(text);
  if (n === undefined) return 0;
  if (n > 1_000_000n) return 1_000_000;
  if (n < -1_000_000n) return -1_000_000;
  return Number(n);
}

/** A node as a location rule sees it. */
export interface RuleNode {
  name: string;
  attrs: ReadonlyMap<string, string>;
  /**
   * The node's own weight in Pacemaker's node list: −INFINITY when its node_state says it is
   * offline, else its `<node score>` (0). An OR rule adds its score to it (it copies the node);
   * an AND rule starts from a copy reset to 0.
   */
  weight: number;
}

/**
 * `generate_location_rule`: the nodes a location rule matches, each with the score it adds — the
 * rule's `score`, or the node's value of its `score-attribute` (−INFINITY when the node has none).
 * Nodes are returned in the given order.
 */
export function ruleLocationScores(
  rule: RuleXml,
  nodes: readonly RuleNode[],
  nowSec: number,
  health: HealthScores,
  refuse: (what: string) => void,
): Array<{ node: string; score: number }> {
  const score = xmlAttr(rule, 'score');
  const scoreAttribute = score === undefined ? xmlAttr(rule, 'score-attribute') : undefined;
  const out: Array<{ node: string; score: number }> = [];
  const or = xmlAttr(rule, 'boolean-op')?.toLowerCase() === 'or';
  for (const n of nodes) {
    if (!evalRule(rule, { attrs: n.attrs, nowSec }, refuse)) continue;
    let s: number;
    if (scoreAttribute !== undefined) {
      const v = n.attrs.get(scoreAttribute);
      s = v === undefined ? -1_000_000 : char2score(v, health);
    } else s = char2score(score, health);
    if (or) s = addScores(n.weight, s);
    out.push({ node: n.name, score: s });
  }
  return out;
}

/** What one `rsc_location` contributes: per-node scores, in application order. */
export interface UnpackedLocation {
  resource: string;
  entries: Array<{ id: string; node: string; score: number }>;
  /** `resource-discovery=exclusive`: the nodes it names (the resource is banned from all others). */
  exclusive?: string[];
  /** Entries for role Promoted: they only steer promotion (see Note [Promotable clones] in promotable.ts). */
  promoted?: Array<{ id: string; node: string; score: number }>;
}

/**
 * `pcmk__unpack_location` for one constraint on one resource: either `node` + `score`, or one
 * location per `<rule>` (see Note [Rules]). Roles other than Started/Unpromoted, resource sets,
 * `rsc-pattern` and `lifetime` are refused.
 */
export function unpackLocation(
  l: RuleXml,
  nodes: readonly RuleNode[],
  nowSec: number,
  health: HealthScores,
  refuse: (what: string) => void,
): UnpackedLocation | undefined {
  const id = xmlAttr(l, 'id') ?? 'rsc_location';
  if (xmlChildren(l, 'resource_set').length > 0) refuse(`rsc_location ${id} with a resource_set`);
  if (xmlAttr(l, 'rsc-pattern') !== undefined) refuse(`rsc_location ${id} with rsc-pattern`);
  if (l['lifetime'] !== undefined) refuse(`lifetime in ${id}`);
  const rsc = xmlAttr(l, 'rsc');
  if (rsc === undefined) return undefined;
  const discovery = (xmlAttr(l, 'resource-discovery') ?? 'always').toLowerCase();
  if (!['always', 'never', 'exclusive'].includes(discovery)) refuse(`resource-discovery=${discovery} on ${id}`);
  const node = xmlAttr(l, 'node');
  const score = xmlAttr(l, 'score');
  const out: UnpackedLocation = { resource: rsc, entries: [] };
  if (node !== undefined && score !== undefined) {
    const role = xmlAttr(l, 'role');
    if (role !== undefined && !['started', 'unpromoted', 'slave', ...PROMOTED_ROLES].includes(role.toLowerCase())) refuse(`rsc_location ${id} for role ${role}`);
    const s = char2score(score, health);
    if (!/^\s*([+-]?\d+|[+-]?INFINITY)\s*$/.test(score)) refuse(`rsc_location ${id} with score ${score}`);
    const match = nodes.find((n) => n.name.toLowerCase() === node.toLowerCase());
    if (!match) return undefined;
    // Never applied when placing (see Note [Promotable clones] in promotable.ts).
    if (role !== undefined && PROMOTED_ROLES.includes(role.toLowerCase())) {
      out.promoted = [{ id, node: match.name, score: s }];
      return out;
    }
    out.entries.push({ id, node: match.name, score: s });
    if (discovery === 'exclusive') out.exclusive = [match.name];
    return out;
  }
  const rules = xmlChildren(l, 'rule');
  if (discovery === 'exclusive' && rules.length > 0) out.exclusive = [];
  for (const rule of rules) {
    const ruleId = xmlAttr(rule, 'id') ?? id;
    const role = xmlAttr(rule, 'role');
    if (role !== undefined && PROMOTED_ROLES.includes(role.toLowerCase())) {
      // Never applied when placing (see Note [Promotable clones] in promotable.ts); with
      // resource-discovery=exclusive it would still count among the nodes named.
      if (out.exclusive) refuse(`rule ${ruleId} in ${id} for role ${role} with resource-discovery=exclusive`);
      const ruleScore = xmlAttr(rule, 'score');
      if (ruleScore !== undefined && !/^\s*([+-]?\d+|[+-]?INFINITY)\s*$/.test(ruleScore)) refuse(`rule ${ruleId} in ${id} with score ${ruleScore}`);
      for (const m of ruleLocationScores(rule, nodes, nowSec, health, refuse)) (out.promoted ??= []).push({ id: ruleId, node: m.node, score: m.score });
      continue;
    }
    if (role !== undefined && !['unpromoted', 'slave'].includes(role.toLowerCase())) refuse(`rule ${ruleId} in ${id} for role ${role}`);
    const ruleScore = xmlAttr(rule, 'score');
    if (ruleScore !== undefined && !/^\s*([+-]?\d+|[+-]?INFINITY)\s*$/.test(ruleScore)) refuse(`rule ${ruleId} in ${id} with score ${ruleScore}`);
    for (const m of ruleLocationScores(rule, nodes, nowSec, health, refuse)) {
      out.entries.push({ id: ruleId, node: m.node, score: m.score });
      out.exclusive?.push(m.node);
    }
  }
  return out;
}

/** Roles of a location that applies only to a resource about to be promoted. */
const PROMOTED_ROLES = ['promoted', 'master'];

/** crm_str_to_boolean: a boolean text, or undefined when it is none. */
function parseBoolean(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().toLowerCase();
  if (['true', 'on', 'yes', 'y', '1'].includes(t)) return true;
  if (['false', 'off', 'no', 'n', '0'].includes(t)) return false;
  return undefined;
}

/**
 * `unpack_simple_rsc_order` for a start → start order between two resources: its kind
 * (`get_ordering_type`: `kind`, else a deprecated `score` of 0 makes it Optional; an unknown kind
 * is Mandatory) and symmetry (`get_ordering_symmetry`). Other actions and resource sets are
 * refused.
 */
export function unpackOrder(o: RuleXml, refuse: (what: string) => void): { id: string; first: string; then: string; kind: 'Mandatory' | 'Optional' | 'Serialize'; symmetrical: boolean } | undefined {
  const id = xmlAttr(o, 'id') ?? 'rsc_order';
  if (xmlChildren(o, 'resource_set').length > 0) refuse(`rsc_order ${id} with a resource_set`);
  if (o['lifetime'] !== undefined) refuse(`lifetime in ${id}`);
  const first = xmlAttr(o, 'first');
  const then = xmlAttr(o, 'then');
  const firstAction = xmlAttr(o, 'first-action') ?? 'start';
  const thenAction = xmlAttr(o, 'then-action') ?? firstAction;
  if (firstAction !== 'start' || thenAction !== 'start') refuse(`rsc_order ${id} (${firstAction} then ${thenAction}; only start orders)`);
  for (const k of ['first-instance', 'then-instance', 'require-all']) if (xmlAttr(o, k) !== undefined) refuse(`${k} in rsc_order ${id}`);
  if (first === undefined || then === undefined) return undefined;
  return { id, first, then, ...orderKind(o) };
}

/** An `rsc_order`'s kind (`get_ordering_type`) and symmetry (`get_ordering_symmetry`). */
export function orderKind(o: RuleXml): { kind: 'Mandatory' | 'Optional' | 'Serialize'; symmetrical: boolean } {
  const kindText = xmlAttr(o, 'kind');
  const score = xmlAttr(o, 'score');
  let kind: 'Mandatory' | 'Optional' | 'Serialize' = 'Mandatory';
  if (kindText !== undefined) {
    const k = kindText.toLowerCase();
    kind = k === 'optional' ? 'Optional' : k === 'serialize' ? 'Serialize' : 'Mandatory';
  } else if (score !== undefined && char2score(score, { red: -1_000_000, yellow: 0, green: 0 }) === 0) kind = 'Optional';
  const sym = parseBoolean(xmlAttr(o, 'symmetrical'));
  const symmetrical = kind === 'Serialize' ? false : (sym ?? true);
  return { kind, symmetrical };
}
