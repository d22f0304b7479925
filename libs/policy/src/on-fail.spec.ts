import { CibError, readCib } from './cib-reader';
import { plan } from './plan';

// on-fail is matched per failed operation (see Note [Failure handling] in cib-reader.ts): the
// <op> (enabled or not) with the operation's name and interval (ISO 8601 intervals included), else
// op_defaults. Every expected placement here was measured with crm_simulate (Pacemaker 2.1.5,
// `crm_simulate -x <cib> -S`) on the same CIB; the refused ones block the resource where it
// failed there (it stays on n1, unmanaged), which Nephele does not plan.

const T = 1_700_000_000; // execution-date, seconds
const op = (task: string, interval: number, rc: number, call: number): string =>
  `<lrm_rsc_op id="a_${task}_${interval}_${call}" operation_key="a_${task}_${interval}" operation="${task}" ` +
  `transition-key="${call}:1:0:00000000-0000-0000-0000-000000000000" transition-magic="0:${rc};${call}:1:0:00000000-0000-0000-0000-000000000000" ` +
  `call-id="${call}" rc-code="${rc}" op-status="0" interval="${interval}" last-rc-change="${T - 100}"/>`;
/** `a` (preferring n2) started on n1, where its monitor every `failedMs` then failed; `ops` are its <op>s. */
const cib = (ops: string, failedMs: number, opDefaults = ''): string =>
  `<cib have-quorum="1" execution-date="${T}" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">` +
  `<configuration><crm_config><cluster_property_set id="o"><nvpair id="s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>` +
  `<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>` +
  `<resources><primitive id="a" class="ocf" provider="pacemaker" type="Dummy"><operations>${ops}</operations></primitive></resources>` +
  `<constraints><rsc_location id="l1" rsc="a" node="n2" score="100"/></constraints>` +
  (opDefaults ? `<op_defaults><meta_attributes id="od"><nvpair id="od1" name="on-fail" value="${opDefaults}"/></meta_attributes></op_defaults>` : '') +
  `</configuration><status>` +
  `<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="1"><lrm_resources>` +
  `<lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy">${op('start', 0, 0, 2)}${op('monitor', failedMs, 1, 3)}</lrm_resource></lrm_resources></lrm></node_state>` +
  `<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="2"><lrm_resources/></lrm></node_state>` +
  `</status></cib>`;
const mon = (interval: string, extra = ''): string => `<op id="a-mon-${interval}" name="monitor" interval="${interval}"${extra}/>`;

export const ON_FAIL_CASES: Array<{ name: string; xml: string; expected: Record<string, string | null> | 'refused' }> = [
  { name: 'on-fail=block on another interval of the failed monitor: recovered', xml: cib(mon('10s', ' on-fail="block"') + mon('20s'), 20_000), expected: { a: 'n2' } },
  { name: 'on-fail=block on the failed monitor: refused', xml: cib(mon('10s', ' on-fail="block"') + mon('20s'), 10_000), expected: 'refused' },
  { name: 'an ISO 8601 interval matches the failed monitor: refused', xml: cib(mon('PT20S', ' on-fail="block"'), 20_000), expected: 'refused' },
  { name: 'an ISO 8601 interval of another monitor: recovered', xml: cib(mon('PT1M', ' on-fail="block"') + mon('20'), 20_000), expected: { a: 'n2' } },
  { name: 'a disabled <op> with on-fail=block matches too: refused', xml: cib(mon('20s', ' enabled="false" on-fail="block"'), 20_000), expected: 'refused' },
  { name: "the <op>'s on-fail=restart over op_defaults' block", xml: cib(mon('20s', ' on-fail="restart"'), 20_000, 'block'), expected: { a: 'n2' } },
  { name: 'op_defaults on-fail=block for an unconfigured interval: refused', xml: cib(mon('10s'), 20_000, 'block'), expected: 'refused' },
  { name: 'on-fail=stop on the start only: recovered', xml: cib(`<op id="a-start" name="start" interval="0" on-fail="stop"/>${mon('20s')}`, 20_000), expected: { a: 'n2' } },
];

describe('on-fail of a failed operation, as crm_simulate applies it', () => {
  it.each(ON_FAIL_CASES)('$name', ({ xml, expected }) => {
    if (expected === 'refused') {
      expect(() => readCib(xml)).toThrow(CibError);
      expect(() => readCib(xml)).toThrow(/on-fail=\w+ on a with a failed operation/);
      return;
    }
    const input = readCib(xml);
    expect(plan(input.spec, input.state, input.history, input.now!).placement).toEqual(expected);
  });
});
