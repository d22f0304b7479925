import { readCib } from './cib-reader';
import { plan } from './plan';

// Promotable clones that are globally unique (see Note [Promotable clones] in promotable.ts):
// their instances' promotion scores are read under the instance id only, and count where that
// instance is active or has history (or everywhere while it has neither). Every expected placement
// here was measured with crm_simulate (Pacemaker 2.1.5, `crm_simulate -x <cib> -S`) on the same CIB.

const T = 1_700_000_000; // execution-date, seconds
const nv = (id: string, name: string, value: string): string => `<nvpair id="${id}" name="${name}" value="${value}"/>`;
/** A promotable, globally-unique clone `ms` of the primitive `d`, with extra clone meta attributes. */
const MS = (meta: string, unique = true): string =>
  `<clone id="ms"><meta_attributes id="ms-m">${nv('ms-p', 'promotable', 'true')}${nv('ms-u', 'globally-unique', String(unique))}${meta}</meta_attributes>` +
  `<primitive id="d" class="ocf" provider="pacemaker" type="Stateful"/></clone>`;
const op = (rsc: string, task: string, interval: number, rc: number, call: number, target = 0): string =>
  `<lrm_rsc_op id="${rsc}_${task}_${interval}_${call}" operation_key="${rsc}_${task}_${interval}" operation="${task}" ` +
  `transition-key="${call}:1:${target}:00000000-0000-0000-0000-000000000000" transition-magic="0:${rc};${call}:1:${target}:00000000-0000-0000-0000-000000000000" ` +
  `call-id="${call}" rc-code="${rc}" op-status="0" interval="${interval}" last-rc-change="${T - 100}"/>`;
const started = (r: string): string => op(r, 'start', 0, 0, 2);
const probed = (r: string): string => op(r, 'monitor', 0, 7, 2, 7);
const promoted = (r: string): string => op(r, 'start', 0, 0, 2) + op(r, 'promote', 0, 0, 3) + op(r, 'monitor', 10000, 8, 4, 8);

/** A CIB over nodes n1..n`nodes`; `history[node]` lists [lrm id, operations]; `attrs` are transient node attributes. */
function cib(nodes: number, resources: string, constraints: string, history: Record<string, Array<[string, string]>> = {}, attrs: Record<string, Record<string, string>> = {}): string {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const set = (n: string): string =>
    attrs[n] ? `<instance_attributes id="${n}-t">${Object.entries(attrs[n]!).map(([k, v]) => nv(`${n}-t-${k}`, k, v)).join('')}</instance_attributes>` : '';
  const lrm = (n: string): string =>
    (history[n] ?? []).map(([r, ops]) => `<lrm_resource id="${r}" class="ocf" provider="pacemaker" type="Stateful">${ops}</lrm_resource>`).join('');
  return (
    `<cib have-quorum="1" execution-date="${T}" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">` +
    `<configuration><crm_config><cluster_property_set id="o">${nv('s', 'stonith-enabled', 'false')}</cluster_property_set></crm_config>` +
    `<nodes>${names.map((n, i) => `<node id="${i + 1}" uname="${n}"/>`).join('')}</nodes>` +
    `<resources>${resources}</resources><constraints>${constraints}</constraints></configuration><status>` +
    names
      .map(
        (n, i) =>
          `<node_state id="${i + 1}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member">` +
          `<transient_attributes id="${i + 1}">${set(n)}</transient_attributes><lrm id="${i + 1}"><lrm_resources>${lrm(n)}</lrm_resources></lrm></node_state>`,
      )
      .join('') +
    `</status></cib>`
  );
}

/** Where each instance runs (null: stopped). */
function placement(xml: string): Record<string, string | null> {
  const input = readCib(xml);
  return plan(input.spec, input.state, input.history, input.now!).placement;
}

const max = (n: number): string => nv('ms-cm', 'clone-max', String(n));
const nodeMax = (n: number): string => nv('ms-cnm', 'clone-node-max', String(n));

export const PROMOTABLE_UNIQUE_CASES: Array<{ name: string; xml: string; expected: Record<string, string | null> }> = [
  {
    name: "an instance's promotion score is read under its own id (nothing probed: it counts everywhere)",
    xml: cib(3, MS(max(1)), '', {}, { n2: { 'master-d:0': '10' } }),
    expected: { 'd:0': 'n2' },
  },
  {
    name: 'a promotion score under the primitive id does not count for a globally-unique instance',
    xml: cib(3, MS(max(1)), '<rsc_location id="l1" rsc="ms" node="n1" score="5"/>', {}, { n3: { 'master-d': '10' } }),
    expected: { 'd:0': 'n1' },
  },
  {
    name: 'the same clone anonymous takes the score under the primitive id',
    xml: cib(3, MS(max(1), false), '<rsc_location id="l1" rsc="ms" node="n1" score="5"/>', {}, { n3: { 'master-d': '10' } }),
    expected: { 'd:0': 'n3' },
  },
  {
    name: "an instance's score does not count where only another instance was probed",
    xml: cib(3, MS(max(2)), '', { n1: [['d:0', started('d:0')]], n2: [['d:1', started('d:1')]], n3: [['d:0', probed('d:0')]] }, { n3: { 'master-d:1': '100' } }),
    expected: { 'd:0': 'n1', 'd:1': 'n2' },
  },
  {
    name: "an instance's score counts where it was probed itself",
    xml: cib(3, MS(max(2)), '', { n1: [['d:0', started('d:0')]], n2: [['d:1', started('d:1')]], n3: [['d:1', probed('d:1')]] }, { n3: { 'master-d:1': '100' } }),
    expected: { 'd:0': 'n1', 'd:1': 'n3' },
  },
  {
    name: 'several instances per node (clone-node-max), a promoted one stays',
    xml: cib(2, MS(max(3) + nodeMax(2)), '', { n1: [['d:0', promoted('d:0')], ['d:1', started('d:1')]] }, { n2: { 'master-d:2': '50' } }),
    expected: { 'd:0': 'n1', 'd:1': 'n1', 'd:2': 'n2' },
  },
];

describe('globally-unique promotable clones, placed as crm_simulate places them', () => {
  it.each(PROMOTABLE_UNIQUE_CASES)('$name', ({ xml, expected }) => {
    expect(placement(xml)).toEqual(expected);
  });
});
