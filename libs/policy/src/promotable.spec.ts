import { readCib } from './cib-reader';
import { nodesOf } from './nodes-of.spec-util';

// Promotable clones through readCib + plan (see Note [Promotable clones] in promotable.ts). Every
// expected placement here was measured with crm_simulate (Pacemaker 2.1.5) on the same CIB.

const T = 1_700_000_000; // execution-date, seconds
const nv = (id: string, name: string, value: string): string => `<nvpair id="${id}" name="${name}" value="${value}"/>`;
const P = (id: string, meta = ''): string =>
  `<primitive id="${id}" class="ocf" provider="pacemaker" type="Stateful">${meta ? `<meta_attributes id="${id}-m">${meta}</meta_attributes>` : ''}</primitive>`;
/** A promotable clone (`<master>` when `legacy`). */
const M = (id: string, child: string, meta = '', legacy = false): string =>
  legacy
    ? `<master id="${id}">${meta ? `<meta_attributes id="${id}-m">${meta}</meta_attributes>` : ''}${child}</master>`
    : `<clone id="${id}"><meta_attributes id="${id}-m">${nv(`${id}-p`, 'promotable', 'true')}${meta}</meta_attributes>${child}</clone>`;
const loc = (id: string, rsc: string, node: string, score: string | number, role = ''): string =>
  `<rsc_location id="${id}" rsc="${rsc}" node="${node}" score="${score}"${role ? ` role="${role}"` : ''}/>`;
const colocPromoted = (id: string, rsc: string, withRsc: string, score: string | number): string =>
  `<rsc_colocation id="${id}" rsc="${rsc}" with-rsc="${withRsc}" with-rsc-role="Promoted" score="${score}"/>`;
const ticket = (id: string, rsc: string, t: string, extra = ''): string => `<rsc_ticket id="${id}" rsc="${rsc}" ticket="${t}" rsc-role="Promoted"${extra}/>`;

/** One operation in a resource's history (`target` is the expected rc of the transition). */
const op = (rsc: string, task: string, interval: number, rc: number, call: number, target = 0): string =>
  `<lrm_rsc_op id="${rsc}_${task}_${interval}_${call}" operation_key="${rsc}_${task}_${interval}" operation="${task}" ` +
  `transition-key="${call}:1:${target}:00000000-0000-0000-0000-000000000000" transition-magic="0:${rc};${call}:1:${target}:00000000-0000-0000-0000-000000000000" ` +
  `call-id="${call}" rc-code="${rc}" op-status="0" interval="${interval}" last-rc-change="${T - 100}"/>`;
/** Histories: started (unpromoted), promoted, probed (not running), or promoted then failed. */
const H = {
  started: (r: string): string => op(r, 'start', 0, 0, 2),
  promoted: (r: string): string => op(r, 'start', 0, 0, 2) + op(r, 'promote', 0, 0, 3) + op(r, 'monitor', 10000, 8, 4, 8),
  probedPromoted: (r: string): string => op(r, 'monitor', 0, 8, 2, 7),
  probed: (r: string): string => op(r, 'monitor', 0, 7, 2, 7),
  promotedFailed: (r: string): string => op(r, 'start', 0, 0, 2) + op(r, 'promote', 0, 0, 3) + op(r, 'monitor', 10000, 7, 4, 8),
};
type History = Record<string, Array<[rsc: string, ops: string]>>;

/** A CIB over nodes n1..n`nodes`: `attrs` are transient node attributes, `permanent` configured ones. */
function cib(
  nodes: number,
  resources: string,
  constraints: string,
  history: History = {},
  opts: { attrs?: Record<string, Record<string, string>>; permanent?: Record<string, Record<string, string>>; tickets?: string } = {},
): string {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const attrSet = (n: string, kind: string, a: Record<string, string> | undefined): string =>
    a ? `<instance_attributes id="${n}-${kind}">${Object.entries(a).map(([k, v]) => nv(`${n}-${kind}-${k}`, k, v)).join('')}</instance_attributes>` : '';
  const lrm = (n: string): string =>
    (history[n] ?? []).map(([r, ops]) => `<lrm_resource id="${r}" class="ocf" provider="pacemaker" type="Stateful">${ops}</lrm_resource>`).join('');
  return (
    `<cib have-quorum="1" execution-date="${T}" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">` +
    `<configuration><crm_config><cluster_property_set id="o">${nv('s', 'stonith-enabled', 'false')}</cluster_property_set></crm_config>` +
    `<nodes>${names.map((n, i) => `<node id="${i + 1}" uname="${n}">${attrSet(n, 'p', opts.permanent?.[n])}</node>`).join('')}</nodes>` +
    `<resources>${resources}</resources><constraints>${constraints}</constraints></configuration><status>` +
    names
      .map(
        (n, i) =>
          `<node_state id="${i + 1}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member">` +
          `<transient_attributes id="${i + 1}">${attrSet(n, 't', opts.attrs?.[n])}</transient_attributes><lrm id="${i + 1}"><lrm_resources>${lrm(n)}</lrm_resources></lrm></node_state>`,
      )
      .join('') +
    `${opts.tickets ?? ''}</status></cib>`
  );
}


