// Cases found by a generator written apart from cib-generator.ts (held-out random CIBs inside the
// subset), each answered here as crm_simulate 2.1.5 answers it (`crm_simulate -x <cib> -S`).
import { CibError, readCib } from './cib-reader';
import { plan } from './plan';

const T = 1_700_000_000; // execution-date, seconds
const op = (rsc: string, node: string, task: string, interval: number, rc: number, at: number, call: number, target = 0): string =>
  `<lrm_rsc_op id="${rsc}_${task}_${interval}_${call}" operation_key="${rsc}_${task}_${interval}" operation="${task}" ` +
  `transition-key="${call}:0:${target}:00000000-0000-0000-0000-000000000000" transition-magic="0:${rc};${call}:0:${target}:00000000-0000-0000-0000-000000000000" ` +
  `call-id="${call}" rc-code="${rc}" op-status="0" interval="${interval}" last-rc-change="${at}" on_node="${node}"/>`;
const lrm = (id: string, ops: string, provider = 'pacemaker'): string =>
  `<lrm_resource id="${id}" class="ocf" provider="${provider}" type="Dummy">${ops}</lrm_resource>`;
const prim = (id: string, meta = ''): string =>
  `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy">${meta ? `<meta_attributes id="${id}-m">${meta}</meta_attributes>` : ''}</primitive>`;
const cib = (nodes: string[], resources: string, constraints: string, status: Record<string, string>): string =>
  `<cib validate-with="pacemaker-3.7" crm_feature_set="3.16.1" have-quorum="1" epoch="1" num_updates="0" admin_epoch="0" execution-date="${T}">` +
  `<configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>` +
  `<nodes>${nodes.map((n, i) => `<node id="${i + 1}" uname="${n}"/>`).join('')}</nodes><resources>${resources}</resources>` +
  `<constraints>${constraints}</constraints></configuration><status>` +
  nodes
    .map((n, i) => `<node_state id="${i + 1}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="${i + 1}"><lrm_resources>${status[n] ?? ''}</lrm_resources></lrm></node_state>`)
    .join('') +
  `</status></cib>`;

const planned = (xml: string): { placement: Record<string, string | null>; actions: string[] } => {
  const input = readCib(xml);
  const result = plan(input.spec, input.state, input.history, input.now ?? T * 1000);
  return { placement: result.placement, actions: result.actions.map((a) => `${a.kind}:${'resource' in a ? a.resource : a.node}`) };
};

