import { ClusterObservedState, ClusterSpec, FailureHistory } from './cluster.types';
import { formatScore } from './score.util';

/** Options of `writeCib()`. */
export interface WriteCibOptions {
  /** Epoch ms used for operation history timestamps (default: 0). Use the planning `now`. */
  now?: number;
  /** Write `enable-startup-probes=false` (default true: probes only slow crm_simulate down). */
  disableProbes?: boolean;
  /** More transient node attributes to write (e.g. fail counts the planner must not count). */
  extraNodeAttributes?: ReadonlyArray<{ node: string; name: string; value: string }>;
  /** Location constraints written as one `<rule>` each (see Note [Rules]). */
  ruleLocations?: readonly RuleLocationSpec[];
  /** `rsc_ticket` constraints, and the tickets' state (a ticket not listed has no state). */
  tickets?: ReadonlyArray<{ id: string; resource: string; ticket: string; lossPolicy: 'stop' | 'freeze' | 'fence' }>;
  ticketStates?: Readonly<Record<string, { granted: boolean; standby?: boolean }>>;
  /** Resources written as fencing devices (`stonith:fence_dummy`). */
  fencingDevices?: readonly string[];
}

/** A location constraint with one rule over node attributes, for `writeCib`. */
export interface RuleLocationSpec {
  id: string;
  resource: string;
  /** The rule's score, or the node attribute that gives it (`score-attribute`). */
  score?: number;
  scoreAttribute?: string;
  booleanOp?: 'and' | 'or';
  expressions: ReadonlyArray<{ attribute: string; operation: 'eq' | 'ne' | 'lt' | 'gt' | 'lte' | 'gte' | 'defined' | 'not_defined'; value?: string; type?: 'string' | 'integer' }>;
}

/** Digest crm_simulate records for a parameterless ocf:pacemaker:Dummy start (measured). */
const DUMMY_DIGEST = 'f2317cad3d54cec5d7d7aa7d0bf35cf8';
/** Digest of its 10s monitor, as configured by this writer (measured). */
const MONITOR_DIGEST = '4811cef7f7f94e3a35a70be7916cb2fd';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function nv(id: string, name: string, value: string): string {
  return `<nvpair id="${esc(id)}" name="${esc(name)}" value="${esc(value)}"/>`;
}

/** A `<utilization>` set (nothing when there are no amounts). */
function utilizationXml(owner: string, amounts: Readonly<Record<string, number>> | undefined): string {
  const pairs = Object.entries(amounts ?? {}).map(([k, v]) => nv(`${owner}-util-${k}`, k, String(v)));
  return pairs.length > 0 ? `<utilization id="${esc(owner)}-utilization">${pairs.join('')}</utilization>` : '';
}

function secs(ms: number): string {
  return String(Math.floor(ms / 1000));
}

/**
 * Writes a spec and state as a CIB that `crm_simulate` (Pacemaker 2.1.5, feature set 3.16.1)
 * reads with the same meaning, and that `readCib()` reads back to the same input. Resources are
 * `ocf:pacemaker:Dummy` (fencing devices `stonith:fence_dummy`); fencing is on when
 * `spec.fencing` is set (unclean nodes are written as lost from the membership while expected up,
 * with the history of what runs on them), quorum is ignored. Used by the differential test and
 * the benchmark.
 */