const one = nv('cm', 'clone-max', '1');

export const PROMOTABLE_CASES: Array<{ name: string; xml: string; expected: Record<string, string[]> }> = [
  { name: 'runs one instance per node, as a clone does', xml: cib(3, M('ms', P('d')), ''), expected: { d: ['n1', 'n2', 'n3'] } },
  {
    name: 'a promotion score draws an instance (nothing probed yet: it counts everywhere)',
    xml: cib(3, M('ms', P('d'), one), '', {}, { attrs: { n3: { 'master-d': '10' } } }),
    expected: { d: ['n3'] },
  },
  {
    name: 'a permanent promotion score counts too',
    xml: cib(3, M('ms', P('d'), one), '', {}, { permanent: { n2: { 'master-d': '5' } } }),
    expected: { d: ['n2'] },
  },
  {
    name: 'a promotion score on a node where nothing was probed does not count once the clone runs',
    xml: cib(3, M('ms', P('d'), one), '', { n1: [['d', H.started('d')]] }, { attrs: { n2: { 'master-d': '10' } } }),
    expected: { d: ['n1'] },
  },
  {
    name: 'a promotion score on a probed node counts against the stickiness of the running instance',
    xml: cib(3, M('ms', P('d'), one), '', { n1: [['d', H.started('d')]], n2: [['d', H.probed('d')]] }, { attrs: { n2: { 'master-d': '10' } } }),
    expected: { d: ['n2'] },
  },
  {
    name: 'a negative promotion score adds nothing',
    xml: cib(2, M('ms', P('d'), one), loc('l1', 'ms', 'n1', 5), {}, { attrs: { n1: { 'master-d': '-100' }, n2: { 'master-d': '3' } } }),
    expected: { d: ['n1'] },
  },
  {
    name: 'the promotion score is not added where the instance is banned',
    xml: cib(2, M('ms', P('d'), one), loc('l1', 'ms', 'n2', '-INFINITY'), {}, { attrs: { n2: { 'master-d': 'INFINITY' } } }),
    expected: { d: ['n1'] },
  },
  {
    name: 'a legacy <master> with master-max',
    xml: cib(3, M('ms', P('d'), nv('mm', 'master-max', '2') + nv('cm2', 'clone-max', '2'), true), '', {}, { attrs: { n3: { 'master-d': '10' } } }),
    expected: { d: ['n1', 'n3'] },
  },
  {
    name: 'a promoted instance (rc 8) stays where it runs',
    xml: cib(3, M('ms', P('d'), one), loc('l1', 'ms', 'n2', 0), { n3: [['d', H.promoted('d')]] }),
    expected: { d: ['n3'] },
  },
  {
    name: 'a probe finding it promoted counts as running',
    xml: cib(2, M('ms', P('d'), one), '', { n2: [['d', H.probedPromoted('d')]] }),
    expected: { d: ['n2'] },
  },
  {
    name: 'a failed promoted instance is recovered in place',
    xml: cib(2, M('ms', P('d')), '', { n1: [['d', H.promotedFailed('d')]], n2: [['d', H.started('d')]] }),
    expected: { d: ['n1', 'n2'] },
  },
  {
    name: 'a location for role Promoted does not move instances',
    xml: cib(3, M('ms', P('d'), one), loc('l1', 'ms', 'n2', 100, 'Promoted'), { n1: [['d', H.started('d')]] }),
    expected: { d: ['n1'] },
  },
  {
    name: 'a location for role Unpromoted applies to every instance',
    xml: cib(3, M('ms', P('d'), one), loc('l1', 'ms', 'n2', 100, 'Unpromoted'), { n1: [['d', H.started('d')]] }),
    expected: { d: ['n2'] },
  },
  {
    name: 'target-role=Unpromoted places as Started',
    xml: cib(2, M('ms', P('d'), nv('tr', 'target-role', 'Unpromoted')), ''),
    expected: { d: ['n1', 'n2'] },
  },
  {
    name: 'a ticket for role Promoted not granted (default loss-policy demote) moves nothing',
    xml: cib(2, M('ms', P('d')), ticket('t1', 'ms', 'T'), { n1: [['d', H.promoted('d')]], n2: [['d', H.started('d')]] }),
    expected: { d: ['n1', 'n2'] },
  },
  {
    name: 'a ticket for role Promoted with loss-policy stop stops every instance',
    xml: cib(2, M('ms', P('d')), ticket('t1', 'ms', 'T', ' loss-policy="stop"'), { n1: [['d', H.promoted('d')]], n2: [['d', H.started('d')]] }),
    expected: { d: [] },
  },
  {
    name: 'a ticket for role Promoted with loss-policy freeze freezes the promoted instance only',
    xml: cib(2, M('ms', P('d')), ticket('t1', 'ms', 'T', ' loss-policy="freeze"') + loc('l1', 'ms', 'n1', '-INFINITY') + loc('l2', 'ms', 'n2', '-INFINITY'), {
      n1: [['d', H.promoted('d')]],
      n2: [['d', H.started('d')]],
    }),
    expected: { d: ['n1'] },
  },
  {
    name: 'a granted ticket in standby for role Promoted (loss-policy demote) moves nothing',
    xml: cib(2, M('ms', P('d')), ticket('t1', 'ms', 'T'), { n1: [['d', H.promoted('d')]] }, { tickets: '<tickets><ticket_state id="T" granted="true" standby="true"/></tickets>' }),
    expected: { d: ['n1', 'n2'] },
  },
  {
    name: 'resource sets of a ticket: role Promoted (default loss-policy demote) moves nothing, a set without role stops',
    xml: cib(
      2,
      M('ms', P('d')) + P('x'),
      '<rsc_ticket id="t1" ticket="T"><resource_set id="s1" role="Promoted"><resource_ref id="ms"/></resource_set><resource_set id="s2"><resource_ref id="x"/></resource_set></rsc_ticket>',
      { n1: [['d', H.promoted('d')], ['x', H.started('x')]], n2: [['d', H.started('d')]] },
    ),
    expected: { d: ['n1', 'n2'], x: [] },
  },
  {
    name: 'a primitive colocated with the promoted role follows the promoted instance',
    xml: cib(3, M('ms', P('d'), nv('cm2', 'clone-max', '2')) + P('x'), colocPromoted('c1', 'x', 'ms', 'INFINITY'), {}, { attrs: { n2: { 'master-d': '10' }, n3: { 'master-d': '5' } } }),
    expected: { d: ['n2', 'n3'], x: ['n2'] },
  },
  {
    name: 'nothing promoted (no promotion score): a mandatory dependent stays stopped',
    xml: cib(2, M('ms', P('d')) + P('x'), colocPromoted('c1', 'x', 'ms', 'INFINITY'), { n1: [['d', H.started('d')]] }),
    expected: { d: ['n1', 'n2'], x: [] },
  },
  {
    name: "the dependent's preference decides which instance is promoted",
    xml: cib(3, M('ms', P('d')) + P('x'), colocPromoted('c1', 'x', 'ms', 'INFINITY') + loc('l1', 'x', 'n3', 100), {}, { attrs: { n1: { 'master-d': '5' }, n2: { 'master-d': '5' }, n3: { 'master-d': '5' } } }),
    expected: { d: ['n1', 'n2', 'n3'], x: ['n3'] },
  },
  {
    name: 'an optional colocation with the promoted role adds its score there',
    xml: cib(3, M('ms', P('d')) + P('x'), colocPromoted('c1', 'x', 'ms', 50) + loc('l1', 'x', 'n1', 20), { n2: [['d', H.promoted('d')]] }, { attrs: { n2: { 'master-d': '5' } } }),
    expected: { d: ['n1', 'n2', 'n3'], x: ['n2'] },
  },
  {
    name: 'an anti-colocation with the promoted role keeps the dependent away',
    xml: cib(2, M('ms', P('d')) + P('x'), colocPromoted('c1', 'x', 'ms', '-INFINITY'), { n1: [['d', H.promoted('d')], ['x', H.started('x')]], n2: [['d', H.started('d')]] }, { attrs: { n1: { 'master-d': '5' } } }),
    expected: { d: ['n1', 'n2'], x: ['n2'] },
  },
  {
    name: 'a role=Promoted location steers promotion, and the dependent with it',
    xml: cib(3, M('ms', P('d')) + P('x'), colocPromoted('c1', 'x', 'ms', 'INFINITY') + loc('l1', 'ms', 'n3', 100, 'Promoted'), {}, { attrs: { n1: { 'master-d': '10' }, n3: { 'master-d': '1' } } }),
    expected: { d: ['n1', 'n2', 'n3'], x: ['n3'] },
  },
  {
    name: 'target-role=Unpromoted: nothing promoted, the mandatory dependent stops',
    xml: cib(2, M('ms', P('d'), nv('tr', 'target-role', 'Unpromoted')) + P('x'), colocPromoted('c1', 'x', 'ms', 'INFINITY'), { n1: [['x', H.started('x')]] }, { attrs: { n1: { 'master-d': '10' } } }),
    expected: { d: ['n1', 'n2'], x: [] },
  },
  {
    name: 'an order promote → start of the colocated dependent moves nothing else',
    xml: cib(
      2,
      M('ms', P('d')) + P('x'),
      colocPromoted('c1', 'x', 'ms', 'INFINITY') + '<rsc_order id="o1" first="ms" first-action="promote" then="x" then-action="start"/>',
      { n1: [['d', H.promoted('d') + op('d', 'notify', 0, 0, 5)]], n2: [['d', H.started('d')]] },
      { attrs: { n1: { 'master-d': '10' }, n2: { 'master-d': '5' } } },
    ),
    expected: { d: ['n1', 'n2'], x: ['n1'] },
  },
  {
    name: 'a group colocated with the promoted role follows it as a whole, its members weighing in',
    xml: cib(
      3,
      M('ms', P('d')) + `<group id="g">${P('x')}${P('y')}</group>`,
      colocPromoted('c1', 'g', 'ms', 'INFINITY') + loc('l1', 'y', 'n3', 100),
      {},
      { attrs: { n1: { 'master-d': '10' }, n2: { 'master-d': '10' }, n3: { 'master-d': '10' } } },
    ),
    expected: { d: ['n1', 'n2', 'n3'], x: ['n3'], y: ['n3'] },
  },
  {
    name: 'an anti-colocation with the unpromoted role: each instance takes in the dependent\'s scores (clone-max below the nodes)',
    xml: cib(
      3,
      M('ms', P('d'), nv('cm2', 'clone-max', '2')) + P('x'),
      '<rsc_colocation id="c1" rsc="x" with-rsc="ms" with-rsc-role="Unpromoted" score="-INFINITY"/>' + loc('l1', 'x', 'n1', 10),
      {},
      { attrs: { n2: { 'master-d': '10' } } },
    ),
    // The unpromoted instance avoids n1, which x prefers; x runs there, away from it.
    expected: { d: ['n2', 'n3'], x: ['n1'] },
  },
  {
    name: "the promoted role colocated with a primitive: it takes in the clone's node scores, and a start → promote order moves nothing",
    xml: cib(
      3,
      P('x') + M('ms', P('d'), nv('cm2', 'clone-max', '2')),
      '<rsc_colocation id="c1" rsc="ms" rsc-role="Promoted" with-rsc="x" score="INFINITY"/>' +
        loc('l1', 'ms', 'n2', 100) +
        loc('l2', 'x', 'n3', 50) +
        '<rsc_order id="o1" first="x" first-action="start" then="ms" then-action="promote"/>',
      { n1: [['d', H.promoted('d')]] },
      { attrs: { n1: { 'master-d': '10' } } },
    ),
    expected: { d: ['n1', 'n2'], x: ['n2'] },
  },
];

