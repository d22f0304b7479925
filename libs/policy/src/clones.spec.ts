import { readCib } from './cib-reader';
import { nodesOf } from './nodes-of.spec-util';

// Anonymous clone assignment through readCib + plan (see Note [Clones] in clones.ts). Every
// expected placement here was measured with crm_simulate (Pacemaker 2.1.5) on the same CIB.

const nv = (id: string, name: string, value: string): string => `<nvpair id="${id}" name="${name}" value="${value}"/>`;
const P = (id: string, meta = ''): string =>
  `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy">${meta ? `<meta_attributes id="${id}-m">${meta}</meta_attributes>` : ''}</primitive>`;
const C = (id: string, child: string, meta = ''): string => `<clone id="${id}">${meta ? `<meta_attributes id="${id}-m">${meta}</meta_attributes>` : ''}${child}</clone>`;
const ord = (id: string, first: string, then: string): string => `<rsc_order id="${id}" first="${first}" then="${then}"/>`;
const loc = (id: string, rsc: string, node: string, score: string | number): string => `<rsc_location id="${id}" rsc="${rsc}" node="${node}" score="${score}"/>`;

/** One history entry: `rsc` started (`rc` 0) or failed (monitor rc 1) on a node. */
type Run = [rsc: string, node: string, failed?: boolean];

/** A CIB over nodes n1..n`nodes`; `standby` nodes are in standby, `down` ones offline. */
export function cloneCib(nodes: number, resources: string, constraints: string, running: Run[] = [], opts: { standby?: string[]; down?: string[]; attrs?: string } = {}): string {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const lrm = (node: string): string =>
    running
      .filter(([, n]) => n === node)
      .map(
        ([r, , failed], i) =>
          `<lrm_resource id="${r}" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="${r}_last_0" operation_key="${r}_start_0" operation="start" ` +
          `transition-key="1:1:0:x" call-id="${2 * i + 2}" rc-code="0" op-status="0" interval="0"/>` +
          (failed ? `<lrm_rsc_op id="${r}_mon" operation_key="${r}_monitor_10000" operation="monitor" transition-key="2:1:0:x" call-id="${2 * i + 3}" rc-code="1" op-status="0" interval="10000"/>` : '') +
          `</lrm_resource>`,
      )
      .join('');
  const standby = (n: string): string => (opts.standby?.includes(n) ? `<instance_attributes id="${n}-a">${nv(`${n}-s`, 'standby', 'on')}</instance_attributes>` : '');
  const up = (n: string): string => (opts.down?.includes(n) ? 'in_ccm="false" crmd="offline" join="down" expected="down"' : 'in_ccm="true" crmd="online" join="member" expected="member"');
  return (
    `<cib have-quorum="1" execution-date="1700000000" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config><cluster_property_set id="o">` +
    `${nv('s', 'stonith-enabled', 'false')}</cluster_property_set></crm_config><nodes>${names.map((n, i) => `<node id="${i + 1}" uname="${n}">${standby(n)}</node>`).join('')}</nodes>` +
    `<resources>${resources}</resources><constraints>${constraints}</constraints></configuration><status>` +
    names.map((n, i) => `<node_state id="${i + 1}" uname="${n}" ${up(n)}><lrm id="${i + 1}"><lrm_resources>${lrm(n)}</lrm_resources></lrm></node_state>`).join('') +
    `</status></cib>`
  );
}


