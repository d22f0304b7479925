import { startDigest } from './digest';
import { ClonedGroupMember, ClonedGroupStatus } from './clone-groups';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  CloneSpec,
  ClusterObservedState,
  ClusterSpec,
  ColocationConstraint,
  FailureRecord,
  GroupSpec,
  LocationConstraint,
  NodeSpec,
  OrderConstraint,
  PromotableSpec,
  PromotedColocation,
  ResourceDefaults,
  ResourceObservation,
  ResourceSpec,
  UtilizationSpec,
} from './cluster.types';
import { INFINITY, addScores, parseScore } from './score.util';
import { assignResources, effectiveFailCount } from './assign';
import { parsePlacementStrategy, parseUtilizationValue } from './utilization';
import { RuleContext, char2score, evalRules, unpackLocation, unpackOrder } from './rules';
import { unpackOrderSets } from './order-sets';
import { readTicketStates, ticketEffect, unpackTicket } from './tickets';
import { healthScores, nodeHealth, parseHealthStrategy } from './health';
import { checkFenceable, fencingNodeState, newFencingFacts, resolveUnclean } from './fencing';
import { PROMOTABLE_OPERATIONS, promotedResult, promotionScores } from './promotable';
import { noQuorumPolicy } from './quorum';

/** What `readCib()` returns: everything `plan()` needs except `now`. */
export interface CibInput {
  spec: ClusterSpec;
  state: ClusterObservedState;
  history: FailureRecord[];
  /** The CIB's `execution-date` (epoch ms), when it has one: the `now` Pacemaker would use. */
  now?: number;
  /** Things outside the supported subset that were ignored (only with `lenient`). */
  ignored: string[];
}

/** Options of `readCib()`. */
export interface ReadCibOptions {
  /** Refuse documents larger than this many bytes (default 32 MiB). */
  maxBytes?: number;
  /** Ignore (and list) constructs outside the subset instead of refusing the document. */
  lenient?: boolean;
  /** Epoch ms to judge failure expiry by when the CIB has no `execution-date`. */
  now?: number;
}

