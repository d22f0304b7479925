import { CibError, readCib } from './cib-reader';
import { plan } from './plan';
import { nodesOf } from './nodes-of.spec-util';

// Opt-in clusters (Note [Opt-in clusters], opt-in.ts), clusters without quorum (Note [Quorum],
// quorum.ts), several histories of one clone on a node (`find_anonymous_clone`), globally-unique
// clones and a primitive's colocation with a clone (Note [Colocation with a clone]). Every expected placement was measured with crm_simulate (Pacemaker 2.1.5,
// `crm_simulate -x <cib> -S`) on the same CIB.

const T = 1_700_000_000;
const DIGEST = 'f2317cad3d54cec5d7d7aa7d0bf35cf8'; // a Dummy start without parameters
const nv = (id: string, name: string, value: string): string => `<nvpair id="${id}" name="${name}" value="${value}"/>`;
const P = (id: string, meta = ''): string =>
  `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy">${meta ? `<meta_attributes id="${id}-m">${meta}</meta_attributes>` : ''}</primitive>`;
const G = (id: string, members: string): string => `<group id="${id}">${members}</group>`;
const C = (id: string, child: string): string => `<clone id="${id}">${child}</clone>`;
const loc = (id: string, rsc: string, node: string, score: string | number): string => `<rsc_location id="${id}" rsc="${rsc}" node="${node}" score="${score}"/>`;
const col = (id: string, rsc: string, w: string, score: string | number): string => `<rsc_colocation id="${id}" rsc="${rsc}" with-rsc="${w}" score="${score}"/>`;
const ord = (id: string, first: string, then: string): string => `<rsc_order id="${id}" first="${first}" then="${then}"/>`;

/** One history entry: `rsc` started on a node (with the start's digest unless `digest` is false), its monitor failed when `failed`. */
type Run = [rsc: string, node: string, failed?: boolean];

function cib(nodes: number, options: string, resources: string, constraints: string, running: Run[] = [], quorum: string | null = '1', digest = true): string {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const lrm = (node: string): string =>
    running
      .filter(([, n]) => n === node)
      .map(
        ([r, , failed], i) =>
          `<lrm_resource id="${r}" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="${r}_last_0" operation_key="${r}_start_0" operation="start" ` +
          `transition-key="1:1:0:x" call-id="${2 * i + 2}" rc-code="0" op-status="0" interval="0"${digest ? ` op-digest="${DIGEST}"` : ''}/>` +
          (failed ? `<lrm_rsc_op id="${r}_mon" operation_key="${r}_monitor_10000" operation="monitor" transition-key="2:1:0:x" call-id="${2 * i + 3}" rc-code="1" op-status="0" interval="10000"/>` : '') +
          `</lrm_resource>`,
      )
      .join('');
  return (
    `<cib ${quorum === null ? '' : `have-quorum="${quorum}" `}execution-date="${T}" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">` +
    `<configuration><crm_config><cluster_property_set id="o">${nv('s', 'stonith-enabled', 'false')}${options}</cluster_property_set></crm_config>` +
    `<nodes>${names.map((n, i) => `<node id="${i + 1}" uname="${n}"/>`).join('')}</nodes>` +
    `<resources>${resources}</resources><constraints>${constraints}</constraints></configuration><status>` +
    names.map((n, i) => `<node_state id="${i + 1}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="${i + 1}"><lrm_resources>${lrm(n)}</lrm_resources></lrm></node_state>`).join('') +
    `</status></cib>`
  );
}


const optIn = nv('sym', 'symmetric-cluster', 'false');
const policy = (p: string): string => nv('nq', 'no-quorum-policy', p);