export const CLONE_CASES: Array<{ name: string; xml: string; expected: Record<string, string[]> }> = [
  { name: 'runs on every node by default', xml: cloneCib(3, C('c', P('d')), ''), expected: { d: ['n1', 'n2', 'n3'] } },
  { name: 'clone-max limits the instances', xml: cloneCib(4, C('c', P('d'), nv('cm', 'clone-max', '2')), ''), expected: { d: ['n1', 'n2'] } },
  {
    name: 'active instances stay where they run',
    xml: cloneCib(4, C('c', P('d'), nv('cm', 'clone-max', '2')), '', [['d', 'n3'], ['d', 'n4']]),
    expected: { d: ['n3', 'n4'] },
  },
  {
    name: 'a location on the clone outweighs the default stickiness',
    xml: cloneCib(3, C('c', P('d'), nv('cm', 'clone-max', '1')), loc('l1', 'c', 'n2', 10), [['d', 'n1']]),
    expected: { d: ['n2'] },
  },
  {
    name: 'stickiness keeps an instance against a smaller preference',
    xml: cloneCib(3, C('c', P('d'), nv('cm', 'clone-max', '1') + nv('st', 'resource-stickiness', '20')), loc('l1', 'c', 'n2', 10), [['d', 'n1']]),
    expected: { d: ['n1'] },
  },
  { name: 'a -INFINITY location bans every instance', xml: cloneCib(3, C('c', P('d')), loc('l1', 'c', 'n2', '-INFINITY')), expected: { d: ['n1', 'n3'] } },
  { name: 'standby and offline nodes run no instance', xml: cloneCib(4, C('c', P('d')), '', [['d', 'n2']], { standby: ['n2'], down: ['n4'] }), expected: { d: ['n1', 'n3'] } },
  {
    name: 'clone instances count when later primitives balance',
    xml: cloneCib(3, C('c', P('d'), nv('cm', 'clone-max', '2')) + P('p1') + P('p2'), ''),
    expected: { d: ['n1', 'n2'], p1: ['n3'], p2: ['n1'] },
  },
  {
    name: 'a failed instance recovers in place',
    xml: cloneCib(2, C('c', P('d')), '', [['d', 'n1', true], ['d', 'n2']]),
    expected: { d: ['n1', 'n2'] },
  },
  {
    name: 'a target-role=Stopped clone stops everywhere',
    xml: cloneCib(2, C('c', P('d'), nv('tr', 'target-role', 'Stopped')), '', [['d', 'n1']]),
    expected: { d: [] },
  },
  {
    name: 'a primitive ordered after a clone that cannot run stays stopped',
    xml: cloneCib(2, C('c', P('d')) + P('p'), loc('l1', 'c', 'n1', '-INFINITY') + loc('l2', 'c', 'n2', '-INFINITY') + ord('ord1', 'c', 'p')),
    expected: { d: [], p: [] },
  },
  {
    name: 'clone-min: what follows needs that many instances',
    xml: cloneCib(3, C('c', P('d'), nv('cmin', 'clone-min', '3')) + P('p'), loc('l1', 'c', 'n1', '-INFINITY') + ord('ord1', 'c', 'p'), [['p', 'n2']]),
    expected: { d: ['n2', 'n3'], p: [] },
  },
  {
    name: 'no instance starts after a primitive that cannot run',
    xml: cloneCib(2, P('p') + C('c', P('d')), loc('l1', 'p', 'n1', '-INFINITY') + loc('l2', 'p', 'n2', '-INFINITY') + ord('ord1', 'p', 'c')),
    expected: { d: [], p: [] },
  },
  {
    name: 'interleaved clones: an instance needs the other clone on its node',
    xml: cloneCib(3, C('a', P('x')) + C('b', P('y'), nv('il', 'interleave', 'true')), loc('l1', 'a', 'n1', '-INFINITY') + ord('ord1', 'a', 'b')),
    expected: { x: ['n2', 'n3'], y: ['n2', 'n3'] },
  },
  {
    name: 'clones not interleaved: any instance of the first will do',
    xml: cloneCib(3, C('a', P('x')) + C('b', P('y')), loc('l1', 'a', 'n1', '-INFINITY') + ord('ord1', 'a', 'b')),
    expected: { x: ['n2', 'n3'], y: ['n1', 'n2', 'n3'] },
  },
];

describe('anonymous clones (measured with crm_simulate)', () => {
  it.each(CLONE_CASES)('$name', ({ xml, expected }) => {
    expect(nodesOf(xml)).toEqual(expected);
  });

  it('refuses what it does not plan', () => {
    expect(() => readCib(cloneCib(2, C('c', `<group id="g">${P('d')}</group>`, nv('p', 'promotable', 'true')), ''))).toThrow('promotable <clone> c of a <group>');
    expect(() => readCib(cloneCib(2, C('c', P('d')), loc('l', 'd', 'n1', 5)))).toThrow('rsc_location on d in clone c');
  });
});