/** A CIB that is unsafe, malformed, or outside the supported subset. */
export class CibError extends Error {
  override name = 'CibError';
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

type XmlNode = Record<string, unknown>;

const REPEATED = new Set([
  'node',
  'primitive',
  'nvpair',
  'rsc_location',
  'rsc_colocation',
  'rsc_order',
  'node_state',
  'lrm_resource',
  'lrm_rsc_op',
  'instance_attributes',
  'meta_attributes',
  'cluster_property_set',
  'group',
  'clone',
  'master',
  'bundle',
  'template',
  'rsc_ticket',
  'rule',
]);

function parseXml(xml: string, maxBytes: number): XmlNode {
  if (xml.length > maxBytes || (xml.length * 3 > maxBytes && Buffer.byteLength(xml, 'utf8') > maxBytes)) {
    throw new CibError(`CIB is larger than ${maxBytes} bytes`);
  }
  // No DTDs and no entity declarations at all: nothing to expand, nothing to fetch. Only
  // comments and CDATA may follow `<!`.
  for (let i = xml.indexOf('<!'); i >= 0; i = xml.indexOf('<!', i + 2)) {
    if (!xml.startsWith('<!--', i) && !xml.startsWith('<![CDATA[', i)) {
      throw new CibError('CIB must not contain a DOCTYPE or ENTITY declaration');
    }
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new CibError(`CIB is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    // Entities are decoded by attr() (only the five XML ones can occur without a DTD).
    processEntities: false,
    htmlEntities: false,
    isArray: (name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute && REPEATED.has(name),
  });
  try {
    return parser.parse(xml) as XmlNode;
  } catch (e) {
    // e.g. "Maximum nested tags exceeded": the validator accepts what the parser then refuses.
    throw new CibError(`CIB is not readable XML: ${(e as Error).message}`);
  }
}

function child(node: unknown, name: string): XmlNode | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const v = (node as XmlNode)[name];
  if (Array.isArray(v)) return v[0] as XmlNode | undefined;
  if (v === '' || v === undefined) return v === '' ? {} : undefined;
  return v as XmlNode;
}

function children(node: unknown, name: string): XmlNode[] {
  if (node === null || typeof node !== 'object') return [];
  const v = (node as XmlNode)[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (x === '' ? {} : (x as XmlNode)));
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(v: string): string {
  if (!v.includes('&')) return v;
  return v.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e]!;
  });
}

function attr(node: XmlNode | undefined, name: string): string | undefined {
  const v = node?.[name];
  return typeof v === 'string' ? decode(v) : undefined;
}

function isTrue(v: string | undefined): boolean {
  if (v === undefined) return false;
  const t = v.trim().toLowerCase();
  return ['true', 'on', 'yes', 'y', '1'].includes(t) || /^[1-9]\d*$/.test(t);
}

/** A boolean cluster option; a value Pacemaker would not read as a boolean is refused. */
function boolOption(config: Map<string, string>, name: string, dflt: boolean, refuse: (what: string) => void): boolean {
  const v = config.get(name);
  if (v === undefined) return dflt;
  const t = v.trim().toLowerCase();
  if (['true', 'on', 'yes', 'y', '1'].includes(t)) return true;
  if (['false', 'off', 'no', 'n', '0'].includes(t)) return false;
  refuse(`${name}=${v}`);
  return dflt;
}

/**
 * The name/value pairs of every `<setName>` under `node`, as Pacemaker unpacks them
 * (`pe__unpack_dataset_nvpairs`): sets in descending `score` order (the set with id `firstId`
 * always first; equal scores in reverse document order, as GLib sorts a prepended list), and the
 * first value of a name wins (the last with `overwrite`, as for transient node attributes); the
 * value `#default` drops what an earlier set gave. A set or pair given by `id-ref` is refused
 * through `refuse`; a set with a `<rule>` is refused too unless `rules` is given, in which case
 * the set counts only when its rules pass (see Note [Rules]).
 */
function nvpairs(
  node: XmlNode | undefined,
  setName: string,
  refuse?: (what: string) => void,
  firstId?: string,
  rules?: RuleContext,
  overwrite = false,
  into?: Map<string, string>,
): Map<string, string> {
  const out = into ?? new Map<string, string>();
  const sets = children(node, setName).map((set, i) => {
    const id = attr(set, 'id');
    const score = id !== undefined && id === firstId ? INFINITY + 1 : (parseScore(attr(set, 'score')) ?? 0);
    return { set, i, score };
  });
  sets.sort((a, b) => b.score - a.score || b.i - a.i);
  for (const { set } of sets) {
    if (refuse) {
      if (attr(set, 'id-ref') !== undefined) refuse(`<${setName} id-ref=${attr(set, 'id-ref')}>`);
      if (children(set, 'rule').length > 0) {
        if (!rules) refuse(`<${setName} ${attr(set, 'id') ?? ''}> with a <rule>`);
        else if (!evalRules(children(set, 'rule'), rules, refuse)) continue;
      }
    }
    for (const p of children(set, 'nvpair')) {
      if (refuse && attr(p, 'id-ref') !== undefined) refuse(`<nvpair id-ref=${attr(p, 'id-ref')}> in <${setName}>`);
      const name = attr(p, 'name');
      const value = attr(p, 'value');
      if (name === undefined || value === undefined) continue;
      if (value.toLowerCase() === '#default') out.delete(name);
      else if (overwrite || !out.has(name)) out.set(name, value);
    }
  }
  return out;
}

/** Pacemaker's `crm_get_msec` for the forms a CIB uses: bare number = seconds. */
function parseMsec(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(ms|msec|s|sec|m|min|h|hr)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const factor: Record<string, number> = { ms: 1, msec: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 };
  return n * factor[unit]!;
}

/**
 * Pacemaker's `crm_parse_interval_spec`: an ISO 8601 duration (P…), else `crm_get_msec`;
 * undefined when not read exactly here.
 */
function intervalSpecMs(text: string): number | undefined {
  const t = text.trim();
  if (!t.startsWith('P')) return parseMsec(t);
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(t);
  if (!m || t === 'P' || t.endsWith('T')) return undefined;
  const [w, d, h, min, sec] = m.slice(1).map((x) => Number(x ?? '0'));
  return ((((w! * 7 + d!) * 24 + h!) * 60 + min!) * 60 + sec!) * 1000;
}

/** An `<op>` of a primitive as failure handling matches it (Note [Failure handling]). */
interface OpConfig {
  name: string;
  intervalMs: number | undefined;
  onFail: string | undefined;
}

/**
 * The on-fail of a failed operation (`unpack_operation`): that of the `<op>` (even disabled) with its name
 * and interval (`find_rsc_op_entry`; its attribute, else its meta attribute), else op_defaults',
 * else restart. Undefined when it cannot be told exactly here: a stop, demote, migration or
 * notify (their defaults and fallbacks differ), or an `<op>` interval not read.
 */
function failedOpOnFail(op: XmlNode, configured: readonly OpConfig[], defaultOnFail: string | undefined): string | undefined {
  const task = attr(op, 'operation') ?? '';
  if (!['start', 'monitor', 'promote'].includes(task) || configured.some((c) => c.intervalMs === undefined)) return undefined;
  const interval = Number(attr(op, 'interval') ?? '0');
  const entry = configured.find((c) => c.name.toLowerCase() === task && c.intervalMs === interval);
  const value = (entry?.onFail ?? defaultOnFail ?? 'restart').toLowerCase();
  return value === 'demote' ? undefined : value;
}

/** Failure timeouts count in whole seconds in Pacemaker. */
function timeoutMs(text: string): number | undefined {
  const ms = parseMsec(text);
  return ms === undefined ? undefined : Math.floor(ms / 1000) * 1000;
}

/**
 * Reads the supported subset of a Pacemaker CIB: nodes (standby), primitives (priority,
 * stickiness, migration-threshold, failure-timeout, target-role), rsc_location / rsc_colocation /
 * rsc_order, rsc_defaults, cluster options, node_state (online), lrm history (where each resource
 * runs, and whether it failed) and the fail-count-* / last-failure-* transient attributes.
 *
 * Safe on untrusted input: size-limited, and any DOCTYPE or ENTITY declaration is refused.
 * Groups are read as their members plus `ClusterSpec.groups` (see Note [Groups] in groups.ts).
 * Anonymous clones of a primitive are read as their instances plus `ClusterSpec.clones` (see
 * Note [Clones] in clones.ts). Constructs that would change placement but are outside the subset (promotable clones, rules,
 * resource sets, roles, asymmetric clusters, unfencing…) are refused with a
 * CibError unless `lenient` is set, in which case they are skipped and listed in `ignored`.
 */
export function readCib(xml: string, options: ReadCibOptions = {}): CibInput {
  const doc = parseXml(xml, options.maxBytes ?? DEFAULT_MAX_BYTES);
  const ignored: string[] = [];
  const unsupported = (what: string): void => {
    if (!options.lenient) throw new CibError(`unsupported CIB construct: ${what}`);
    ignored.push(what);
  };

  const cib = child(doc, 'cib');
  if (!cib) throw new CibError('no <cib> element');
  const conf = child(cib, 'configuration');
  if (!conf) throw new CibError('no <configuration> element');

  // Configuration sections: anything not listed changes nothing Nephele plans (alerts, acls,
  // fencing-topology) or is refused here.
  for (const section of ['tags']) {
    if (child(conf, section) !== undefined && Object.keys(child(conf, section)!).length > 0) unsupported(`<${section}>`);
  }

  // Cluster options (see Note [Audited constructs]).
  const executionDate = Number(attr(cib, 'execution-date'));
  const nowSec = attr(cib, 'execution-date') !== undefined && Number.isFinite(executionDate) ? executionDate : Math.floor((options.now ?? Date.now()) / 1000);
  const ruleNow: RuleContext = { nowSec };
  const crmConfig = nvpairs(child(conf, 'crm_config'), 'cluster_property_set', unsupported, 'cib-bootstrap-options', ruleNow);
  // see Note [Opt-in clusters] (opt-in.ts)
  const symmetricCluster = boolOption(crmConfig, 'symmetric-cluster', true, unsupported);
  // see Note [Utilization] (utilization.ts)
  const placementStrategy = parsePlacementStrategy(crmConfig.get('placement-strategy'));
  if (placementStrategy === undefined) unsupported(`placement-strategy=${crmConfig.get('placement-strategy')}`);
  const utilization: UtilizationSpec = { strategy: placementStrategy ?? 'default', capacity: {}, use: {} };
  const readAmounts = (m: Map<string, string>, where: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [k, v] of m) {
      const n = parseUtilizationValue(v);
      if (n === undefined) unsupported(`utilization ${k}=${v} on ${where}`);
      else out[k] = n;
    }
    return out;
  };
  if (crmConfig.has('shutdown-lock') && isTrue(crmConfig.get('shutdown-lock'))) unsupported('shutdown-lock');
  if (crmConfig.has('stop-orphan-resources') && !isTrue(crmConfig.get('stop-orphan-resources'))) unsupported('stop-orphan-resources=false');
  if (crmConfig.has('is-managed-default') && !isTrue(crmConfig.get('is-managed-default'))) unsupported('is-managed-default=false');
  if ((parseScore(crmConfig.get('default-resource-stickiness')) ?? 0) !== 0) unsupported('default-resource-stickiness');
  const resourcesEl = child(conf, 'resources');
  const templateIds = expandTemplates(resourcesEl, unsupported);
  for (const id of templateIds) if (constraintNames(child(conf, 'constraints')).has(id)) unsupported(`a constraint naming template ${id}`);
  if (children(resourcesEl, 'bundle').length > 0) unsupported('<bundle> resources');
  // Utilization of clone instances (`pcmk__clone_add_utilization`) is not modelled.
  if (utilization.strategy !== 'default' && ['clone', 'master', 'bundle'].some((k) => children(resourcesEl, k).length > 0)) unsupported(`placement-strategy=${utilization.strategy} with clones`);
  const stonith = crmConfig.get('stonith-enabled');
  const stonithEnabled = stonith === undefined || isTrue(stonith);
  // Any primitive of class stonith (any case, at any depth) is a fencing device (`pe__unpack_resource`).
  const hasDevice = (el: XmlNode | undefined): boolean =>
    children(el, 'primitive').some((p) => attr(p, 'class')?.toLowerCase() === 'stonith') ||
    ['group', 'clone', 'master', 'bundle'].some((k) => children(el, k).some(hasDevice));
  const hasStonithDevice = hasDevice(resourcesEl) || isTrue(crmConfig.get('have-watchdog'));
  // Unfencing (`provides` or `requires` = unfencing in any resource's or rsc_defaults' meta
  // attributes) adds "on" fencing of every node before resources start there: not modelled.
  const unfencing = (el: XmlNode | undefined): boolean =>
    children(el, 'meta_attributes').some((m) => children(m, 'nvpair').some((p) => ['provides', 'requires'].includes(attr(p, 'name') ?? '') && attr(p, 'value') === 'unfencing')) ||
    ['primitive', 'group', 'clone', 'master', 'bundle', 'template'].some((k) => children(el, k).some(unfencing));
  if (unfencing(resourcesEl) || unfencing(child(conf, 'rsc_defaults'))) unsupported('unfencing (provides or requires=unfencing)');
  // Pacemaker leaves every resource unmanaged when fencing is enabled without a device.
  const allUnmanaged = stonithEnabled && !hasStonithDevice;
  if (isTrue(crmConfig.get('stop-all-resources'))) unsupported('stop-all-resources');
  if (crmConfig.get('maintenance-mode') !== undefined && isTrue(crmConfig.get('maintenance-mode'))) unsupported('maintenance-mode');
  const haveQuorum = attr(cib, 'have-quorum');
  const noQuorumPolicyText = crmConfig.get('no-quorum-policy');
  // see Note [Quorum] (quorum.ts)
  const noQuorum = noQuorumPolicy(isTrue(haveQuorum), noQuorumPolicyText, {
    stonithEnabled,
    panic: isTrue(attr(cib, 'no-quorum-panic')),
    refuse: unsupported,
  });
  // see Note [Fencing] (fencing.ts)
  const startupFencing = boolOption(crmConfig, 'startup-fencing', true, unsupported);
  const stonithActionText = (crmConfig.get('stonith-action') ?? 'reboot').toLowerCase();
  if (!['reboot', 'off', 'poweroff'].includes(stonithActionText)) unsupported(`stonith-action=${crmConfig.get('stonith-action')}`);
  const stonithAction = stonithActionText === 'reboot' ? 'reboot' : 'off';
  const quorate = noQuorum === undefined;

  // Nodes.
  const nodeNameById = new Map<string, string>();
  const nodeStandby = new Map<string, boolean>();
  const nodeAttributes = new Map<string, Map<string, string>>();
  const nodes: NodeSpec[] = [];
  for (const n of children(child(conf, 'nodes'), 'node')) {
    const id = attr(n, 'id');
    const uname = attr(n, 'uname') ?? id;
    if (id === undefined || uname === undefined) throw new CibError('<node> without id');
    if (attr(n, 'score') !== undefined) unsupported(`node ${uname} with a score`);
    const type = attr(n, 'type');
    if (type !== undefined && type !== 'member' && type !== 'normal') unsupported(`node ${uname} of type ${type}`);
    // see Note [Node attributes]
    const attrs = new Map<string, string>([
      ['#uname', uname],
      ['#id', id],
      ['#kind', 'cluster'],
      ['#is_dc', id === attr(cib, 'dc-uuid') ? 'true' : 'false'],
    ]);
    const clusterName = crmConfig.get('cluster-name');
    if (clusterName !== undefined) attrs.set('#cluster-name', clusterName);
    nvpairs(n, 'instance_attributes', unsupported, undefined, ruleNow, false, attrs);
    (utilization.capacity as Record<string, Record<string, number>>)[uname] = readAmounts(nvpairs(n, 'utilization', unsupported, undefined, ruleNow), `node ${uname}`);
    setSiteName(attrs, clusterName);
    nodeAttributes.set(uname, attrs);
    nodeNameById.set(id, uname);
    nodes.push({ name: uname });
  }

  // Transient node attributes, before anything reads node attributes (see Note [Node attributes]).
  const mergedNodes = new Set<string>();
  const nodeWeight = new Map<string, number>();
  for (const ns of children(child(cib, 'status'), 'node_state')) {
    const sid = attr(ns, 'id');
    const name = (sid !== undefined ? nodeNameById.get(sid) : undefined) ?? attr(ns, 'uname');
    if (name === undefined || !nodeAttributes.has(name) || mergedNodes.has(name)) continue;
    mergedNodes.add(name);
    // As the status loop below decides it (see Note [Rules] for why rules need it).
    const nsUp = stonithEnabled
      ? fencingNodeState({ inCcm: attr(ns, 'in_ccm'), crmd: attr(ns, 'crmd'), join: attr(ns, 'join'), expected: attr(ns, 'expected') }, false, isTrue).online
      : isTrue(attr(ns, 'in_ccm')) && attr(ns, 'crmd') === 'online' && (attr(ns, 'join') ?? 'member') === 'member';
    if (!nsUp) nodeWeight.set(name, -INFINITY);
    const merged = nodeAttributes.get(name)!;
    nvpairs(child(ns, 'transient_attributes'), 'instance_attributes', unsupported, undefined, ruleNow, true, merged);
    setSiteName(merged, crmConfig.get('cluster-name'));
  }

  // see Note [Node health]
  const healthStrategy = parseHealthStrategy(crmConfig.get('node-health-strategy'));
  if (healthStrategy === undefined) unsupported(`node-health-strategy=${crmConfig.get('node-health-strategy')}`);
  const health = healthScores(healthStrategy ?? 'none', crmConfig);

  // Defaults.
  const rscDefaults = nvpairs(child(conf, 'rsc_defaults'), 'meta_attributes', unsupported);
  auditMeta(rscDefaults, 'rsc_defaults', unsupported);
  const opDefaults = nvpairs(child(conf, 'op_defaults'), 'meta_attributes', unsupported);
  // Note [Failure handling]: an on-fail other than restart changes nothing until an operation
  // fails, so it is read as long as the resource has no failure (in its history or fail counts).
  const ON_FAIL = ['ignore', 'block', 'stop', 'restart', 'standby', 'fence', 'demote', 'restart-container'];
  const onFailOf = new Map<string, string>();
  const opConfigs = new Map<string, OpConfig[]>();
  const defaultOnFail = opDefaults.get('on-fail');
  if (defaultOnFail !== undefined && !ON_FAIL.includes(defaultOnFail)) unsupported(`on-fail=${defaultOnFail} in op_defaults`);
  const defaults: ResourceDefaults = {};
  // Scores in meta attributes are read with `char2score`, as Pacemaker does ("1.0" is 1, text
  // is 0); the value "default" leaves the built-in default, not rsc_defaults: refused.
  const num = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    if (v.trim().toLowerCase() === 'default') unsupported(`${what}=default`);
    return char2score(v, health);
  };
  const ds = num(rscDefaults.get('resource-stickiness'), 'resource-stickiness');
  if (ds !== undefined) defaults.stickiness = ds;
  const dm = num(rscDefaults.get('migration-threshold'), 'migration-threshold');
  if (dm !== undefined) defaults.migrationThreshold = dm;
  const dft = rscDefaults.get('failure-timeout');
  if (dft !== undefined) defaults.failureTimeoutMs = timeoutMs(dft) ?? 0;
  const defaultRole = rscDefaults.get('target-role');

  // Resources.
  const resources: ResourceSpec[] = [];
  const metaOf = new Map<string, Map<string, string>>();
  const agentOf = new Map<string, { class?: string; provider?: string; type?: string }>();
  const primitiveEl = new Map<string, XmlNode>();
  const groups: GroupSpec[] = [];
  const readPrimitive = (p: XmlNode, group?: { id: string; meta: Map<string, string> }): void => {
    const id = attr(p, 'id');
    if (id === undefined) throw new CibError('<primitive> without id');
    if (attr(p, 'class') === 'ocf' && attr(p, 'provider') === 'pacemaker' && attr(p, 'type') === 'remote') unsupported(`remote node connection ${id}`);
    if (!/^[A-Za-z0-9_.:-]+$/.test(id)) unsupported(`resource id ${JSON.stringify(id)} (fail-count attribute names could not be matched exactly)`);
    const meta = nvpairs(p, 'meta_attributes', unsupported);
    if (group) {
      if (meta.has('allow-unhealthy-nodes')) unsupported(`allow-unhealthy-nodes on ${id} in group ${group.id}`);
      // A member inherits the group's meta attributes it does not set (`get_meta_attributes`).
      for (const [k, v] of group.meta) if (!meta.has(k)) meta.set(k, v);
    }
    metaOf.set(id, meta);
    agentOf.set(id, { class: attr(p, 'class'), provider: attr(p, 'provider'), type: attr(p, 'type') });
    primitiveEl.set(id, p);
    auditMeta(meta, `primitive ${id}`, unsupported);
    (utilization.use as Record<string, Record<string, number>>)[id] = readAmounts(nvpairs(p, 'utilization', unsupported), `primitive ${id}`);
    const configured: OpConfig[] = [];
    opConfigs.set(id, configured);
    for (const op of children(child(p, 'operations'), 'op')) {
      const onFail = attr(op, 'on-fail') ?? nvpairs(op, 'meta_attributes', unsupported).get('on-fail');
      configured.push({ name: attr(op, 'name') ?? '', intervalMs: intervalSpecMs(attr(op, 'interval') ?? '0'), onFail });
      // on-fail=fence on a stop is what a failed stop does anyway with fencing (see failedStopOk).
      const fenceStop = onFail === 'fence' && attr(op, 'name') === 'stop' && stonithEnabled && hasStonithDevice;
      if (onFail !== undefined && !ON_FAIL.includes(onFail)) unsupported(`on-fail=${onFail} on ${id}`);
      else if (onFail !== undefined && onFail !== 'restart' && !fenceStop) onFailOf.set(id, onFail);
    }
    if (defaultOnFail !== undefined && defaultOnFail !== 'restart' && !onFailOf.has(id)) onFailOf.set(id, defaultOnFail);
    if (attr(child(p, 'operations'), 'id-ref') !== undefined) unsupported(`<operations id-ref> on ${id}`);
    const r: ResourceSpec = { id };
    const priority = num(meta.get('priority') ?? rscDefaults.get('priority'), `priority of ${id}`);
    if (priority !== undefined) r.priority = priority;
    const stickiness = num(meta.get('resource-stickiness'), `resource-stickiness of ${id}`);
    if (stickiness !== undefined) r.stickiness = stickiness;
    const threshold = num(meta.get('migration-threshold'), `migration-threshold of ${id}`);
    if (threshold !== undefined) r.migrationThreshold = threshold;
    const ft = meta.get('failure-timeout');
    if (ft !== undefined) r.failureTimeoutMs = timeoutMs(ft) ?? 0;
    const role = meta.get('target-role') ?? defaultRole;
    if (role !== undefined) {
      const t = role.toLowerCase();
      if (t === 'stopped') r.targetRole = 'Stopped';
      else if (t === 'started') {
        if (meta.has('target-role')) r.targetRole = 'Started';
      } else if (!['promoted', 'unpromoted', 'master', 'slave'].includes(t)) unsupported(`target-role=${role} on ${id}`);
      // Promoted and Unpromoted place as Started does (see Note [Promotable clones] in promotable.ts).
    }
    const managed = meta.get('is-managed') ?? rscDefaults.get('is-managed');
    if (managed !== undefined && !isTrue(managed)) {
      r.managed = false;
    }
    resources.push(r);
  };
  // Primitives, groups and clones in CIB order: a group's members, a clone's instances take its
  // place (see Note [Groups], Note [Clones]).
  const clones: CloneSpec[] = [];
  const clonePrimitive = new Map<string, CloneSpec>();
  const clonedGroupMember = new Map<string, ClonedGroupMember>();
  const clonedGroupIds = new Set<string>();
  for (const { kind, el } of topLevelResources(xml, resourcesEl)) {
    if (kind === 'primitive') {
      readPrimitive(el);
      continue;
    }
    if (kind === 'clone' || kind === 'master') {
      const c = readClone(
        el,
        { nodes: nodes.length, rscDefaults, refuse: unsupported, nvpairs: (x) => nvpairs(x, 'meta_attributes', unsupported), auditMeta: (m, w) => auditMeta(m, w, unsupported), num },
        kind === 'master',
      );
      if (!c) continue;
      if (children(el, 'group').length > 0) {
        const g = readClonedGroup(c, { rscDefaults, refuse: unsupported, nvpairs: (x) => nvpairs(x, 'meta_attributes', unsupported), auditMeta: (m, w) => auditMeta(m, w, unsupported), num }, (p, meta) => {
          const before = resources.length;
          readPrimitive(p, meta);
          const r = resources.pop()!;
          if (resources.length !== before) throw new CibError(`clone ${c.id} could not be read`);
          return r;
        });
        resources.push(...g.resources);
        groups.push(...g.groups);
        clones.push(g.clone);
        for (const [m, info] of g.members) clonedGroupMember.set(m, info);
        clonedGroupIds.add(g.groupId);
        metaOf.set(c.id, c.meta);
        continue;
      }
      const before = resources.length;
      readPrimitive(c.primitive, { id: c.id, meta: c.meta });
      const r = resources.pop()!;
      if (resources.length !== before) throw new CibError(`clone ${c.id} could not be read`);
      const spec: CloneSpec = { id: c.id, instances: [], max: c.max };
      if (c.promotedMax !== undefined) spec.promotable = { promotedMax: c.promotedMax, scores: {} };
      const eff = (k: string): string | undefined => c.meta.get(k) ?? rscDefaults.get(k);
      if (isTrue(eff('interleave'))) spec.interleave = true;
      if (eff('clone-min') !== undefined) spec.min = scanMinInt(eff('clone-min')!);
      if (c.unique) spec.unique = true;
      if (c.nodeMax !== undefined) spec.nodeMax = c.nodeMax;
      for (let i = 0; i < Math.max(1, c.max); i++) {
        resources.push({ ...r, id: `${r.id}:${i}` });
        (spec.instances as string[]).push(`${r.id}:${i}`);
      }
      if (c.priority !== undefined) spec.priority = c.priority;
      clones.push(spec);
      clonePrimitive.set(r.id, spec);
      metaOf.set(c.id, c.meta);
      continue;
    }
    const gid = attr(el, 'id');
    if (gid === undefined) throw new CibError('<group> without id');
    if (!/^[A-Za-z0-9_.:-]+$/.test(gid)) unsupported(`group id ${JSON.stringify(gid)}`);
    const gmeta = nvpairs(el, 'meta_attributes', unsupported);
    auditMeta(gmeta, `group ${gid}`, unsupported);
    for (const k of ['ordered', 'collocated']) if (gmeta.has(k) && !isTrue(gmeta.get(k))) unsupported(`${k}=${gmeta.get(k)} on group ${gid}`);
    if (gmeta.has('promotable')) unsupported(`promotable on group ${gid}`);
    for (const k of Object.keys(el)) {
      if (!['primitive', 'meta_attributes', 'instance_attributes', 'id', 'description', '#text'].includes(k)) unsupported(`<${k}> in group ${gid}`);
    }
    const members = children(el, 'primitive');
    if (members.length === 0) unsupported(`empty group ${gid}`);
    const before = resources.length;
    for (const p of members) readPrimitive(p, { id: gid, meta: gmeta });
    // A partly unmanaged group stalls Pacemaker's transition on its unmanaged members' actions.
    const unmanagedMembers = resources.slice(before).filter((r) => r.managed === false);
    if (unmanagedMembers.length > 0 && unmanagedMembers.length < resources.length - before) {
      unsupported(`is-managed=false on ${unmanagedMembers.map((r) => r.id).join(', ')} in group ${gid} (not on every member)`);
    }
    const g: GroupSpec = { id: gid, members: resources.slice(before).map((r) => r.id) };
    const gp = num(gmeta.get('priority') ?? rscDefaults.get('priority'), `priority of ${gid}`);
    if (gp !== undefined) g.priority = gp;
    metaOf.set(gid, gmeta);
    groups.push(g);
  }
  const resourceIds = new Set(resources.map((r) => r.id));
  const groupIds = new Set(groups.map((g) => g.id));
  const groupOf = new Map<string, string>();
  for (const g of groups) for (const m of g.members) groupOf.set(m, g.id);
  for (const id of groupIds) if (resourceIds.has(id)) unsupported(`group ${id} with the id of a primitive`);
  const cloneIds = new Set(clones.map((c) => c.id));
  const promotablePrimitives = new Set([...clonePrimitive].filter(([, c]) => c.promotable !== undefined).map(([p]) => p));
  const cloneOfInstance = new Map<string, string>();
  for (const c of clones) for (const i of c.instances) cloneOfInstance.set(i, c.id);
  for (const id of cloneIds) if (resourceIds.has(id) || groupIds.has(id) || clonePrimitive.has(id)) unsupported(`clone ${id} with the id of another resource`);
  // Constraints on clones: locations only, and never on the cloned primitive itself.
  const cloneConstraint = (kind: string, id: string, names: Array<string | undefined>): boolean => {
    const hit = names.find((n) => n !== undefined && (cloneIds.has(n) || clonePrimitive.has(n) || cloneOfInstance.has(n) || clonedGroupIds.has(n) || clonedGroupMember.has(n) || groupOf.has(n) && cloneOfInstance.has(groupOf.get(n)!)));
    if (hit === undefined) return false;
    if (clonedGroupIds.has(hit) || clonedGroupMember.has(hit)) unsupported(`${kind} ${id} with ${hit} in a cloned group`);
    const ofGroups = clones.find((c) => c.id === hit && clonedGroupMember.size > 0 && [...clonedGroupMember.values()].some((m) => m.clone === c));
    if (ofGroups) unsupported(`${kind} ${id} with clone ${hit} of a group`);
    unsupported(`${kind} ${id} with ${cloneIds.has(hit) ? 'clone' : 'the primitive of clone'} ${hit}`);
    return true;
  };

  // Constraints.
  const cons = child(conf, 'constraints');
  const constraintKinds = new Set(['rsc_location', 'rsc_colocation', 'rsc_order', 'rsc_ticket']);
  const ticketDeps = children(cons, 'rsc_ticket').flatMap((t) => unpackTicket(t, stonithEnabled, unsupported)).filter((d) => cloneIds.has(d.resource) || !cloneConstraint('rsc_ticket', d.id, [d.resource]));
  for (const k of Object.keys(cons ?? {})) {
    if (!constraintKinds.has(k) && !k.startsWith('#')) unsupported(`<${k}>`);
  }
  const locations: LocationConstraint[] = [];
  if (healthStrategy !== undefined && healthStrategy !== 'none') {
    for (const n of nodes) {
      const h = nodeHealth(healthStrategy, nodeAttributes.get(n.name)!, crmConfig, health, addScores);
      if (h === 0) continue;
      // Per top-level resource: a group's is its own (so it reaches its first member only), a
      // clone's too (it reaches every instance).
      for (const r of resources) {
        const g = groupOf.get(r.id);
        if (g !== undefined && groups.find((x) => x.id === g)!.members[0] !== r.id) continue;
        const c = cloneOfInstance.get(r.id);
        if (c !== undefined && clones.find((x) => x.id === c)!.instances[0] !== r.id) continue;
        const id = g ?? c ?? r.id;
        if (h < 0 && isTrue(metaOf.get(id)?.get('allow-unhealthy-nodes') ?? rscDefaults.get('allow-unhealthy-nodes'))) continue;
        locations.push({ id: `node-health-strategy=${healthStrategy}`, resource: id, node: n.name, score: h });
      }
    }
  }
  const ruleNodes = nodes.map((n) => ({ name: n.name, attrs: nodeAttributes.get(n.name)!, weight: nodeWeight.get(n.name) ?? 0 }));
  const exclusive = new Map<string, Set<string>>();
  const promotedLocations = new Map<string, Array<{ id: string; node: string; score: number }>>();
  for (const l of children(cons, 'rsc_location')) {
    const u = unpackLocation(l, ruleNodes, nowSec, health, unsupported);
    if (u && (clonedGroupIds.has(u.resource) || clonedGroupMember.has(u.resource))) unsupported(`rsc_location on ${u.resource} in a cloned group`);
    if (u && (clonePrimitive.has(u.resource) || cloneOfInstance.has(u.resource))) unsupported(`rsc_location on ${u.resource} in clone ${(clonePrimitive.get(u.resource)?.id ?? cloneOfInstance.get(u.resource))!}`);
    if (!u || !(resourceIds.has(u.resource) || groupIds.has(u.resource) || cloneIds.has(u.resource))) continue;
    for (const e of u.entries) locations.push({ id: e.id, resource: u.resource, node: e.node, score: e.score });
    // see Note [Colocation with the promoted role] (promotable.ts)
    if (u.promoted && cloneIds.has(u.resource)) promotedLocations.set(u.resource, [...(promotedLocations.get(u.resource) ?? []), ...u.promoted]);
    if (u.exclusive) {
      const set = exclusive.get(u.resource) ?? new Set<string>();
      for (const n of u.exclusive) set.add(n);
      exclusive.set(u.resource, set);
    }
  }
  // resource-discovery=exclusive bans the resource from every node no such location names
  // (`apply_exclusive_discovery`); −INFINITY absorbs, so where it goes in the list is immaterial.
  // It is applied per top-level resource: a group's bans every member (where neither the group's
  // nor the member's own exclusive locations list the node), a member's alone bans nothing.
  for (const [rid, set] of exclusive) {
    if (groupOf.has(rid)) continue;
    const members = groups.find((g) => g.id === rid)?.members ?? [rid];
    for (const m of members) {
      const own = m === rid ? undefined : exclusive.get(m);
      for (const n of nodes) {
        if (!set.has(n.name) && !own?.has(n.name)) locations.push({ id: `resource-discovery=exclusive of ${rid}`, resource: m, node: n.name, score: -INFINITY });
      }
    }
  }
  const colocations: ColocationConstraint[] = [];
  const promotedColocations: PromotedColocation[] = [];
  const promotedWith: PromotedColocation[] = [];
  for (const c of children(cons, 'rsc_colocation')) {
    const id = attr(c, 'id') ?? 'rsc_colocation';
    const rsc = attr(c, 'rsc');
    const withRsc = attr(c, 'with-rsc');
    const score = parseScore(attr(c, 'score'));
    const roles = ['rsc-role', 'with-rsc-role'].map((k) => attr(c, k)).filter((v) => v !== undefined && v !== 'Started');
    if (roles.length > 0) {
      // see Note [Colocation with the promoted role] (promotable.ts)
      const withRole = (attr(c, 'with-rsc-role') ?? '').toLowerCase();
      // The clone's promoted role with a primitive or group (see Note [Promoted with a resource]).
      const ownRole = (attr(c, 'rsc-role') ?? '').toLowerCase();
      const dependentClone = rsc !== undefined ? clones.find((x) => x.id === rsc) : undefined;
      if (
        ['promoted', 'master'].includes(ownRole) &&
        ['started', ''].includes(withRole) &&
        dependentClone?.promotable &&
        withRsc !== undefined &&
        (resourceIds.has(withRsc) || groupIds.has(withRsc)) &&
        !groupOf.has(withRsc) &&
        !cloneOfInstance.has(withRsc) &&
        score !== undefined &&
        score > 0 &&
        attr(c, 'node-attribute') === undefined &&
        c['lifetime'] === undefined
      ) {
        const pw: PromotedColocation = { id, resource: withRsc, clone: dependentClone.id, score };
        if (attr(c, 'influence') !== undefined) pw.influence = isTrue(attr(c, 'influence'));
        promotedWith.push(pw);
        continue;
      }
      const promotedRole = ['promoted', 'master', 'unpromoted', 'slave'].includes(withRole) && ['started', ''].includes((attr(c, 'rsc-role') ?? '').toLowerCase());
      const target = withRsc !== undefined ? clones.find((x) => x.id === withRsc) : undefined;
      const why = !promotedRole
        ? `with role ${roles.join('/')}`
        : !target?.promotable
          ? 'with role Promoted of a resource other than a promotable clone of a primitive'
          : attr(c, 'node-attribute') !== undefined
            ? 'with role Promoted and node-attribute'
            : rsc === undefined || score === undefined || !(resourceIds.has(rsc) || groupIds.has(rsc)) || groupOf.has(rsc) || cloneOfInstance.has(rsc)
              ? 'with role Promoted of a dependent other than a primitive or group'
              : undefined;
      if (why !== undefined) {
        unsupported(`rsc_colocation ${id} ${why}`);
        continue;
      }
      if (c['lifetime'] !== undefined) unsupported(`lifetime in ${id}`);
      const pc: PromotedColocation = { id, resource: rsc!, clone: target!.id, score: score! };
      if (withRole === 'unpromoted' || withRole === 'slave') pc.role = 'Unpromoted';
      if (attr(c, 'influence') !== undefined) pc.influence = isTrue(attr(c, 'influence'));
      promotedColocations.push(pc);
      continue;
    }
    if (rsc === undefined || withRsc === undefined || score === undefined || attr(c, 'node-attribute') !== undefined) {
      unsupported(`rsc_colocation ${id} (only rsc + with-rsc + score)`);
      continue;
    }
    if (c['lifetime'] !== undefined) unsupported(`lifetime in ${id}`);
    // A primitive's mandatory colocation with a clone (see Note [Colocation with a clone] in clone-colocation.ts).
    if (cloneIds.has(withRsc) && resourceIds.has(rsc) && !groupOf.has(rsc) && !cloneOfInstance.has(rsc) && score >= INFINITY) {
      const col: ColocationConstraint = { id, resource: rsc, withResource: withRsc, score };
      if (attr(c, 'influence') !== undefined && !isTrue(attr(c, 'influence'))) unsupported(`rsc_colocation ${id} with clone ${withRsc} and influence=false`);
      colocations.push(col);
      continue;
    }
    if (cloneConstraint('rsc_colocation', id, [rsc, withRsc])) continue;
    const [ga, gb] = [groupOf.get(rsc) ?? (groupIds.has(rsc) ? rsc : undefined), groupOf.get(withRsc) ?? (groupIds.has(withRsc) ? withRsc : undefined)];
    if (ga !== undefined && ga === gb) unsupported(`rsc_colocation ${id} inside group ${ga}`);
    const col: ColocationConstraint = { id, resource: rsc, withResource: withRsc, score };
    const influence = attr(c, 'influence');
    if (influence !== undefined) col.influence = isTrue(influence);
    colocations.push(col);
  }
  for (const c of colocations) {
    if (!cloneIds.has(c.withResource)) continue;
    const others = colocations.filter((x) => x !== c && [x.resource, x.withResource].some((n) => n === c.resource || n === c.withResource));
    if (others.length > 0) unsupported(`rsc_colocation ${c.id} with clone ${c.withResource} besides another colocation of ${c.resource} or ${c.withResource}`);
  }
  const orders: OrderConstraint[] = [];
  const isEntity = (x: string): boolean => resourceIds.has(x) || groupIds.has(x);
  // see Note [Ordered sets] (order-sets.ts)
  // Orders of promote and demote that change no placement (see Note [Colocation with the promoted role]).
  const roleOrderFirsts = new Set<string>();
  const placementFree = (o: XmlNode): boolean => {
    const r = roleOrder(o, promotedColocations, (id) => clones.find((x) => x.id === id)?.promotable !== undefined && !promotedColocations.some((pc) => pc.clone === id));
    if (r !== undefined) roleOrderFirsts.add(r);
    return r !== undefined;
  };
  const pairOrders = children(cons, 'rsc_order')
    .filter((o) => !placementFree(o))
    .flatMap((o) => (children(o, 'resource_set').length > 0 ? unpackOrderSets(o, isEntity, unsupported) : [unpackOrder(o, unsupported)]));
  for (const u of pairOrders) {
    if (!u) continue;
    // Orders may name a clone (see Note [Clone orders] in clones.ts), never its primitive.
    if (cloneConstraint('rsc_order', u.id, [u.first, u.then].filter((n) => !cloneIds.has(n)))) continue;
    if (u.kind === 'Serialize' && (cloneIds.has(u.first) || cloneIds.has(u.then))) unsupported(`Serialize rsc_order ${u.id} with a clone`);
    // Every kind carries `pe_order_optional`, and `order_actions` drops an ordering between two
    // actions already ordered with a common flag: the first order of a pair wins (CIB order).
    if (orders.some((x) => x.first === u.first && x.then === u.then)) continue;
    // An unmanaged resource never carries out the restart an order implies, and Pacemaker's
    // transition then stalls on it: outside the subset.
    // A group with an unmanaged member counts as unmanaged here.
    const unmanagedId = (x: string): boolean => resources.some((r) => (r.id === x || groupOf.get(r.id) === x || cloneOfInstance.get(r.id) === x) && r.managed === false);
    const unmanaged = [u.first, u.then].filter(unmanagedId);
    if (unmanaged.length > 0) unsupported(`rsc_order ${u.id} with unmanaged ${unmanaged.join(', ')}`);
    if (groupIds.has(u.first) || groupIds.has(u.then)) {
      if (u.kind === 'Serialize') unsupported(`${u.kind} ${u.symmetrical ? '' : 'asymmetrical '}rsc_order ${u.id} with a group`);
    }
    // Between members of one group (or a group and its member): the group's own order already
    // orders them, and the two together loop or stall in Pacemaker's graph.
    const [ga, gb] = [groupOf.get(u.first) ?? u.first, groupOf.get(u.then) ?? u.then];
    if (ga === gb && (groupIds.has(ga) || groupOf.has(u.first))) unsupported(`rsc_order ${u.id} inside group ${ga}`);
    orders.push(u);
  }
  for (const o of orders) {
    if (roleOrderFirsts.has(o.then) || promotedColocations.some((pc) => pc.clone === o.then)) unsupported(`rsc_order ${o.id} starting promotable clone ${o.then} (with the promoted role of which something is colocated) after ${o.first}`);
  }
  const clonesOfGroups = new Set([...clonedGroupMember.values()].map((m) => m.clone.id));
  for (const o of orders) for (const n of [o.first, o.then]) if (clonesOfGroups.has(n) && (o.kind ?? 'Mandatory') === 'Serialize') unsupported(`Serialize rsc_order ${o.id} with clone ${n} of a group`);
  for (const t of ticketDeps) if (clonesOfGroups.has(t.resource)) unsupported(`rsc_ticket ${t.id} with clone ${t.resource} of a group`);
  const loop = orderLoop(orders.map((o) => [groupOf.get(o.first) ?? o.first, groupOf.get(o.then) ?? o.then]));
  if (loop) unsupported(`rsc_order constraints that form a loop (${loop.join(' → ')})`);

  // Status.
  const rscById = new Map(resources.map((r) => [r.id, r]));
  const legacyFailCounts = compareVersion(attr(cib, 'crm_feature_set'), '3.0.13') < 0;
  // What a resource's fail counts are matched with depends on the resource only: worked out once,
  // not once per node.
  const failInfo = new Map<ResourceSpec, { clone?: CloneSpec; baseId: string; fc: RegExp; lf: RegExp }>();
  const failInfoOf = (rsc: ResourceSpec): { clone?: CloneSpec; baseId: string; fc: RegExp; lf: RegExp } => {
    let info = failInfo.get(rsc);
    if (!info) {
      // A globally-unique clone's instances have their own fail counts, banning them alone.
      const clone = clones.find((c) => c.id === cloneOfInstance.get(rsc.id) && c.unique !== true);
      const baseId = clone ? rsc.id.replace(/:\d+$/, '') : rsc.id;
      info = { baseId, fc: failCountPattern(baseId, 'fail-count', legacyFailCounts, clone !== undefined), lf: failCountPattern(baseId, 'last-failure', legacyFailCounts, clone !== undefined) };
      if (clone) info.clone = clone;
      failInfo.set(rsc, info);
    }
    return info;
  };
  const online: Record<string, boolean> = {};
  const running: Record<string, ResourceObservation | undefined> = {};
  const history: FailureRecord[] = [];
  const orphans = new Map<string, string>();
  // Ids of every resource configured at any depth (clone instances `id:N` are not orphans).
  const configuredIds = new Set<string>();
  const collectIds = (el: XmlNode | undefined): void => {
    for (const kind of ['primitive', 'group', 'clone', 'master', 'bundle']) {
      for (const c of children(el, kind)) {
        const cid = attr(c, 'id');
        if (cid !== undefined) configuredIds.add(cid);
        collectIds(c);
      }
    }
  };
  collectIds(resourcesEl);
  const seenNodes = new Set<string>();
  const claimedInstances = new Set<string>();
  const clonedGroupStatus = new ClonedGroupStatus();
  const knownOn = new Map<string, Set<string>>();
  const promotedNow = new Set<string>();
  const cloneName = new Map<string, string>();
  const fencing = newFencingFacts();
  for (const ns of children(child(cib, 'status'), 'node_state')) {
    const id = attr(ns, 'id');
    const name = (id !== undefined ? nodeNameById.get(id) : undefined) ?? attr(ns, 'uname');
    if (name === undefined || !nodes.some((n) => n.name === name)) continue;
    if (seenNodes.has(name)) unsupported(`two node_state entries for ${name}`);
    seenNodes.add(name);
    const inCcm = attr(ns, 'in_ccm');
    if (inCcm !== undefined && !/^(true|false|yes|no|on|off|0|1)$/i.test(inCcm.trim())) unsupported(`node_state in_ccm=${inCcm} on ${name}`);
    const join = attr(ns, 'join') ?? 'member';
    if (join !== 'member' && join !== 'down' && isTrue(inCcm) && attr(ns, 'crmd') === 'online') unsupported(`node ${name} pending (join=${join})`);
    // see Note [Shutting down]
    const shutdownValue = nodeAttributes.get(name)!.get('shutdown');
    const shuttingDown = shutdownValue !== undefined && shutdownValue !== '0';
    let up = isTrue(inCcm) && attr(ns, 'crmd') === 'online' && join === 'member';
    if (stonithEnabled && shuttingDown) up = (attr(ns, 'crmd') ?? '').toLowerCase() === 'online';
    else if (stonithEnabled) {
      const fs = fencingNodeState({ inCcm, crmd: attr(ns, 'crmd'), join: attr(ns, 'join'), expected: attr(ns, 'expected') }, false, isTrue);
      // A pending node is online in standby, and Pacemaker blocks actions that wait on it (measured:
      // the stop of what runs there, and starts elsewhere): outside the subset.
      if (fs.pending) unsupported(`node ${name} pending (expected=${attr(ns, 'expected') ?? 'down'}, join=${attr(ns, 'join') ?? ''})`);
      up = fs.online && !fs.unclean && !fs.pending;
      if (fs.unclean) fencing.unclean.set(name, { reason: fs.unclean, online: fs.online });
    }
    online[name] = up;
    // A failed stop with fencing (on-fail=fence, the default for stops then) makes the node
    // unclean ("… failed there"): everything on it is then active on a node to fence.
    const failedStopOk = (rid: string): boolean => {
      const r = rscById.get(rid);
      return up && stonithEnabled && hasStonithDevice && quorate && r !== undefined && r.managed !== false && (r.failureTimeoutMs ?? defaults.failureTimeoutMs ?? 0) === 0;
    };
    for (const lr of children(child(child(ns, 'lrm'), 'lrm_resources'), 'lrm_resource')) {
      const rid = attr(lr, 'id');
      if (rid === undefined || !failedStopOk(rid) || !lastOpIsFailedStop(children(lr, 'lrm_rsc_op'))) continue;
      fencing.unclean.set(name, { reason: `${rid} failed there`, online: true });
      up = false;
      online[name] = false;
      break;
    }
    const merged = nodeAttributes.get(name)!;
    if (isTrue(merged.get('standby')) || (up && shuttingDown)) nodeStandby.set(name, true);
    if (isTrue(merged.get('maintenance'))) unsupported(`node ${name} in maintenance`);
    for (const k of ['terminate']) {
      const v = merged.get(k);
      if (v !== undefined && v !== '0' && v !== '' && v !== 'false') unsupported(`node attribute ${k}=${v} on ${name}`);
    }
    // see Note [Fail counts]
    const nodeFails = new Map<string, { count: number; last: number }>();
    const failAttrs = failAttributesById(merged, legacyFailCounts);
    for (const m of clonedGroupMember.keys()) {
      if (failAttrs.byId.has(m) || failAttrs.all.some(([k]) => k.includes(m))) unsupported(`fail count of ${m} in a cloned group`);
    }
    for (const rsc of resources) {
      if (groupOf.has(rsc.id) && clonedGroupMember.has(rsc.id.replace(/:\d+$/, ''))) continue;
      // An anonymous clone's fail count is its primitive's, with or without an instance number;
      // it counts for the clone (see Note [Clones] in clones.ts).
      const { clone, baseId, fc, lf } = failInfoOf(rsc);
      if (clone && clone.instances[0] !== rsc.id) continue;
      let count = 0;
      let last = 0;
      for (const [k, v] of baseId.includes('.') ? failAttrs.all : (failAttrs.byId.get(baseId) ?? [])) {
        if (fc.test(k)) count = addScores(count, parseScore(v) ?? 0);
        else if (lf.test(k)) {
          const t = /^\s*[+-]?\d+/.exec(v);
          if (t && Number(t[0]) > last) last = Number(t[0]);
        }
      }
      if (count === 0) continue;
      for (const id of clone?.instances ?? [rsc.id]) nodeFails.set(id, { count, last });
      const rec: FailureRecord = { resource: clone?.id ?? rsc.id, node: name, count };
      if (last > 0) rec.lastFailureAt = last * 1000;
      history.push(rec);
    }
    const clonesHere = new Set<string>();
    for (const lr of children(child(child(ns, 'lrm'), 'lrm_resources'), 'lrm_resource')) {
      let rid = attr(lr, 'id');
      if (rid === undefined) continue;
      if (attr(lr, 'container') !== undefined) unsupported(`lrm_resource ${rid} in a container`);
      if (attr(lr, 'shutdown-lock') !== undefined) unsupported(`shutdown-lock on ${rid}`);
      const ops = children(lr, 'lrm_rsc_op');
      if (onFailOf.has(rid) || onFailOf.has(rid.replace(/:\d+$/, ''))) {
        const configured = opConfigs.get(rid) ?? opConfigs.get(rid.replace(/:\d+$/, '')) ?? [];
        for (const op of ops.filter(opFailed)) {
          const onFail = failedOpOnFail(op, configured, defaultOnFail) ?? onFailOf.get(rid) ?? onFailOf.get(rid.replace(/:\d+$/, ''));
          if (onFail !== 'restart') unsupported(`on-fail=${onFail} on ${rid} with a failed operation`);
        }
      }
      auditOps(ops, rid, unsupported, fencing.unclean.get(name)?.reason === `${rid} failed there`, promotablePrimitives.has(rid.replace(/:\d+$/, '')));
      const member = clonedGroupMember.get(rid.replace(/:\d+$/, ''));
      if (member) {
        // see Note [Clones of groups] (clone-groups.ts)
        const inst = clonedGroupStatus.instanceOf(name, member, rid.replace(/:\d+$/, ''), (i) => running[i] !== undefined);
        if (inst === undefined) {
          if (lastOpState(ops, true) !== 'stopped' || lastOpState(ops, false) !== 'stopped') unsupported(`orphan ${rid} of cloned group active on ${name}`);
          continue;
        }
        rid = inst;
      }
      // A clone's history on a node is that of the first instance active nowhere yet (Note [Clones]).
      const cloneSpec = clonePrimitive.get(rid.replace(/:\d+$/, ''));
      if (cloneSpec?.unique) {
        // A globally-unique clone's history names its instance; any other is an orphan's.
        if (!cloneSpec.instances.includes(rid)) {
          if (lastOpState(ops, true) !== 'stopped' || lastOpState(ops, false) !== 'stopped') unsupported(`orphan ${rid} of globally-unique clone ${cloneSpec.id} active on ${name}`);
          continue;
        }
      } else if (cloneSpec) {
        // A history that leaves it stopped takes no instance (`find_anonymous_clone` maps the
        // next one to the same inactive instance); a second active one would be an orphan.
        if (lastOpState(ops, true) !== 'stopped' || lastOpState(ops, false) !== 'stopped') {
          if (clonesHere.has(cloneSpec.id)) unsupported(`several active histories of clone ${cloneSpec.id} on node ${name}`);
          clonesHere.add(cloneSpec.id);
        }
        const free = cloneSpec.instances.find((i) => !claimedInstances.has(i));
        if (free === undefined) {
          if (lastOpState(ops, true) !== 'stopped') unsupported(`clone ${cloneSpec.id} active on more nodes than clone-max`);
          // An orphan instance, known there (see Note [Promotable clones] in promotable.ts).
          if (cloneSpec.promotable && ops.length > 0 && (up || stonithEnabled)) knownOn.set(`${cloneSpec.id}\u0000orphans`, (knownOn.get(`${cloneSpec.id}\u0000orphans`) ?? new Set<string>()).add(name));
          continue;
        }
        rid = free;
      }
      if (!resourceIds.has(rid)) {
        // An orphan (active, no longer configured) is stopped, unless nothing is managed.
        // Then it stays where it runs, and is listed among the resources (unmanaged).
        if (!up && stonithEnabled && lastOpState(ops, true) !== 'stopped') fencing.activeOffline.push({ rid, node: name, managed: true });
        if (up && allUnmanaged && !configuredIds.has(rid.replace(/:\d+$/, '')) && lastOpState(ops, false) !== 'stopped') {
          if (orphans.has(rid)) unsupported(`orphan ${rid} active on several nodes`);
          orphans.set(rid, name);
        }
        continue;
      }
      // Without fencing the history of an offline node is not read: what ran there is stopped.
      if (!up && !stonithEnabled) continue;
      if (cloneSpec?.promotable && ops.length > 0) {
        // see Note [Promotable clones] (promotable.ts)
        knownOn.set(rid, (knownOn.get(rid) ?? new Set<string>()).add(name));
        if (attr(lr, 'id') !== rid) cloneName.set(rid, attr(lr, 'id')!);
      }
      // see Note [Expired failures]
      const r = rscById.get(rid)!;
      const timeoutSec = Math.floor((r.failureTimeoutMs ?? defaults.failureTimeoutMs ?? 0) / 1000);
      const f = nodeFails.get(rid);
      const effective = f ? effectiveFailCount(f.count, f.last * 1000, timeoutSec * 1000, nowSec * 1000) : 0;
      const expired = (op: XmlNode): boolean => {
        const changed = Number(attr(op, 'last-rc-change'));
        if (timeoutSec <= 0 || attr(op, 'last-rc-change') === undefined || !Number.isFinite(changed) || nowSec < changed + timeoutSec) return false;
        // A recurring monitor's failure expires only on a node that is up (and clean).
        if (Number(attr(op, 'interval') ?? '0') !== 0 && !up) return false;
        return f === undefined || effective === 0;
      };
      const liveOps = ops.filter((op) => !(expired(op) && opFailed(op)));
      const state = lastOpState(liveOps, r.managed !== false);
      if (state === 'stopped') continue;
      claimedInstances.add(rid);
      if (member) clonedGroupStatus.active(name, member, rid);
      if (cloneSpec?.promotable && state === 'running' && promotedLast(liveOps)) promotedNow.add(rid);
      if (!up) {
        fencing.activeOffline.push({ rid, node: name, managed: r.managed !== false });
        continue;
      }
      if (running[rid] !== undefined) {
        unsupported(`${rid} active on several nodes`);
        continue;
      }
      running[rid] = state === 'failed' ? { node: name, failed: true } : { node: name };
      // Pacemaker restarts a resource active with another agent than configured
      // (`pcmk__rsc_agent_changed`), or with other parameters (see Note [Definition digests]);
      // it checks only the history of nodes that can run resources (not in standby). A clone
      // instance's definition is its primitive's.
      const pid = cloneOfInstance.has(rid) || member ? rid.replace(/:\d+$/, '') : rid;
      const agent = agentOf.get(pid);
      if (nodeStandby.get(name)) {
        // not checked
      } else if (agent && (['class', 'provider', 'type'] as const).some((k) => attr(lr, k) !== agent[k])) running[rid]!.definitionChanged = true;
      else if (primitiveEl.has(pid)) {
        const change = definitionChange(primitiveEl.get(pid)!, ops);
        if (change === 'restart') running[rid]!.definitionChanged = true;
        else if (change !== undefined && change !== 'reload') unsupported(`${rid} on ${name}: ${change}`);
      }
    }
    const gap = clonedGroupStatus.activeAfterGap(name);
    if (gap) unsupported(`${gap} of a cloned group active on ${name} without the members before it`);
  }

  for (const rid of onFailOf.keys()) if (history.some((h) => h.resource === rid)) unsupported(`on-fail=${onFailOf.get(rid)} on ${rid} with a fail count`);

  if (stonithEnabled) {
    const onUnclean = resolveUnclean(fencing, {
      startupFencing,
      nodes: nodes.map((n) => n.name),
      seen: seenNodes,
      onlineRunning: (rid) => running[rid] !== undefined || orphans.has(rid),
      refuse: unsupported,
    });
    // Active there until fenced (see Note [Fencing]).
    for (const { rid, node } of onUnclean) if (rscById.has(rid) && running[rid] === undefined) running[rid] = { node };
  }

  for (const [rid, node] of orphans) {
    resources.push({ id: rid, managed: false });
    running[rid] = { node };
  }

  // see Note [Tickets]
  const ticketStates = readTicketStates(child(cib, 'status'));
  // A ticket on a group is one on each member, judged by the member's own activity
  // (`constraints_for_ticket`); freezing a member (unmanaged in its group) is refused.
  // A ticket on a clone is one on each instance (`rsc_ticket_constraint` recurses).
  const ticketTargets = ticketDeps.flatMap((dep) =>
    (groups.find((g) => g.id === dep.resource)?.members ?? clones.find((c) => c.id === dep.resource)?.instances ?? [dep.resource]).map((rid) => ({ dep, rid })),
  );
  for (const { dep, rid } of ticketTargets) {
    const r = rscById.get(rid);
    if (!r) continue;
    // A failed instance's role is not tracked (see Note [Tickets]).
    if (dep.promotedRole && ['fence', 'freeze'].includes(dep.lossPolicy) && running[r.id]?.failed) unsupported(`rsc_ticket ${dep.id} for role Promoted with failed ${r.id}`);
    const effect = ticketEffect(dep, ticketStates.get(dep.ticket), running[r.id] !== undefined, promotedNow.has(r.id));
    if (effect === 'ban' || effect === 'fence') for (const n of nodes) locations.push({ id: dep.id, resource: r.id, node: n.name, score: -INFINITY });
    if (effect === 'fence') {
      // The node it is active on becomes unclean: what runs there is active on a node to fence.
      const node = running[r.id]!.node;
      if (!fencing.unclean.has(node)) {
        fencing.unclean.set(node, { reason: 'deadman ticket was lost', online: true });
        online[node] = false;
        for (const [rid, obs] of Object.entries(running)) {
          if (obs?.node === node) fencing.activeOffline.push({ rid, node, managed: rscById.get(rid)?.managed !== false && !orphans.has(rid) });
        }
      }
    } else if (effect === 'freeze') {
      if (groupOf.has(r.id)) unsupported(`rsc_ticket ${dep.id} freezing ${r.id} in group ${groupOf.get(r.id)}`);
      r.blocked = true;
      if (orders.some((o) => o.first === r.id || o.then === r.id)) unsupported(`rsc_order with ${r.id} frozen by rsc_ticket ${dep.id}`);
    }
  }

  for (const c of clones) {
    if (!c.promotable) continue;
    readPromotable(c, c.promotable, {
      meta: (k) => metaOf.get(c.id)?.get(k) ?? rscDefaults.get(k),
      instanceMeta: (k) => metaOf.get(c.instances[0]!.replace(/:\d+$/, ''))?.get(k) ?? rscDefaults.get(k),
      promotedLocations: promotedLocations.get(c.id) ?? [],
      promotedNow: [...promotedNow].filter((i) => c.instances.includes(i)),
      ticketLost: ticketDeps.some((d) => d.resource === c.id && d.promotedRole && !(ticketStates.get(d.ticket)?.granted === true && ticketStates.get(d.ticket)?.standby !== true)),
      colocations: promotedColocations.filter((pc) => pc.clone === c.id),
      others: colocations,
      running: (i) => running[i],
      managed: (i) => rscById.get(i)?.managed !== false && rscById.get(i)?.blocked !== true,
      members: (id) => groups.find((g) => g.id === id)?.members ?? [],
      refuse: unsupported,
    });
    c.promotable.scores = promotionScores({
      primitive: c.instances[0]!.replace(/:\d+$/, ''),
      instances: c.instances,
      nodes: nodes.map((n) => n.name),
      activeOn: (i) => running[i]?.node,
      knownOn,
      orphansKnownOn: knownOn.get(`${c.id}\u0000orphans`) ?? new Set(),
      cloneName,
      unique: c.unique === true,
      nodeAttr: (n, k) => nodeAttributes.get(n)?.get(k),
      score: (t) => char2score(t, health),
    });
  }

  let unclean: Record<string, string> = {};
  if (stonithEnabled) {
    unclean = checkFenceable(fencing, {
      canFence: hasStonithDevice,
      quorate,
      anyManaged: resources.some((r) => r.managed !== false && r.blocked !== true),
      colocated: (rid) => colocations.some((c) => c.resource === rid || c.withResource === rid),
      unmanaged: (rid) => rscById.get(rid)?.managed === false || rscById.get(rid)?.blocked === true,
      refuse: unsupported,
    });
  }

  for (const c of colocations) {
    const clone = clones.find((x) => x.id === c.withResource);
    if (clone && clone.instances.some((i) => rscById.get(i)?.blocked === true || rscById.get(i)?.managed === false)) unsupported(`rsc_colocation ${c.id} with clone ${clone.id} whose instances are unmanaged`);
  }
  const spec: ClusterSpec = {
    nodes: nodes.map((n) => (nodeStandby.get(n.name) ? { name: n.name, standby: true } : n)),
    resources,
    locations,
    colocations,
    orders,
    defaults,
  };
  if (groups.length > 0) spec.groups = groups;
  if (promotedColocations.length > 0) spec.promotedColocations = promotedColocations;
  if (promotedWith.length > 0) {
    for (const pw of promotedWith) {
      const involved = [pw.resource, ...(groups.find((g) => g.id === pw.resource)?.members ?? [])];
      if (promotedColocations.some((pc) => pc.clone === pw.clone)) unsupported(`rsc_colocation ${pw.id} with role Promoted, and something colocated with the promoted role of ${pw.clone}`);
      if (promotedWith.some((o) => o !== pw && (o.clone === pw.clone || involved.includes(o.resource)))) unsupported(`rsc_colocation ${pw.id} with role Promoted, with ${pw.clone} in another one`);
      if (colocations.some((o) => involved.includes(o.resource) || involved.includes(o.withResource)) || promotedColocations.some((o) => involved.includes(o.resource))) {
        unsupported(`rsc_colocation ${pw.id} with role Promoted, with ${pw.resource} in other colocations`);
      }
    }
    spec.promotedWith = promotedWith;
  }
  if (clones.length > 0) spec.clones = clones;
  if (utilization.strategy !== 'default') {
    spec.utilization = utilization;
    // A group's current node is the first in status order where a member is active; the
    // assignment takes the first in node order.
    const statusOrder = [...seenNodes];
    for (const g of groups) {
      const where = g.members.map((m) => running[m]?.node).filter((n): n is string => n !== undefined);
      const byNodes = nodes.find((n) => where.includes(n.name))?.name;
      const byStatus = statusOrder.find((n) => where.includes(n));
      if (byNodes !== byStatus) unsupported(`group ${g.id} active on several nodes, in another order in <status> than in <nodes>`);
    }
    // see Note [Utilization]: choices that depend on GLib's hash table order are refused.
    if (!options.lenient) {
      const ambiguous = assignResources(spec, { online, resources: running, ...(Object.keys(unclean).length > 0 ? { unclean } : {}) }, history, nowSec * 1000).ambiguities;
      if (ambiguous.length > 0) unsupported(ambiguous[0]!);
    }
  }
  // see Note [Colocation with the promoted role] (promotable.ts)
  if (promotedColocations.length > 0 && utilization.strategy === 'default' && !options.lenient) {
    const ambiguous = assignResources(spec, { online, resources: running, ...(Object.keys(unclean).length > 0 ? { unclean } : {}) }, history, nowSec * 1000).ambiguities;
    if (ambiguous.length > 0) unsupported(ambiguous[0]!);
  }
  if (allUnmanaged) spec.fencingWithoutDevice = true;
  if (noQuorum !== undefined) {
    const startWithoutQuorum = resources.filter((r) => (metaOf.get(cloneOfInstance.has(r.id) ? r.id.replace(/:\d+$/, '') : r.id)?.get('requires') ?? rscDefaults.get('requires'))?.toLowerCase() === 'nothing').map((r) => r.id);
    spec.noQuorum = startWithoutQuorum.length > 0 ? { policy: noQuorum, startWithoutQuorum } : { policy: noQuorum };
    if (noQuorumPolicyText?.toLowerCase() === 'demote' && children(resourcesEl, 'clone').some((c) => isTrue(nvpairs(c, 'meta_attributes', unsupported).get('promotable')))) unsupported('no-quorum-policy=demote with a promotable clone');
  }
  if (!symmetricCluster) spec.symmetricCluster = false;
  if (stonithEnabled && hasStonithDevice && quorate) spec.fencing = stonithAction === 'reboot' ? {} : { action: stonithAction };
  const state: ClusterObservedState = { online, resources: running };
  if (Object.keys(unclean).length > 0) state.unclean = unclean;
  const result: CibInput = { spec, state, history, ignored };
  if (attr(cib, 'execution-date') !== undefined && Number.isFinite(executionDate)) result.now = executionDate * 1000;
  return result;
}

/**
 * The top-level primitives, groups and clones of `<resources>` in document order (the parsed tree
 * keeps the order within each element name only); re-parsed with order kept only when needed.
 */
function topLevelResources(xml: string, resourcesEl: XmlNode | undefined): Array<{ kind: 'primitive' | 'group' | 'clone' | 'master'; el: XmlNode }> {
  const kinds = ['primitive', 'group', 'clone', 'master'] as const;
  const lists = kinds.map((k) => children(resourcesEl, k));
  if (lists[1]!.length === 0 && lists[2]!.length === 0 && lists[3]!.length === 0) return lists[0]!.map((el) => ({ kind: 'primitive', el }));
  type Ordered = Record<string, unknown>;
  const ordered = new XMLParser({ ignoreAttributes: true, preserveOrder: true, processEntities: false, htmlEntities: false }).parse(xml) as Ordered[];
  const enter = (list: Ordered[] | undefined, name: string): Ordered[] | undefined => list?.find((x) => name in x)?.[name] as Ordered[] | undefined;
  const top = enter(enter(enter(ordered, 'cib'), 'configuration'), 'resources') ?? [];
  const out: Array<{ kind: 'primitive' | 'group' | 'clone' | 'master'; el: XmlNode }> = [];
  const next = [0, 0, 0, 0];
  for (const x of top) {
    kinds.forEach((k, i) => {
      if (k in x && next[i]! < lists[i]!.length) out.push({ kind: k, el: lists[i]![next[i]!++]! });
    });
  }
  if (kinds.some((_, i) => next[i] !== lists[i]!.length)) throw new CibError('<resources> could not be read in order');
  return out;
}

/** What readClone needs from readCib. */
interface CloneReadContext {
  nodes: number;
  rscDefaults: Map<string, string>;
  refuse: (what: string) => void;
  nvpairs: (el: XmlNode) => Map<string, string>;
  auditMeta: (meta: Map<string, string>, where: string) => void;
  num: (v: string | undefined, what: string) => number | undefined;
}

/** A `<clone>` as readClone returns it. */
interface ReadClone {
  id: string;
  primitive: XmlNode;
  meta: Map<string, string>;
  max: number;
  priority?: number;
  promotedMax?: number;
  unique?: boolean;
  nodeMax?: number;
}

/** Pacemaker's `pcmk__scan_min_int(text, &out, 0)`: a leading integer, at least 0; junk is 0. */
function scanMinInt(text: string): number {
  const m = /^\s*[+-]?\d+/.exec(text);
  return m ? Math.max(0, Number(m[0])) : 0;
}

/**
 * A `<clone>` the reader supports (see Note [Clones] in clones.ts): a clone (anonymous or globally unique, promotable or not)
 * of one primitive. Returns its primitive element, its meta attributes as the primitive
 * inherits them (resource-stickiness defaulting to 1) and its clone-max; refuses the rest.
 */
function readClone(
  el: XmlNode,
  ctx: CloneReadContext,
  legacyMaster = false,
): ReadClone | undefined {
  const id = attr(el, 'id');
  if (id === undefined) throw new CibError(`<${legacyMaster ? 'master' : 'clone'}> without id`);
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) ctx.refuse(`clone id ${JSON.stringify(id)}`);
  const meta = ctx.nvpairs(el);
  ctx.auditMeta(meta, `clone ${id}`);
  // The clone's own, then rsc_defaults (`get_meta_attributes`); the primitive inherits the
  // clone's own (it falls back to rsc_defaults by itself).
  const eff = (k: string): string | undefined => meta.get(k) ?? ctx.rscDefaults.get(k);
  // see Note [Promotable clones] (promotable.ts)
  const promotable = legacyMaster || isTrue(eff('promotable'));
  // A globally-unique clone may run several instances on one node (clone-node-max).
  const unique = isTrue(eff('globally-unique'));
  for (const k of Object.keys(el)) {
    if (!['primitive', 'group', 'meta_attributes', 'instance_attributes', 'id', 'description', '#text'].includes(k)) ctx.refuse(`<${k}> in clone ${id}`);
  }
  const cloned = children(el, 'group');
  if (cloned.length > 0) {
    // see Note [Clones of groups] (clone-groups.ts)
    if (promotable) ctx.refuse(`promotable <clone> ${id} of a <group>`);
    if (unique) ctx.refuse(`globally-unique <clone> ${id} of a <group>`);
    if (cloned.length > 1 || children(el, 'primitive').length > 0) ctx.refuse(`clone ${id} of several resources`);
  }
  const prims = cloned.length > 0 ? cloned : children(el, 'primitive');
  if (prims.length !== 1) {
    ctx.refuse(`clone ${id} with ${prims.length} primitives`);
    return undefined;
  }
  const max = eff('clone-max') !== undefined ? scanMinInt(eff('clone-max')!) : Math.max(1, ctx.nodes);
  if (max === 0) ctx.refuse(`clone-max=0 on clone ${id}`);
  if (eff('resource-stickiness') === undefined) meta.set('resource-stickiness', '1');
  const out: ReadClone = { id, primitive: prims[0]!, meta, max };
  if (promotable) out.promotedMax = scanMinInt(eff('promoted-max') ?? eff('master-max') ?? '1');
  if (unique) {
    out.unique = true;
    const nodeMax = eff('clone-node-max') !== undefined ? scanMinInt(eff('clone-node-max')!) : 1;
    if (nodeMax === 0) ctx.refuse(`clone-node-max=0 on clone ${id}`);
    if (nodeMax > 1) out.nodeMax = nodeMax;
  }
  const priority = ctx.num(eff('priority'), `priority of ${id}`);
  if (priority !== undefined) out.priority = priority;
  return out;
}

// Note [Expired failures]
// ~~~~~~~~~~~~~~~~~~~~~~~
// A failed operation whose result is at least failure-timeout old (now ≥ last-rc-change +
// timeout) is ignored, as if it had not happened, unless the resource has a fail count on that
// node that has not expired (an expired one: now > last-failure + timeout; one without a
// last-failure never expires). So a failure with no fail count at all expires by its own age
// alone. A recurring monitor's failure expires only on a node that is up. (Pacemaker 2.1.5
// `check_operation_expiry` and `unpack_rsc_op`: "Ignoring expired … failure".)

// Note [Node attributes]
// ~~~~~~~~~~~~~~~~~~~~~~~
// A node's attributes, as rules and `score-attribute` see them (Pacemaker 2.1.5
// `add_node_attrs`): #uname, #id, #kind (cluster), #is_dc (whether its id is the CIB's dc-uuid),
// #cluster-name (the cluster option), then its configured instance_attributes (first value
// wins), then the transient attributes of its node_state (these overwrite), and #site-name
// (site-name, else the cluster name) unless set. standby and maintenance are read from the
// merged attributes of nodes that have a node_state (the others are offline).

function setSiteName(attrs: Map<string, string>, clusterName: string | undefined): void {
  if (attrs.has('#site-name')) return;
  const site = attrs.get('site-name') ?? clusterName;
  if (site !== undefined) attrs.set('#site-name', site);
}

/**
 * An operation's execution status as the scheduler uses it: `remap_operation` recomputes
 * "done" and "error" (4) alike from the result code and the expected one, so 4 counts as 0 here.
 */
function execStatus(op: XmlNode): number {
  const status = Number(attr(op, 'op-status') ?? '0');
  return status === 4 ? 0 : status;
}

/** Whether an operation's result differs from what was expected (see lastOpState). */
function opFailed(op: XmlNode): boolean {
  const operation = attr(op, 'operation');
  const rc = Number(attr(op, 'rc-code') ?? '0');
  if (execStatus(op) !== 0) return true;
  if (rc === 0) return false;
  if (rc === 8 || rc === 9) return promotedResult(operation ?? '', Number(attr(op, 'interval') ?? '0'), rc, attr(op, 'transition-key')) === 'failed';
  if (rc === 7) {
    const probe = operation === 'monitor' && Number(attr(op, 'interval') ?? '0') === 0;
    const target = Number((attr(op, 'transition-key') ?? '').split(':')[2] ?? 'NaN');
    return !(probe || target === 7);
  }
  return true;
}

/** The op with the highest call-id (the last of them among equals). */
function lastOp(ops: XmlNode[]): XmlNode | undefined {
  let best: XmlNode | undefined;
  let bestCall = -Infinity;
  for (const op of ops) {
    const call = Number(attr(op, 'call-id') ?? '0');
    if (call >= bestCall) {
      bestCall = call;
      best = op;
    }
  }
  return best;
}

/** Whether the last operation left a (promotable) resource promoted: a promote, or a monitor returning 8 as expected. */
function promotedLast(ops: XmlNode[]): boolean {
  const op = lastOp(ops.filter((o) => attr(o, 'operation') !== 'notify'));
  if (!op || opFailed(op)) return false;
  const operation = attr(op, 'operation');
  return operation === 'promote' || (operation === 'monitor' && attr(op, 'rc-code') === '8');
}

/** Whether the last operation is a stop that failed with rc 1 (see failedStopOk). */
function lastOpIsFailedStop(ops: XmlNode[]): boolean {
  const op = lastOp(ops);
  return op !== undefined && attr(op, 'operation') === 'stop' && attr(op, 'rc-code') === '1' && ['0', '4'].includes(attr(op, 'op-status') ?? '0');
}

/** State implied by a resource's operation history on one node: the op with the highest call-id. */
function lastOpState(ops: XmlNode[], managed: boolean): 'running' | 'stopped' | 'failed' {
  let best: XmlNode | undefined;
  let bestCall = -Infinity;
  for (const op of ops) {
    const call = Number(attr(op, 'call-id') ?? '0');
    if (call >= bestCall) {
      bestCall = call;
      best = op;
    }
  }
  if (!best) return 'stopped';
  const operation = attr(best, 'operation');
  const rc = Number(attr(best, 'rc-code') ?? '0');
  const status = execStatus(best);
  if (operation === 'stop') return rc === 0 && status === 0 ? 'stopped' : 'failed';
  if ((rc === 8 || rc === 9) && status === 0) return promotedResult(operation ?? '', Number(attr(best, 'interval') ?? '0'), rc, attr(best, 'transition-key'));
  if (rc === 7 && status === 0) {
    // Not running: expected from a probe or when the transition expected it (transition-key's
    // third field); otherwise the resource stopped behind Pacemaker's back, a failure.
    const probe = operation === 'monitor' && Number(attr(best, 'interval') ?? '0') === 0;
    const target = Number((attr(best, 'transition-key') ?? '').split(':')[2] ?? 'NaN');
    return probe || target === 7 || !managed ? 'stopped' : 'failed';
  }
  if (rc !== 0 || status !== 0) return 'failed';
  return 'running';
}

// Note [Audited constructs]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// The strict reader must never accept a CIB that Pacemaker would plan differently (see issue 14
// and `npm run policy:conformance`). Every construct is therefore either read, known to change
// nothing Nephele plans, or refused:
// - cluster options that change placement (shutdown-lock, maintenance-mode,
//   stop-orphan-resources, is-managed-default, default-resource-stickiness) are refused
//   unless at their default; placement-strategy is read (see Note [Utilization] in utilization.ts);
//   symmetric-cluster is read (see Note [Opt-in clusters] in opt-in.ts), and so are have-quorum
//   with no-quorum-policy (see Note [Quorum] in quorum.ts);
//   node-health-strategy is read (see Note [Node health]);
// - attribute sets by `id-ref` are refused; sets with `<rule>`s are evaluated for cluster options
//   and node attributes (see Note [Rules]) and refused for meta attributes and defaults;
// - location rules, order kinds and tickets: see Note [Rules], Note [Order kinds] (plan.ts),
//   Note [Tickets]; resource sets of orders: see Note [Ordered sets] (order-sets.ts); other resource
//   sets, roles other than Started, rsc-pattern and lifetime are refused;
// - meta attributes of resources and rsc_defaults: see auditMeta;
// - operations: an `on-fail` other than restart (including op_defaults) is read only on a resource
//   without failures (see Note [Failure handling]);
// - groups: ordered and colocated ones are read (see Note [Groups] in groups.ts); ordered=false,
//   collocated=false, promotable, partly unmanaged groups, tickets freezing a member, Serialize orders
//   with a group, and constraints inside one group are refused;
// - clones: anonymous clones of one primitive are read, with locations, orders and tickets naming
//   them (see Note [Clones] and Note [Clone orders] in clones.ts), globally-unique ones too, and a
//   primitive's mandatory colocation with one (see Note [Colocation with a clone]); promotable
//   clones, promotable or globally-unique clones of groups (anonymous ones: Note [Clones of groups]
//   in clone-groups.ts), colocations naming a clone, constraints naming a cloned primitive,
//   several active histories of one clone on a node and more active instances than clone-max are refused;
// - nodes of another type (remote, ping), nodes in maintenance or pending;
// - operation history: see auditOps;
// - fencing: see Note [Fencing] (fencing.ts); pending nodes, unfencing, and anything Pacemaker
//   would leave active on a node it does not fence are refused.

/** Meta attributes that change placement and that the reader does not read. */
function auditMeta(meta: Map<string, string>, where: string, refuse: (what: string) => void): void {
  if (isTrue(meta.get('maintenance'))) refuse(`maintenance on ${where}`);
  if (meta.has('critical') && !isTrue(meta.get('critical'))) refuse(`critical=false on ${where}`);
  for (const k of ['remote-node', 'container', 'container-attribute-target']) if (meta.has(k)) refuse(`${k} on ${where}`);
}

/**
 * Operation history the reader understands: start, stop and monitor, completed (op-status 0) with
 * rc 0 (ok), 7 (not running) or 1 (a soft failure, recovered by restart), a failed stop excepted
 * (a blocked resource), unless it is the last operation and fences the node (`fencedStop`).
 */
function auditOps(ops: XmlNode[], rid: string, refuse: (what: string) => void, fencedStop = false, promotable = false): void {
  const last = lastOp(ops);
  for (const op of ops) {
    const operation = attr(op, 'operation') ?? '';
    const rc = attr(op, 'rc-code') ?? '0';
    const status = attr(op, 'op-status') ?? '0';
    // see Note [Promotable clones] (promotable.ts)
    if (promotable && PROMOTABLE_OPERATIONS.includes(operation)) {
      if (rc !== '0' || !['0', '4'].includes(status)) refuse(`failed ${operation} of ${rid}`);
      else if (Number(attr(op, 'call-id') ?? '0') < 0) refuse(`pending ${operation} of ${rid}`);
      continue;
    }
    // A notification changes no state (Pacemaker: a resource stopped before one counts as started,
    // which is what the last operation being a success says here too).
    if (operation === 'notify') {
      if (rc !== '0' || !['0', '4'].includes(status)) refuse(`failed notify of ${rid}`);
      else if (Number(attr(op, 'call-id') ?? '0') < 0) refuse(`pending notify of ${rid}`);
      continue;
    }
    if (promotable && operation === 'monitor' && (rc === '8' || rc === '9')) {
      if (status !== '0' && status !== '4') refuse(`op-status ${status} of ${operation} in the history of ${rid}`);
      else if (Number(attr(op, 'call-id') ?? '0') < 0) refuse(`pending ${operation} of ${rid}`);
      continue;
    }
    if (!['start', 'stop', 'monitor'].includes(operation)) {
      refuse(`${operation || 'unnamed'} operation in the history of ${rid}`);
      continue;
    }
    if (status !== '0' && status !== '4') refuse(`op-status ${status} of ${operation} in the history of ${rid}`);
    else if (status === '4' && !/^\d+:\d+:\d+:/.test(attr(op, 'transition-key') ?? '')) refuse(`op-status 4 of ${operation} without an expected result in the history of ${rid}`);
    else if (!['0', '1', '7'].includes(rc)) refuse(`rc-code ${rc} of ${operation} in the history of ${rid}`);
    else if (operation === 'stop' && rc !== '0' && !(fencedStop && op === last && rc === '1')) refuse(`failed stop of ${rid}`);
    else if (Number(attr(op, 'call-id') ?? '0') < 0) refuse(`pending ${operation} of ${rid}`);
  }
}

// Note [Shutting down]
// ~~~~~~~~~~~~~~~~~~~~
// A node whose `shutdown` node attribute is set to anything but "0" (`pe__shutdown_requested`)
// is shutting down: with fencing it is online exactly when its controller is (crmd=online; it is
// neither unclean nor pending then), and online it runs nothing (`unpack_node_state`: weight
// -INFINITY; `pcmk__node_available`): resources move off it as off a node in standby. The
// node_state's own `shutdown` XML attribute is not read by the 2.1.5 scheduler.

// Note [Failure handling]
// ~~~~~~~~~~~~~~~~~~~~~~~
// `on-fail` says what Pacemaker does when an operation fails (restart, the default; block, stop,
// standby, fence, ignore, demote). It is applied while unpacking a failed operation of the history
// (`unpack_rsc_op_failure`); on-fail=ignore also makes the resource ignore its migration-threshold
// then. Without any failed operation and any fail count of the resource, the value is therefore
// never consulted: the reader accepts it, and refuses the resource as soon as it has either, unless
// each failed operation is a start, monitor or promote whose own on-fail is restart: that of the
// `<op>` (even a disabled one: `custom_action` includes them) with the operation's name and interval (`find_rsc_op_entry`, the interval read
// with `crm_parse_interval_spec`, ISO 8601 durations included; its attribute over its meta
// attribute), else op_defaults', else restart (`unpack_operation`). An on-fail set on another
// operation of the resource then changes nothing.

// Note [Fail counts]
// ~~~~~~~~~~~~~~~~~~
// Pacemaker's scheduler (`pe_get_failcount`) reads fail counts from node attributes only, never
// from the operation history: a resource's fail count on a node is the sum of every attribute
// matching `^fail-count-<id>#.+_[0-9]+$` (per operation, CIBs with crm_feature_set ≥ 3.0.13) or
// `^fail-count-<id>$` (older CIBs), and its last failure is the greatest matching
// `last-failure-…`. So a `fail-count-<id>` without `#op_interval` counts for nothing in a
// current CIB, and a per-operation one counts for nothing in an old one. The id is put into the
// pattern unescaped, as Pacemaker does (the reader refuses ids with other regex characters than
// `.`, which then matches any character in both). A count expires when now > last + timeout.

/**
 * A node's fail-count and last-failure attributes, indexed by the resource id they can only belong
 * to (the text before the first `#`, or all of it in a legacy CIB, without a clone instance
 * number): each resource then tests its patterns against its own few. Ids with a `.` (a regex
 * wildcard in Pacemaker's pattern) test all of them (`all`).
 */
function failAttributesById(attrs: ReadonlyMap<string, string>, legacy: boolean): { all: Array<[string, string]>; byId: Map<string, Array<[string, string]>> } {
  const all: Array<[string, string]> = [];
  const byId = new Map<string, Array<[string, string]>>();
  const add = (id: string, kv: [string, string]): void => {
    const list = byId.get(id);
    if (list) list.push(kv);
    else byId.set(id, [kv]);
  };
  for (const [k, v] of attrs) {
    const prefix = k.startsWith('fail-count-') ? 'fail-count-' : k.startsWith('last-failure-') ? 'last-failure-' : undefined;
    if (prefix === undefined) continue;
    all.push([k, v]);
    const rest = k.slice(prefix.length);
    const hash = rest.indexOf('#');
    const id = legacy ? rest : hash >= 0 ? rest.slice(0, hash) : undefined;
    if (id === undefined) continue;
    add(id, [k, v]);
    const base = id.replace(/:\d+$/, '');
    if (base !== id) add(base, [k, v]);
  }
  return { all, byId };
}

function failCountPattern(id: string, prefix: string, legacy: boolean, anonymousClone = false): RegExp {
  // Only the lenient reader gets here with other regex characters: they are taken literally.
  const pattern = id.replace(/[\\^$*+?()[\]{}|/]/g, '\\$&');
  return new RegExp(`^${prefix}-${pattern}${anonymousClone ? '(:[0-9]+)?' : ''}${legacy ? '' : '#.+_[0-9]+'}$`);
}

/** Pacemaker's `compare_version`: dotted integers, a missing version is the lowest. */
export function compareVersion(a: string | undefined, b: string | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const pa = a.split('.').map((x) => parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

// Note [Order loops]
// ~~~~~~~~~~~~~~~~~~
// Orders that form a loop (a then b, b then a, directly or through others; a group counts as one
// resource) leave Pacemaker with a transition graph it cannot complete whenever the actions of the
// loop are all needed: crm_simulate reports "An invalid transition was produced" and starts none of
// them, while Nephele would break the loop and start them. Such configurations are refused.

/** The first loop among `[first, then]` edges, as the ids along it (first id repeated last). */
export function orderLoop(edges: ReadonlyArray<readonly [string, string]>): string[] | undefined {
  const out = new Map<string, string[]>();
  for (const [f, t] of edges) if (f !== t) out.set(f, [...(out.get(f) ?? []), t]);
  const state = new Map<string, 1 | 2>(); // 1 on the path, 2 done
  const path: string[] = [];
  const visit = (v: string): string[] | undefined => {
    state.set(v, 1);
    path.push(v);
    for (const w of out.get(v) ?? []) {
      if (state.get(w) === 1) return [...path.slice(path.indexOf(w)), w];
      if (state.get(w) === undefined) {
        const found = visit(w);
        if (found) return found;
      }
    }
    path.pop();
    state.set(v, 2);
    return undefined;
  };
  for (const v of out.keys()) {
    if (state.get(v) !== undefined) continue;
    const found = visit(v);
    if (found) return found;
  }
  return undefined;
}

/**
 * Whether Pacemaker restarts or reloads an active resource for a changed definition (see Note
 * [Definition digests] in digest.ts): undefined when the start in effect matches, else 'restart',
 * 'reload' (a reload moves nothing), or why the reader cannot tell.
 */
function definitionChange(primitive: XmlNode, ops: XmlNode[]): 'restart' | 'reload' | string | undefined {
  let start: XmlNode | undefined;
  let call = -Infinity;
  for (const op of ops) {
    const c = Number(attr(op, 'call-id') ?? '0');
    if (attr(op, 'operation') === 'start' && c >= call) [start, call] = [op, c];
  }
  if (!start) return undefined;
  const sets = children(primitive, 'instance_attributes');
  const startOps = children(child(primitive, 'operations'), 'op').filter((o) => attr(o, 'name') === 'start');
  if (sets.length > 1 || sets.some((s) => children(s, 'rule').length > 0 || attr(s, 'id-ref') !== undefined) || startOps.some((o) => children(o, 'instance_attributes').length > 0)) {
    return 'parameters Nephele cannot digest (several or rule-based instance_attributes) with a start in its history';
  }
  const params = new Map<string, string>();
  for (const p of children(sets[0], 'nvpair')) {
    const n = attr(p, 'name');
    if (n !== undefined && !params.has(n)) params.set(n, attr(p, 'value') ?? '');
  }
  const recorded = attr(start, 'op-digest');
  if (recorded === startDigest(params)) return undefined;
  // An agent that can reload records which parameters need a restart (op-restart-digest).
  const restartDigest = attr(start, 'op-restart-digest');
  if (restartDigest === undefined) return 'restart';
  const forced = (attr(start, 'op-force-restart') ?? '').split(/\s+/).filter(Boolean);
  const restartParams = new Map([...params].filter(([k]) => forced.includes(k)));
  return restartDigest === startDigest(restartParams) ? 'reload' : 'parameters changed that its agent cannot reload (op-restart-digest)';
}

// Note [Templates]
// ~~~~~~~~~~~~~~~~
// A primitive with `template="T"` is the template's copy under the primitive's id (`unpack_template`
// in Pacemaker 2.1.5): the template's attributes (class, provider, type) and child elements, then
// the primitive's own child elements; of the operations, the primitive's, plus the template's that
// the primitive does not define (same name, role and interval). Templates are not resources
// themselves; a constraint naming one (it would stand for every primitive made from it) is refused.

/** Expands every template reference in `<resources>` in place; returns the templates' ids. */
function expandTemplates(resourcesEl: XmlNode | undefined, refuse: (what: string) => void): Set<string> {
  const templates = new Map(children(resourcesEl, 'template').map((t) => [attr(t, 'id') ?? '', t]));
  if (templates.size === 0) return new Set();
  const opKey = (op: XmlNode): string => `${attr(op, 'name')}\0${attr(op, 'role') ?? ''}\0${timeoutMs(attr(op, 'interval') ?? '0') ?? attr(op, 'interval')}`;
  const expand = (p: XmlNode): void => {
    const ref = attr(p, 'template');
    if (ref === undefined) return;
    const t = templates.get(ref);
    if (!t) return refuse(`primitive ${attr(p, 'id')} from an unknown template ${ref}`);
    const own = { ...p };
    for (const k of Object.keys(p)) delete p[k];
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === 'string') p[k] = v;
      else p[k] = Array.isArray(v) ? [...v] : [v];
    }
    p['id'] = own['id'];
    for (const [k, v] of Object.entries(own)) {
      if (typeof v === 'string' || k === 'operations') continue;
      p[k] = [...((p[k] as unknown[] | undefined) ?? []), ...(Array.isArray(v) ? v : [v])];
    }
    const ownOps = children(own, 'operations');
    const tOps = children(t, 'operations');
    if (ownOps.length > 0) {
      const defined = new Set(ownOps.flatMap((o) => children(o, 'op')).map(opKey));
      const inherited = tOps.flatMap((o) => children(o, 'op')).filter((op) => !defined.has(opKey(op)));
      p['operations'] = [{ ...ownOps[0], op: [...children(ownOps[0], 'op'), ...inherited] }, ...ownOps.slice(1)];
    }
  };
  const walk = (el: XmlNode | undefined): void => {
    for (const prim of children(el, 'primitive')) expand(prim);
    for (const k of ['group', 'clone', 'master']) for (const c of children(el, k)) walk(c);
  };
  walk(resourcesEl);
  delete resourcesEl![`template`];
  return new Set(templates.keys());
}

/** Every resource id the constraints name (directly or in resource sets). */
function constraintNames(cons: XmlNode | undefined): Set<string> {
  const out = new Set<string>();
  for (const kind of ['rsc_location', 'rsc_colocation', 'rsc_order', 'rsc_ticket']) {
    for (const c of children(cons, kind)) {
      for (const a of ['rsc', 'with-rsc', 'first', 'then']) {
        const v = attr(c, a);
        if (v !== undefined) out.add(v);
      }
      for (const set of children(c, 'resource_set')) for (const r of children(set, 'resource_ref')) if (attr(r, 'id') !== undefined) out.add(attr(r, 'id')!);
    }
  }
  return out;
}

/** What readPromotable needs from readCib. */
interface PromotableReadContext {
  /** The clone's meta attribute (or rsc_defaults). */
  meta: (name: string) => string | undefined;
  /** Its primitive's (with the clone's inherited). */
  instanceMeta: (name: string) => string | undefined;
  promotedLocations: ReadonlyArray<{ node: string; score: number }>;
  promotedNow: string[];
  ticketLost: boolean;
  colocations: readonly PromotedColocation[];
  others: readonly ColocationConstraint[];
  running: (instance: string) => ResourceObservation | undefined;
  managed: (instance: string) => boolean;
  /** A group's members (none for a primitive). */
  members: (id: string) => readonly string[];
  refuse: (what: string) => void;
}

/** The role facts of a promotable clone (see Note [Colocation with the promoted role] in promotable.ts). */
function readPromotable(c: CloneSpec, p: PromotableSpec, ctx: PromotableReadContext): void {
  const nodeMax = ctx.meta('promoted-node-max') ?? ctx.meta('master-node-max');
  if (nodeMax !== undefined) p.promotedNodeMax = scanMinInt(nodeMax);
  // Pacemaker prepends each location to the clone's list: the last one comes first.
  if (ctx.promotedLocations.length > 0) p.promotedLocations = ctx.promotedLocations.map((l) => ({ node: l.node, score: l.score })).reverse();
  if (ctx.promotedNow.length > 0) p.promotedNow = ctx.promotedNow;
  if (ctx.ticketLost) p.promotionBlocked = true;
  const role = (ctx.instanceMeta('target-role') ?? '').toLowerCase();
  if (role === 'unpromoted' || role === 'slave') p.unpromotedTarget = true;
  if (ctx.colocations.length === 0) return;
  const dependents = new Set<string>();
  for (const pc of ctx.colocations) {
    if (dependents.has(pc.resource)) ctx.refuse(`${pc.resource} colocated with the promoted role of ${c.id} more than once`);
    dependents.add(pc.resource);
    const involved = [pc.resource, ...ctx.members(pc.resource)];
    if (ctx.others.some((o) => involved.includes(o.resource) || involved.includes(o.withResource))) ctx.refuse(`rsc_colocation ${pc.id} with role Promoted, with ${pc.resource} in other colocations`);
  }
  for (const i of c.instances) {
    if (!ctx.managed(i)) ctx.refuse(`rsc_colocation with role Promoted of clone ${c.id} with unmanaged ${i}`);
    if (ctx.running(i)?.failed) ctx.refuse(`rsc_colocation with role Promoted of clone ${c.id} with failed ${i}`);
  }
}

/**
 * An `rsc_order` of promotion that changes no placement (see Note [Colocation with the promoted
 * role] in promotable.ts): promote → start or demote → stop of a primitive mandatorily colocated
 * with the clone's promoted role, or demote → promote of one clone. Returns the clone, or
 * undefined for any other order.
 */
function roleOrder(o: XmlNode, colocs: readonly PromotedColocation[], promotable: (id: string) => boolean): string | undefined {
  const first = attr(o, 'first');
  const then = attr(o, 'then');
  const fa = attr(o, 'first-action') ?? 'start';
  const ta = attr(o, 'then-action') ?? fa;
  if (first === undefined || then === undefined || children(o, 'resource_set').length > 0 || o['lifetime'] !== undefined) return undefined;
  if (['first-instance', 'then-instance', 'require-all'].some((k) => attr(o, k) !== undefined)) return undefined;
  const pair = (fa === 'promote' && ta === 'start') || (fa === 'demote' && ta === 'stop');
  if (pair && colocs.some((c) => c.clone === first && c.resource === then && c.score >= INFINITY && c.role === undefined)) return first;
  if (first === then && fa === 'demote' && ta === 'promote' && promotable(first)) return first;
  // Nothing depends on the clone's roles (`promotable` says so): promotion after a start moves nothing.
  if (fa === 'start' && ta === 'promote' && first !== then && promotable(then)) return then;
  return undefined;
}

/** A clone of a group as readClonedGroup returns it (see Note [Clones of groups] in clone-groups.ts). */
interface ReadClonedGroup {
  groupId: string;
  resources: ResourceSpec[];
  groups: GroupSpec[];
  clone: CloneSpec;
  members: Map<string, ClonedGroupMember>;
}

/**
 * The instances of a clone of a group (see Note [Clones of groups] in clone-groups.ts): the
 * members read once by `readMember` (with the meta attributes they inherit), copied per instance.
 */
function readClonedGroup(
  c: ReadClone,
  ctx: Omit<CloneReadContext, 'nodes'>,
  readMember: (p: XmlNode, parent: { id: string; meta: Map<string, string> }) => ResourceSpec,
): ReadClonedGroup {
  const el = c.primitive;
  const gid = attr(el, 'id');
  if (gid === undefined) throw new CibError('<group> without id');
  if (!/^[A-Za-z0-9_.-]+$/.test(gid)) ctx.refuse(`group id ${JSON.stringify(gid)}`);
  const gmeta = ctx.nvpairs(el);
  ctx.auditMeta(gmeta, `group ${gid}`);
  for (const k of ['ordered', 'collocated']) if (gmeta.has(k) && !isTrue(gmeta.get(k))) ctx.refuse(`${k}=${gmeta.get(k)} on group ${gid}`);
  for (const k of ['promotable', 'globally-unique', 'clone-max', 'clone-node-max', 'clone-min', 'interleave', 'priority']) if (gmeta.has(k)) ctx.refuse(`${k} on group ${gid} in clone ${c.id}`);
  for (const k of Object.keys(el)) {
    if (!['primitive', 'meta_attributes', 'instance_attributes', 'id', 'description', '#text'].includes(k)) ctx.refuse(`<${k}> in group ${gid}`);
  }
  const prims = children(el, 'primitive');
  if (prims.length === 0) ctx.refuse(`empty group ${gid}`);
  // A member inherits the group's meta attributes, which inherit the clone's.
  const meta = new Map(c.meta);
  for (const [k, v] of gmeta) meta.set(k, v);
  const read = prims.map((p) => readMember(p, { id: gid, meta }));
  if (read.some((r) => r.managed === false)) ctx.refuse(`is-managed=false in cloned group ${gid}`);
  const clone: CloneSpec = { id: c.id, instances: [], max: c.max };
  const eff = (k: string): string | undefined => c.meta.get(k) ?? ctx.rscDefaults.get(k);
  if (isTrue(eff('interleave'))) clone.interleave = true;
  if (eff('clone-min') !== undefined) clone.min = scanMinInt(eff('clone-min')!);
  if (c.priority !== undefined) clone.priority = c.priority;
  const out: ReadClonedGroup = { groupId: gid, resources: [], groups: [], clone, members: new Map() };
  for (let i = 0; i < Math.max(1, c.max); i++) {
    const members = read.map((r) => ({ ...r, id: `${r.id}:${i}` }));
    out.resources.push(...members);
    out.groups.push({ id: `${gid}:${i}`, members: members.map((m) => m.id) });
    (clone.instances as string[]).push(`${gid}:${i}`);
  }
  read.forEach((r, position) => out.members.set(r.id, { clone, position }));
  return out;
}