export const OPT_IN_CASES: Array<{ name: string; xml: string; expected: Record<string, string[]> }> = [
  { name: 'a location of score 0 allows a node; no location, no node', xml: cib(3, optIn, P('a') + P('b'), loc('l1', 'a', 'n2', 0)), expected: { a: ['n2'], b: [] } },
  {
    name: 'a negative location still allows the node: a colocation can lift it',
    xml: cib(2, optIn, P('c') + P('d'), loc('l1', 'c', 'n1', -10) + loc('l2', 'd', 'n1', 100) + col('c1', 'c', 'd', 20)),
    expected: { c: ['n1'], d: ['n1'] },
  },
  {
    name: 'a location on a group allows its node for every member',
    xml: cib(3, optIn, G('g', P('m1') + P('m2')), loc('l1', 'g', 'n2', 5) + loc('l2', 'm2', 'n3', 10)),
    expected: { m1: ['n2'], m2: ['n2'] },
  },
  { name: 'a clone runs only where a location allows it', xml: cib(3, optIn, C('cl', P('x')), loc('l1', 'cl', 'n1', 0) + loc('l2', 'cl', 'n3', 0)), expected: { x: ['n1', 'n3'] } },
  {
    name: 'an unmanaged resource stays; stickiness does not keep a resource where it is not allowed',
    xml: cib(2, optIn, P('u', nv('um', 'is-managed', 'false')) + P('v', nv('st', 'resource-stickiness', '100')), loc('l1', 'v', 'n2', 0), [['u', 'n1'], ['v', 'n1']]),
    expected: { u: ['n1'], v: ['n2'] },
  },
  {
    name: 'a mandatory colocation follows its primary to a node the dependent is allowed on',
    xml: cib(3, optIn, P('p') + P('q'), loc('l1', 'p', 'n1', 10) + loc('l2', 'q', 'n2', 0) + loc('l3', 'q', 'n1', 0) + col('c1', 'q', 'p', 'INFINITY')),
    expected: { p: ['n1'], q: ['n1'] },
  },
  {
    name: '… and cannot run when the primary is on a node it is not allowed on',
    xml: cib(3, optIn, P('p') + P('q'), loc('l1', 'p', 'n1', 10) + loc('l2', 'q', 'n2', 0) + col('c1', 'q', 'p', 'INFINITY')),
    expected: { p: ['n1'], q: [] },
  },
  {
    name: 'an optional colocation picks among the allowed nodes',
    xml: cib(3, optIn, P('p') + P('q'), loc('l1', 'q', 'n3', 0) + loc('l2', 'p', 'n2', 0) + loc('l3', 'p', 'n3', 0) + col('c1', 'p', 'q', 50)),
    expected: { p: ['n3'], q: ['n3'] },
  },
  {
    name: 'fencing enabled without a device: what runs stays, allowed or not',
    xml: cib(2, optIn, P('a') + P('b') + P('c'), loc('l1', 'b', 'n2', 0) + col('c1', 'c', 'a', 10) + loc('l2', 'c', 'n2', 0) + loc('l3', 'c', 'n1', 0), [['a', 'n1'], ['b', 'n1']]).replace(
      nv('s', 'stonith-enabled', 'false'),
      '',
    ),
    expected: { a: ['n1'], b: ['n1'], c: [] },
  },
  {
    name: 'a resource frozen by a ticket stays where no location allows it',
    xml: cib(2, optIn, P('a') + P('b'), loc('l1', 'b', 'n1', 0) + loc('l2', 'b', 'n2', 0) + col('c1', 'b', 'a', 'INFINITY') + '<rsc_ticket id="t1" rsc="a" ticket="T" loss-policy="freeze"/>', [['a', 'n1']]),
    expected: { a: ['n1'], b: ['n1'] },
  },
];