describe('promotable clones (measured with crm_simulate)', () => {
  it.each(PROMOTABLE_CASES)('$name', ({ xml, expected }) => {
    expect(nodesOf(xml)).toEqual(expected);
  });

  it('refuses what depends on the promoted role', () => {
    const both = M('ms', P('d')) + P('x');
    expect(() => readCib(cib(2, both, '<rsc_colocation id="c1" rsc="ms" rsc-role="Promoted" with-rsc="x" score="-INFINITY"/>'))).toThrow('rsc_colocation c1 with role Promoted');
    expect(() => readCib(cib(2, M('ms', P('d')) + `<group id="g">${P('x')}${P('y')}</group>`, colocPromoted('c1', 'y', 'ms', 'INFINITY')))).toThrow(
      'rsc_colocation c1 with role Promoted of a dependent other than a primitive or group',
    );
    // Without the colocation, the order decides whether x can start: refused.
    expect(() => readCib(cib(2, both, '<rsc_order id="o1" first="ms" first-action="promote" then="x" then-action="start"/>'))).toThrow('rsc_order o1 (promote then start');
    expect(() => readCib(cib(2, M('ms', P('d')), '', { n1: [['d', op('d', 'start', 0, 0, 2) + op('d', 'demote', 0, 1, 3)]] }))).toThrow('failed demote of d');
    expect(() => readCib(cib(2, M('ms', P('d')), '<rsc_ticket id="t1" rsc="ms" ticket="T" rsc-role="Unpromoted"/>'))).toThrow('rsc_ticket t1 for role Unpromoted');
  });
});