describe('held-out CIBs answered as crm_simulate answers them', () => {
  it('ignores a failure older than failure-timeout when the resource has no fail count (check_operation_expiry)', () => {
    const xml = cib(['n1', 'n2'], prim('a', '<nvpair id="a-ft" name="failure-timeout" value="60"/>'), '', {
      n1: lrm('a', op('a', 'n1', 'start', 0, 1, T - 10_000, 2)),
      n2: lrm('a', op('a', 'n2', 'monitor', 0, 7, T - 10_000, 3, 7)),
    });
    // crm_simulate: "Ignoring expired a_start_0 failure on n1" → Start a (n1), not Recover.
    expect(planned(xml)).toEqual({ placement: { a: 'n1' }, actions: ['start:a'] });
    // Younger than the timeout, the failure stands: recovered in place.
    expect(planned(xml.replace('value="60"', 'value="100000"')).actions).toEqual(['restart:a']);
  });

  it('refuses orders that form a loop (crm_simulate: "An invalid transition was produced")', () => {
    const xml = cib(['n1'], prim('a') + prim('b'), '<rsc_order id="ord1" first="a" then="b"/><rsc_order id="ord2" first="b" then="a" kind="Optional"/>', {});
    expect(() => readCib(xml)).toThrow(CibError);
    expect(() => readCib(xml)).toThrow(/rsc_order constraints that form a loop \(a → b → a\)/);
    // An order between two members of one group (against or along the group's own order).
    const grouped = cib(['n1'], `<group id="g">${prim('a')}${prim('b')}</group>`, '<rsc_order id="ord1" first="b" then="a"/>', {});
    expect(() => readCib(grouped)).toThrow(/rsc_order ord1 inside group g/);
  });

  it('stalls the start a Serialize order makes wait for a first assigned a node whose start is blocked', () => {
    // b can run nowhere, f must start after b (mandatory): f is assigned n1 but its start cannot run.
    const cons =
      '<rsc_location id="l1" rsc="b" node="n1" score="-INFINITY"/><rsc_order id="ord1" first="b" then="f"/>' +
      '<rsc_order id="s1" first="f" then="t" kind="Serialize"/>';
    const xml = cib(['n1'], prim('b') + prim('f') + prim('t'), cons, {});
    // crm_simulate: "Start f (n1) due to unrunnable b start (blocked)", "Start t (n1)", and the
    // simulated transition leaves t stopped: its start waits for f's, which never runs.
    expect(planned(xml).placement).toEqual({ b: null, f: null, t: null });
    // Without the Serialize order t starts.
    expect(planned(xml.replace('<rsc_order id="s1" first="f" then="t" kind="Serialize"/>', '')).placement).toEqual({ b: null, f: null, t: 'n1' });
  });

  it('refuses a cloned group whose member is active where a member before it is not', () => {
    const clone = `<clone id="c"><group id="g">${prim('m1')}${prim('m2')}</group></clone>`;
    const xml = cib(['n1', 'n2'], clone, '', { n1: lrm('m2', op('m2', 'n1', 'start', 0, 0, T - 100, 2)) });
    expect(() => readCib(xml)).toThrow(/m2:0 of a cloned group active on n1 without the members before it/);
    // Both members active there: read.
    const both = cib(['n1', 'n2'], clone, '', { n1: lrm('m1', op('m1', 'n1', 'start', 0, 0, T - 100, 2)) + lrm('m2', op('m2', 'n1', 'start', 0, 0, T - 100, 3)) });
    expect(planned(both).placement).toEqual({ 'm1:0': 'n1', 'm2:0': 'n1', 'm1:1': 'n2', 'm2:1': 'n2' });
  });

  it('stalls the start a Serialize order makes wait for an active first that stops', () => {
    const cons = '<rsc_location id="l1" rsc="f" node="n1" score="-INFINITY"/><rsc_order id="s1" first="f" then="t" kind="Serialize"/>';
    const probe = lrm('t', op('t', 'n1', 'monitor', 0, 7, T - 100, 3, 7));
    // f runs and must stop: its start is required and unrunnable, t's start waits for it forever.
    expect(planned(cib(['n1'], prim('f') + prim('t'), cons, { n1: lrm('f', op('f', 'n1', 'start', 0, 0, T - 100, 2)) + probe }))).toEqual({
      placement: { f: null, t: null },
      actions: ['stop:f'],
    });
    // f never ran: its start stays optional, the graph drops the ordering, t starts.
    expect(planned(cib(['n1'], prim('f') + prim('t'), cons, { n1: probe }))).toEqual({ placement: { f: null, t: 'n1' }, actions: ['start:t'] });
  });

  it('restarts a resource active with another agent than configured (pcmk__rsc_agent_changed)', () => {
    const changed = lrm('a', op('a', 'n1', 'start', 0, 0, T - 100, 2), 'heartbeat');
    // The restart implies the restart of what is ordered after it.
    const ordered = cib(['n1'], prim('a') + prim('b'), '<rsc_order id="ord1" first="a" then="b"/>', { n1: changed + lrm('b', op('b', 'n1', 'start', 0, 0, T - 100, 3)) });
    expect(planned(ordered)).toEqual({ placement: { a: 'n1', b: 'n1' }, actions: ['restart:b', 'restart:a'] });
    // Its start becomes required, so an asymmetrical order from an unrunnable first blocks it.
    const blocked = cib(['n1'], prim('z', '<nvpair id="z-t" name="target-role" value="Stopped"/>') + prim('a'), '<rsc_order id="ord1" first="z" then="a" symmetrical="false"/>', { n1: changed });
    expect(planned(blocked)).toEqual({ placement: { z: null, a: null }, actions: ['stop:a'] });
  });

  it('restarts on a changed definition (op-digest), and a forced start that cannot run blocks INFINITY dependents', () => {
    const digested = (digest: string): string =>
      cib(
        ['n1', 'n2'],
        prim('p', '<nvpair id="p-t" name="target-role" value="Stopped"/>') + prim('d'),
        '<rsc_colocation id="c1" rsc="d" with-rsc="p" score="INFINITY"/><rsc_colocation id="c2" rsc="p" with-rsc="d" score="10"/>',
        { n1: lrm('p', op('p', 'n1', 'start', 0, 0, T - 100, 2)) + lrm('d', op('d', 'n1', 'start', 0, 0, T - 100, 3)) },
      ).replace(/op-status="0" interval="0"/g, `op-status="0" op-digest="${digest}" interval="0"`);
    // The digest of no parameters: nothing changed; d was placed while p was still provisional.
    expect(planned(digested('f2317cad3d54cec5d7d7aa7d0bf35cf8'))).toEqual({ placement: { p: null, d: 'n1' }, actions: ['stop:p'] });
    // Another digest: both are restarted, p's forced start cannot run, so d cannot either.
    expect(planned(digested('0'.repeat(32)))).toEqual({ placement: { p: null, d: null }, actions: ['stop:p', 'stop:d'] });
  });

  it('expands templates: the primitive is the template under its id, its own meta attributes winning (unpack_template)', () => {
    const resources =
      '<template id="t" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="t-m"><nvpair id="t-m1" name="resource-stickiness" value="0"/>' +
      '<nvpair id="t-m2" name="target-role" value="Stopped"/></meta_attributes></template><primitive id="a" template="t"/>' +
      '<primitive id="b" template="t"><meta_attributes id="b-m"><nvpair id="b-m1" name="target-role" value="Started"/></meta_attributes></primitive>';
    // crm_simulate: Start b (n2); a inherits target-role=Stopped.
    expect(planned(cib(['n1', 'n2'], resources, '<rsc_location id="l1" rsc="b" node="n2" score="10"/>', {}))).toEqual({ placement: { a: null, b: 'n2' }, actions: ['start:b'] });
    // A constraint naming the template stands for all its primitives: refused.
    expect(() => readCib(cib(['n1'], resources, '<rsc_location id="l1" rsc="t" node="n1" score="10"/>', {}))).toThrow(/constraint naming template t/);
  });
});