export const NO_QUORUM_CASES: Array<{ name: string; xml: string; expected: Record<string, string[]> }> = [
  { name: 'stop (the default): what runs stops, nothing starts', xml: cib(2, '', P('a') + P('b'), '', [['a', 'n1']], '0'), expected: { a: [], b: [] } },
  { name: 'an unknown policy is stop', xml: cib(2, policy('bogus'), P('a') + P('b'), '', [['a', 'n1']], '0'), expected: { a: [], b: [] } },
  { name: 'demote is stop for resources that are not promotable', xml: cib(2, policy('demote'), P('a') + P('b'), '', [['a', 'n2']], 'false'), expected: { a: [], b: [] } },
  { name: 'a CIB without have-quorum has no quorum', xml: cib(2, '', P('a') + P('b'), '', [['a', 'n1']], null), expected: { a: [], b: [] } },
  { name: 'stop: a clone stops everywhere', xml: cib(3, policy('stop'), C('cl', P('x')), '', [['x', 'n2']], '0'), expected: { x: [] } },
  {
    name: 'stop: requires=nothing starts, unless it depends on what cannot start',
    xml: cib(
      2,
      policy('stop'),
      P('a') + P('f', nv('rq1', 'requires', 'nothing')) + P('g', nv('rq2', 'requires', 'nothing')) + P('h', nv('rq3', 'requires', 'nothing')),
      col('c1', 'g', 'a', 'INFINITY') + ord('o1', 'a', 'h'),
      [['a', 'n1']],
      '0',
    ),
    expected: { a: [], f: ['n2'], g: [], h: [] },
  },
  {
    name: 'stop: a clone with requires=nothing starts everywhere',
    xml: cib(3, policy('stop'), `<clone id="cl"><meta_attributes id="cl-m">${nv('rqc', 'requires', 'nothing')}</meta_attributes>${P('x')}</clone>` + P('a'), '', [['x', 'n1'], ['a', 'n2']], '0'),
    expected: { a: [], x: ['n1', 'n2', 'n3'] },
  },
  {
    name: 'freeze: a clone keeps its active instances, starts no other',
    xml: cib(3, policy('freeze'), `<clone id="cl"><meta_attributes id="cl-m">${nv('cm', 'clone-max', '2')}</meta_attributes>${P('x')}</clone>`, '', [['x', 'n3']], '0'),
    expected: { x: ['n3'] },
  },
  {
    name: 'freeze: what runs may move or recover, nothing new starts',
    xml: cib(2, policy('freeze'), P('a') + P('b') + P('c'), loc('l1', 'a', 'n1', '-INFINITY'), [['a', 'n1'], ['c', 'n2', true]], '0'),
    expected: { a: ['n2'], b: [], c: ['n2'] },
  },
  {
    name: 'freeze: a changed definition cannot restart (its forced start stays unrunnable)',
    xml: cib(2, policy('freeze'), P('a') + P('b') + P('c'), loc('l1', 'a', 'n1', '0'), [['a', 'n1'], ['c', 'n2', true]], '0', false),
    expected: { a: [], b: [], c: [] },
  },
  {
    name: 'freeze: a recovery and what is ordered after it',
    xml: cib(2, policy('freeze'), P('a') + P('b'), ord('o1', 'a', 'b'), [['a', 'n1', true], ['b', 'n1']], '0'),
    expected: { a: ['n1'], b: ['n2'] },
  },
  {
    name: 'freeze: a running dependent of a primary that cannot start stops',
    xml: cib(2, policy('freeze'), P('a') + P('b'), col('c1', 'b', 'a', 'INFINITY'), [['b', 'n1']], '0'),
    expected: { a: [], b: [] },
  },
  {
    name: 'freeze: requires=nothing ordered after what cannot start',
    xml: cib(2, policy('freeze'), P('a', nv('rq', 'requires', 'Nothing')) + P('b'), ord('o1', 'b', 'a'), [], '0'),
    expected: { a: [], b: [] },
  },
];

/** A clone history entry on a node: started (running), probed (not running) or stopped. */
const hist = (id: string, op: 'start' | 'probe' | 'stop', call: number): string =>
  `<lrm_resource id="${id}" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="${id}_last_0" operation_key="${id}_${op === 'probe' ? 'monitor' : op}_0" ` +
  `operation="${op === 'probe' ? 'monitor' : op}" transition-key="1:1:${op === 'probe' ? 7 : 0}:x" call-id="${call}" rc-code="${op === 'probe' ? 7 : 0}" op-status="0" interval="0" op-digest="${DIGEST}"/></lrm_resource>`;
/** A 3-node CIB whose status holds the given lrm_resource entries per node. */
const withHistories = (resources: string, lrms: Record<string, string>): string => {
  let xml = cib(3, '', resources, '');
  for (const [node, entries] of Object.entries(lrms)) xml = xml.replace(`uname="${node}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="${node.slice(1)}"><lrm_resources>`, (m) => m + entries);
  return xml;
};
const clone2 = `<clone id="cl"><meta_attributes id="cl-m">${nv('cm', 'clone-max', '2')}</meta_attributes>${P('x')}</clone>`;

export const HISTORY_CASES: Array<{ name: string; xml: string; expected: Record<string, string[]> }> = [
  {
    name: 'a probe of one instance and a start of another on one node: one active instance there',
    xml: withHistories(clone2, { n1: hist('x:0', 'probe', 2) + hist('x:1', 'start', 3), n2: hist('x:0', 'start', 4) }),
    expected: { x: ['n1', 'n2'] },
  },
  {
    name: 'a stopped history after an active one changes nothing',
    xml: withHistories(clone2, { n1: hist('x:1', 'start', 3) + hist('x:0', 'stop', 5), n3: hist('x', 'start', 4) }),
    expected: { x: ['n1', 'n3'] },
  },
];

const unique = (meta: string): string =>
  `<clone id="cl"><meta_attributes id="cl-m">${nv('gu', 'globally-unique', 'true')}${meta}</meta_attributes>${P('x')}</clone>`;