export function writeCib(
  spec: ClusterSpec,
  state: ClusterObservedState,
  history: FailureHistory,
  options: WriteCibOptions = {},
): string {
  const now = options.now ?? 0;
  const out: string[] = [];
  out.push(
    `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="${spec.noQuorum ? '0' : '1'}" execution-date="${secs(now)}"${
      spec.nodes.length > 0 ? ` dc-uuid="${esc(spec.nodes[0]!.name)}"` : ''
    }>`,
  );
  out.push('  <configuration>');
  out.push('    <crm_config><cluster_property_set id="cib-bootstrap-options">');
  out.push(`      ${nv('opt-stonith', 'stonith-enabled', spec.fencing ? 'true' : 'false')}`);
  if (spec.fencing?.action === 'off') out.push(`      ${nv('opt-stonith-action', 'stonith-action', 'off')}`);
  const devices = new Set(options.fencingDevices ?? []);
  const agent = (id: string): string => (devices.has(id) ? 'class="stonith" type="fence_dummy"' : 'class="ocf" provider="pacemaker" type="Dummy"');
  out.push(`      ${nv('opt-quorum', 'no-quorum-policy', spec.noQuorum?.policy ?? 'ignore')}`);
  if (spec.symmetricCluster === false) out.push(`      ${nv('opt-symmetric', 'symmetric-cluster', 'false')}`);
  if (options.disableProbes !== false) out.push(`      ${nv('opt-probes', 'enable-startup-probes', 'false')}`);
  if (spec.utilization) out.push(`      ${nv('opt-placement', 'placement-strategy', spec.utilization.strategy)}`);
  out.push('    </cluster_property_set></crm_config>');
  out.push('    <nodes>');
  for (const n of spec.nodes) {
    const ia = n.standby
      ? `<instance_attributes id="${esc(n.name)}-ia">${nv(`${n.name}-standby`, 'standby', 'on')}</instance_attributes>`
      : '';
    out.push(`      <node id="${esc(n.name)}" uname="${esc(n.name)}">${ia}${utilizationXml(n.name, spec.utilization?.capacity[n.name])}</node>`);
  }
  out.push('    </nodes>');
  out.push('    <resources>');
  // A group is written where its first member is, with its members in its order.
  const groupOf = new Map((spec.groups ?? []).flatMap((g) => g.members.map((m) => [m, g] as const)));
  const rscById = new Map(spec.resources.map((r) => [r.id, r]));
  const written = new Set<string>();
  const primitive = (r: ClusterSpec['resources'][number], indent: string, failed = state.resources[r.id]?.failed === true): void => {
    const meta: string[] = [];
    if (r.priority !== undefined) meta.push(nv(`${r.id}-priority`, 'priority', String(r.priority)));
    if (r.stickiness !== undefined) meta.push(nv(`${r.id}-stickiness`, 'resource-stickiness', formatScore(r.stickiness)));
    if (r.migrationThreshold !== undefined) meta.push(nv(`${r.id}-mt`, 'migration-threshold', formatScore(r.migrationThreshold)));
    if (r.failureTimeoutMs !== undefined) meta.push(nv(`${r.id}-ft`, 'failure-timeout', secs(r.failureTimeoutMs)));
    if (r.targetRole !== undefined) meta.push(nv(`${r.id}-role`, 'target-role', r.targetRole));
    if (r.managed === false) meta.push(nv(`${r.id}-managed`, 'is-managed', 'false'));
    const m = meta.length > 0 ? `<meta_attributes id="${esc(r.id)}-meta">${meta.join('')}</meta_attributes>` : '';
    // A failed monitor must match a configured one, or Pacemaker sees a changed definition and
    // clears the fail count.
    const ops = failed
      ? `<operations><op id="${esc(r.id)}-monitor-10s" name="monitor" interval="10s"/></operations>`
      : '';
    out.push(`${indent}<primitive id="${esc(r.id)}" ${agent(r.id)}>${m}${utilizationXml(r.id, spec.utilization?.use[r.id])}${ops}</primitive>`);
  };
  // A clone is written where its first instance is, around its primitive (see Note [Clones]).
  const cloneOf = new Map((spec.clones ?? []).flatMap((c) => c.instances.map((m) => [m, c] as const)));
  const baseId = (id: string): string => (cloneOf.has(id) ? id.replace(/:\d+$/, '') : id);
  for (const r of spec.resources) {
    if (written.has(r.id)) continue;
    const c = cloneOf.get(r.id);
    if (c) {
      const cm: string[] = [nv(`${c.id}-max`, 'clone-max', String(c.max))];
      if (c.priority !== undefined) cm.push(nv(`${c.id}-priority`, 'priority', String(c.priority)));
      if (c.interleave) cm.push(nv(`${c.id}-interleave`, 'interleave', 'true'));
      if (c.min !== undefined) cm.push(nv(`${c.id}-min`, 'clone-min', String(c.min)));
      out.push(`      <clone id="${esc(c.id)}"><meta_attributes id="${esc(c.id)}-meta">${cm.join('')}</meta_attributes>`);
      primitive({ ...r, id: baseId(r.id) }, '        ', state.resources[r.id]?.failed === true || c.instances.some((i) => state.resources[i]?.failed));
      out.push('      </clone>');
      for (const i of c.instances) written.add(i);
      continue;
    }
    const g = groupOf.get(r.id);
    if (!g) {
      primitive(r, '      ');
      continue;
    }
    const gm = g.priority !== undefined ? `<meta_attributes id="${esc(g.id)}-meta">${nv(`${g.id}-priority`, 'priority', String(g.priority))}</meta_attributes>` : '';
    out.push(`      <group id="${esc(g.id)}">${gm}`);
    for (const id of g.members) {
      const member = rscById.get(id);
      if (!member) continue;
      primitive(member, '        ');
      written.add(id);
    }
    out.push('      </group>');
  }
  out.push('    </resources>');
  out.push('    <constraints>');
  for (const l of spec.locations ?? []) {
    out.push(`      <rsc_location id="${esc(l.id)}" rsc="${esc(l.resource)}" node="${esc(l.node)}" score="${formatScore(l.score)}"/>`);
  }
  for (const c of spec.colocations ?? []) {
    const infl = c.influence === undefined ? '' : ` influence="${c.influence ? 'true' : 'false'}"`;
    out.push(
      `      <rsc_colocation id="${esc(c.id)}" rsc="${esc(c.resource)}" with-rsc="${esc(c.withResource)}" score="${formatScore(c.score)}"${infl}/>`,
    );
  }
  for (const o of spec.orders ?? []) {
    const sym = o.symmetrical === undefined ? '' : ` symmetrical="${o.symmetrical ? 'true' : 'false'}"`;
    out.push(`      <rsc_order id="${esc(o.id)}" first="${esc(o.first)}" then="${esc(o.then)}" kind="${o.kind ?? 'Mandatory'}"${sym}/>`);
  }
  for (const l of options.ruleLocations ?? []) {
    const score = l.scoreAttribute !== undefined ? `score-attribute="${esc(l.scoreAttribute)}"` : `score="${formatScore(l.score ?? 0)}"`;
    const op = l.booleanOp !== undefined ? ` boolean-op="${l.booleanOp}"` : '';
    const exprs = l.expressions
      .map((e, i) => {
        const value = e.value !== undefined ? ` value="${esc(e.value)}"` : '';
        const type = e.type !== undefined ? ` type="${e.type}"` : '';
        return `<expression id="${esc(l.id)}-e${i}" attribute="${esc(e.attribute)}" operation="${e.operation}"${value}${type}/>`;
      })
      .join('');
    out.push(`      <rsc_location id="${esc(l.id)}" rsc="${esc(l.resource)}"><rule id="${esc(l.id)}-rule" ${score}${op}>${exprs}</rule></rsc_location>`);
  }
  for (const t of options.tickets ?? []) {
    out.push(`      <rsc_ticket id="${esc(t.id)}" rsc="${esc(t.resource)}" ticket="${esc(t.ticket)}" loss-policy="${t.lossPolicy}"/>`);
  }
  out.push('    </constraints>');
  const d = spec.defaults ?? {};
  const dm: string[] = [];
  if (d.stickiness !== undefined) dm.push(nv('rd-stickiness', 'resource-stickiness', formatScore(d.stickiness)));
  if (d.migrationThreshold !== undefined) dm.push(nv('rd-mt', 'migration-threshold', formatScore(d.migrationThreshold)));
  if (d.failureTimeoutMs !== undefined) dm.push(nv('rd-ft', 'failure-timeout', secs(d.failureTimeoutMs)));
  out.push(`    <rsc_defaults>${dm.length > 0 ? `<meta_attributes id="rsc-defaults">${dm.join('')}</meta_attributes>` : ''}</rsc_defaults>`);
  out.push('  </configuration>');
  out.push('  <status>');
  for (const n of spec.nodes) {
    const up = state.online[n.name] === true;
    const attrs = up
      ? 'in_ccm="true" crmd="online" join="member" expected="member"'
      : state.unclean?.[n.name]?.startsWith('peer is no longer part') === true
        ? 'in_ccm="false" crmd="offline" join="down" expected="member"'
        : 'in_ccm="false" crmd="offline" join="down" expected="down"';
    const ops: string[] = [];
    if (up || spec.fencing) {
      for (const r of spec.resources) {
        const obs = state.resources[r.id];
        if (!obs || obs.node !== n.name) continue;
        const op = (opId: string, key: string, operation: string, call: number, rc: number, interval: number, digest: string, at = now): string =>
          `<lrm_rsc_op id="${esc(opId)}" operation_key="${esc(key)}" operation="${operation}" crm-debug-origin="nephele" crm_feature_set="3.16.1" transition-key="${call}:1:0:00000000-0000-0000-0000-000000000000" transition-magic="0:${rc};${call}:1:0:00000000-0000-0000-0000-000000000000" call-id="${call}" rc-code="${rc}" op-status="0" interval="${interval}" last-rc-change="${secs(at)}" exec-time="1" queue-time="0" op-digest="${digest}"/>`;
        // A clone instance's history is under its primitive's id.
        const id = baseId(r.id);
        const start = op(`${id}_last_0`, `${id}_start_0`, 'start', 1, 0, 0, DUMMY_DIGEST);
        const failed = obs.failed ? op(`${id}_last_failure_0`, `${id}_monitor_10000`, 'monitor', 2, 1, 10000, MONITOR_DIGEST, obs.failedAt ?? now) : '';
        ops.push(`<lrm_resource id="${esc(id)}" ${agent(id)}>${start}${failed}</lrm_resource>`);
      }
    }
    const fails: string[] = [];
    for (const f of history) {
      if (f.node !== n.name) continue;
      // A clone's fail count is its primitive's.
      const clone = spec.clones?.find((c) => c.id === f.resource);
      const rid = clone ? baseId(clone.instances[0]!) : f.resource;
      fails.push(nv(`fc-${rid}-${n.name}`, `fail-count-${rid}#monitor_10000`, formatScore(f.count)));
      if (f.lastFailureAt !== undefined) fails.push(nv(`lf-${rid}-${n.name}`, `last-failure-${rid}#monitor_10000`, secs(f.lastFailureAt)));
    }
    for (const [i, a] of (options.extraNodeAttributes ?? []).entries()) {
      if (a.node === n.name) fails.push(nv(`extra-${i}`, a.name, a.value));
    }
    const lrm = ops.length > 0 ? `<lrm id="${esc(n.name)}"><lrm_resources>${ops.join('')}</lrm_resources></lrm>` : '';
    const ta =
      fails.length > 0
        ? `<transient_attributes id="${esc(n.name)}"><instance_attributes id="status-${esc(n.name)}">${fails.join('')}</instance_attributes></transient_attributes>`
        : '';
    out.push(`    <node_state id="${esc(n.name)}" uname="${esc(n.name)}" ${attrs}>${lrm}${ta}</node_state>`);
  }
  const tickets = Object.entries(options.ticketStates ?? {});
  if (tickets.length > 0) {
    const states = tickets.map(([id, t]) => `<ticket_state id="${esc(id)}" granted="${t.granted}"${t.standby !== undefined ? ` standby="${t.standby}"` : ''}/>`);
    out.push(`    <tickets>${states.join('')}</tickets>`);
  }
  out.push('  </status>');
  out.push('</cib>');
  return out.join('\n') + '\n';
}
