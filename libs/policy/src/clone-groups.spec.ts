import { readCib } from './cib-reader';
import { nodesOf } from './nodes-of.spec-util';

// Anonymous clones of groups through readCib + plan (see Note [Clones of groups] in
// clone-groups.ts). Every expected placement here was measured with crm_simulate
// (Pacemaker 2.1.5) on the same CIB.

const nv = (id: string, name: string, value: string): string => `<nvpair id="${id}" name="${name}" value="${value}"/>`;
const meta = (id: string, m: string): string => (m ? `<meta_attributes id="${id}-m">${m}</meta_attributes>` : '');
const P = (id: string, m = ''): string => `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy">${meta(id, m)}</primitive>`;
const G = (id: string, members: string[], m = ''): string => `<group id="${id}">${meta(id, m)}${members.map((x) => P(x)).join('')}</group>`;
const C = (id: string, child: string, m = ''): string => `<clone id="${id}">${meta(id, m)}${child}</clone>`;
const ord = (id: string, first: string, then: string): string => `<rsc_order id="${id}" first="${first}" then="${then}"/>`;
const loc = (id: string, rsc: string, node: string, score: string | number): string => `<rsc_location id="${id}" rsc="${rsc}" node="${node}" score="${score}"/>`;
const colo = (id: string, rsc: string, withRsc: string): string => `<rsc_colocation id="${id}" rsc="${rsc}" with-rsc="${withRsc}" score="INFINITY"/>`;

/** A CIB over nodes n1..n`nodes`; `running` lists [history id, node] pairs, started there. */
function cib(nodes: number, resources: string, constraints: string, running: Array<[string, string]> = [], attrs = ''): string {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const lrm = (node: string): string =>
    running
      .filter(([, n]) => n === node)
      .map(
        ([r], i) =>
          `<lrm_resource id="${r}" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="${r}_last_0" operation_key="${r}_start_0" operation="start" ` +
          `transition-key="1:1:0:x" call-id="${i + 2}" rc-code="0" op-status="0" interval="0"/></lrm_resource>`,
      )
      .join('');
  return (
    `<cib have-quorum="1" execution-date="1700000000" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config><cluster_property_set id="o">` +
    `${nv('s', 'stonith-enabled', 'false')}</cluster_property_set></crm_config><nodes>${names.map((n, i) => `<node id="${i + 1}" uname="${n}"/>`).join('')}</nodes>` +
    `<resources>${resources}</resources><constraints>${constraints}</constraints></configuration><status>` +
    names
      .map((n, i) => `<node_state id="${i + 1}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member">${attrs && n === 'n1' ? attrs : ''}<lrm id="${i + 1}"><lrm_resources>${lrm(n)}</lrm_resources></lrm></node_state>`)
      .join('') +
    `</status></cib>`
  );
}


const CG = (m = ''): string => C('c', G('g', ['a', 'b']), m);

export const CLONE_GROUP_CASES: Array<{ name: string; xml: string; expected: Record<string, string[]> }> = [
  { name: 'every node runs an instance of the group', xml: cib(3, CG(), ''), expected: { a: ['n1', 'n2', 'n3'], b: ['n1', 'n2', 'n3'] } },
  { name: 'clone-max limits the group instances', xml: cib(3, CG(nv('cm', 'clone-max', '2')), loc('l1', 'c', 'n3', 10)), expected: { a: ['n1', 'n3'], b: ['n1', 'n3'] } },
  {
    name: 'an active instance stays, histories without instance numbers',
    xml: cib(3, CG(nv('cm', 'clone-max', '1')), loc('l1', 'c', 'n1', 1), [['a', 'n2'], ['b', 'n2']]),
    expected: { a: ['n2'], b: ['n2'] },
  },
  {
    name: 'histories with instance numbers map to the instance active there',
    xml: cib(3, CG(nv('cm', 'clone-max', '2')), '', [['a:1', 'n3'], ['b:1', 'n3'], ['a:0', 'n2']]),
    expected: { a: ['n2', 'n3'], b: ['n2', 'n3'] },
  },
  {
    name: 'a -INFINITY location bans every member of every instance',
    xml: cib(3, CG(), loc('l1', 'c', 'n2', '-INFINITY'), [['a', 'n2'], ['b', 'n2']]),
    expected: { a: ['n1', 'n3'], b: ['n1', 'n3'] },
  },
  {
    name: 'a primitive ordered after a clone of groups that cannot run stays stopped',
    xml: cib(2, CG() + P('p'), loc('l1', 'c', 'n1', '-INFINITY') + loc('l2', 'c', 'n2', '-INFINITY') + ord('o1', 'c', 'p')),
    expected: { a: [], b: [], p: [] },
  },
  {
    name: 'interleaved clone of groups after a clone: an instance needs the other on its node',
    xml: cib(3, C('x', P('d')) + C('c', G('g', ['a', 'b']), nv('il', 'interleave', 'true')), loc('l1', 'x', 'n1', '-INFINITY') + ord('o1', 'x', 'c')),
    expected: { d: ['n2', 'n3'], a: ['n2', 'n3'], b: ['n2', 'n3'] },
  },
  {
    name: 'a primitive with the clone of groups goes where an instance runs',
    xml: cib(3, CG(nv('cm', 'clone-max', '1')) + P('p'), loc('l1', 'c', 'n3', 5) + colo('c1', 'p', 'c')),
    expected: { a: ['n3'], b: ['n3'], p: ['n3'] },
  },
  {
    name: 'a primitive with a clone of groups that cannot run stays stopped',
    xml: cib(2, CG() + P('p'), loc('l1', 'c', 'n1', '-INFINITY') + loc('l2', 'c', 'n2', '-INFINITY') + colo('c1', 'p', 'c')),
    expected: { a: [], b: [], p: [] },
  },
];

describe('anonymous clones of groups (measured with crm_simulate)', () => {
  it.each(CLONE_GROUP_CASES)('$name', ({ xml, expected }) => {
    expect(nodesOf(xml)).toEqual(expected);
  });

  it('refuses what it does not plan', () => {
    expect(() => readCib(cib(2, CG(nv('p', 'promotable', 'true')), ''))).toThrow('promotable <clone> c of a <group>');
    expect(() => readCib(cib(2, CG(nv('u', 'globally-unique', 'true')), ''))).toThrow('globally-unique <clone> c of a <group>');
    expect(() => readCib(cib(2, CG() + P('p'), colo('c1', 'c', 'p')))).toThrow('rsc_colocation c1 with clone c of a group');
    expect(() => readCib(cib(2, CG(), loc('l1', 'a', 'n1', 5)))).toThrow('rsc_location on a in a cloned group');
    const fails = `<transient_attributes id="t1"><instance_attributes id="t1-a">${nv('f1', 'fail-count-a#monitor_10000', '3')}</instance_attributes></transient_attributes>`;
    expect(() => readCib(cib(2, CG(), '', [], fails))).toThrow('fail count of a in a cloned group');
  });
});