/** A fail count of `rsc` on node n1 (its monitor). */
const failCount = (xml: string, rsc: string): string =>
  xml.replace(
    '<lrm id="1">',
    `<transient_attributes id="1"><instance_attributes id="st-1">${nv('fc1', `fail-count-${rsc}#monitor_10000`, '1')}${nv('lf1', `last-failure-${rsc}#monitor_10000`, String(T - 1000))}</instance_attributes></transient_attributes><lrm id="1">`,
  );

export const UNIQUE_CASES: Array<{ name: string; xml: string; expected: Record<string, string[]> }> = [
  { name: 'clone-node-max instances per node', xml: cib(2, '', unique(nv('cm', 'clone-max', '4') + nv('cnm', 'clone-node-max', '2')), ''), expected: { x: ['n1', 'n1', 'n2', 'n2'] } },
  {
    name: 'two instances active on one node, one allowed there: the other moves',
    xml: withHistories(unique(nv('cm', 'clone-max', '2')), { n1: hist('x:0', 'start', 2) + hist('x:1', 'start', 3) }),
    expected: { x: ['n1', 'n2'] },
  },
  {
    name: 'a fail count bans its instance alone',
    xml: failCount(withHistories(unique(nv('cm', 'clone-max', '2') + nv('cnm', 'clone-node-max', '2') + nv('mt', 'migration-threshold', '1')), { n1: hist('x:0', 'start', 2) + hist('x:1', 'start', 3) }), 'x:0'),
    expected: { x: ['n1', 'n2'] },
  },
  {
    name: 'a location draws every instance the node can take',
    xml: withHistories(unique(nv('cm', 'clone-max', '3') + nv('cnm', 'clone-node-max', '3')) + P('y'), { n2: hist('x:2', 'start', 2) }).replace('<constraints>', `<constraints>${loc('l1', 'cl', 'n1', 10)}`),
    expected: { x: ['n1', 'n1', 'n1'], y: ['n2'] },
  },
];

const clone = (max?: number): string => `<clone id="cl">${max ? `<meta_attributes id="cl-m">${nv('cm', 'clone-max', String(max))}</meta_attributes>` : ''}${P('x')}</clone>`;
const withClone = col('c1', 'd', 'cl', 'INFINITY');

export const CLONE_COLOCATION_CASES: Array<{ name: string; xml: string; expected: Record<string, string[]> }> = [
  { name: 'the clone takes the dependent’s preference when not every node gets an instance', xml: cib(3, '', clone(2) + P('d'), withClone + loc('l1', 'd', 'n3', 100)), expected: { d: ['n3'], x: ['n1', 'n3'] } },
  {
    name: '… even moving an active instance',
    xml: cib(3, '', clone(2) + P('d'), withClone + loc('l1', 'd', 'n3', 100), [['x', 'n1'], ['x', 'n2']]),
    expected: { d: ['n3'], x: ['n2', 'n3'] },
  },
  {
    name: 'instances are kept by the dependent’s score on their node',
    xml: cib(3, '', clone(2) + P('d'), withClone + loc('l1', 'd', 'n1', '-INFINITY'), [['x', 'n1'], ['x', 'n2']]),
    expected: { d: ['n2'], x: ['n2', 'n3'] },
  },
  { name: 'the dependent runs only where an instance runs', xml: cib(3, '', clone() + P('d'), withClone + loc('l1', 'cl', 'n2', '-INFINITY') + loc('l2', 'd', 'n2', 50)), expected: { d: ['n1'], x: ['n1', 'n3'] } },
  { name: 'the dependent’s preference lifts a negative clone score', xml: cib(3, '', P('d') + clone(1), withClone + loc('l1', 'cl', 'n1', '-10') + loc('l2', 'd', 'n1', 20)), expected: { d: ['n1'], x: ['n1'] } },
  {
    name: 'a clone that cannot start blocks the dependent',
    xml: cib(3, '', clone(2) + P('d') + P('z'), withClone + ord('o1', 'z', 'cl') + ['n1', 'n2', 'n3'].map((n, i) => loc(`l${i}`, 'z', n, '-INFINITY')).join('')),
    expected: { d: [], x: [], z: [] },
  },
  {
    name: 'unassigned instances count as instances that cannot start',
    xml: cib(
      3,
      '',
      clone() + P('d') + P('z'),
      withClone + ord('o1', 'z', 'cl') + loc('l1', 'cl', 'n2', '-INFINITY') + loc('l2', 'cl', 'n3', '-INFINITY') + ['n1', 'n2', 'n3'].map((n, i) => loc(`lz${i}`, 'z', n, '-INFINITY')).join(''),
      [['x', 'n1']],
    ),
    expected: { d: [], x: [], z: [] },
  },
  { name: 'an instance follows the dependent elsewhere', xml: cib(3, '', clone(1) + P('d'), withClone + loc('l1', 'd', 'n2', 100), [['x', 'n1'], ['d', 'n1']]), expected: { d: ['n2'], x: ['n2'] } },
];

describe('a primitive colocated with a clone (measured with crm_simulate)', () => {
  it.each(CLONE_COLOCATION_CASES)('$name', ({ xml, expected }) => {
    expect(nodesOf(xml)).toEqual(expected);
  });

  it('refuses other colocations with clones', () => {
    expect(() => readCib(cib(2, '', clone() + P('d'), col('c1', 'd', 'cl', 100)))).toThrow(/rsc_colocation c1 with clone cl/);
    expect(() => readCib(cib(2, '', clone() + P('d'), col('c1', 'cl', 'd', 'INFINITY')))).toThrow(/rsc_colocation c1 with clone cl/);
    expect(() => readCib(cib(2, '', clone() + P('d') + P('e'), withClone + col('c2', 'e', 'd', 10)))).toThrow(/besides another colocation/);
  });
});

describe('an asymmetrical order between interleaved clones (measured with crm_simulate)', () => {
  it('does not keep an instance from starting where no instance of the first runs', () => {
    const xml = cib(
      3,
      '',
      `<clone id="a">${P('x')}</clone><clone id="b"><meta_attributes id="b-m">${nv('il', 'interleave', 'true')}</meta_attributes>${P('y')}</clone>`,
      loc('l1', 'a', 'n1', '-INFINITY') + '<rsc_order id="ord1" first="a" then="b" symmetrical="false"/>',
    );
    expect(nodesOf(xml)).toEqual({ x: ['n2', 'n3'], y: ['n1', 'n2', 'n3'] });
  });
});

describe('globally-unique clones (measured with crm_simulate)', () => {
  it.each(UNIQUE_CASES)('$name', ({ xml, expected }) => {
    expect(nodesOf(xml)).toEqual(expected);
  });

  it('refuses an active history of an instance the clone does not have', () => {
    expect(() => readCib(withHistories(unique(nv('cm', 'clone-max', '2')), { n1: hist('x:5', 'start', 2) }))).toThrow(/orphan x:5 of globally-unique clone cl active on n1/);
  });
});

describe('several histories of one clone on a node (measured with crm_simulate)', () => {
  it.each(HISTORY_CASES)('$name', ({ xml, expected }) => {
    expect(nodesOf(xml)).toEqual(expected);
  });

  it('refuses two active histories of one clone on a node (Pacemaker makes the second an orphan)', () => {
    expect(() => readCib(withHistories(clone2, { n1: hist('x:0', 'start', 2) + hist('x:1', 'start', 3) }))).toThrow(/several active histories of clone cl on node n1/);
  });
});

describe('opt-in clusters (symmetric-cluster=false, measured with crm_simulate)', () => {
  it.each(OPT_IN_CASES)('$name', ({ xml, expected }) => {
    expect(nodesOf(xml)).toEqual(expected);
  });

  it('explains a node no location allows', () => {
    const input = readCib(cib(2, optIn, P('a'), ''));
    expect(plan(input.spec, input.state, input.history, input.now!).explanations['a']).toMatch(/symmetric-cluster=false/);
  });
});

describe('clusters without quorum (no-quorum-policy, measured with crm_simulate)', () => {
  it.each(NO_QUORUM_CASES)('$name', ({ xml, expected }) => {
    expect(nodesOf(xml)).toEqual(expected);
  });

  it('explains a start blocked for want of quorum', () => {
    const input = readCib(cib(2, '', P('a'), '', [], '0'));
    expect(plan(input.spec, input.state, input.history, input.now!).explanations['a']).toBe('cannot start: no quorum (no-quorum-policy=stop)');
  });

  it('refuses suicide with no-quorum-panic (it fences every node)', () => {
    const xml = cib(2, policy('suicide'), P('a'), '', [], '0').replace('<cib ', '<cib no-quorum-panic="1" ').replace(nv('s', 'stonith-enabled', 'false'), '');
    expect(() => readCib(xml)).toThrow(CibError);
    expect(() => readCib(xml)).toThrow(/no-quorum-policy=suicide without quorum/);
  });
});
