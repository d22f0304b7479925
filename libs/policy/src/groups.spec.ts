import { readCib } from './cib-reader';
import { plan } from './plan';

// Group semantics through readCib + plan. Every expected placement here was measured with
// crm_simulate (Pacemaker 2.1.5) on the same CIB.

const P = (id: string, meta = ''): string =>
  `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy">${meta ? `<meta_attributes id="${id}-m">${meta}</meta_attributes>` : ''}</primitive>`;
const nv = (id: string, name: string, value: string): string => `<nvpair id="${id}" name="${name}" value="${value}"/>`;
const G = (id: string, members: string[], meta = ''): string =>
  `<group id="${id}">${meta ? `<meta_attributes id="${id}-m">${meta}</meta_attributes>` : ''}${members.join('')}</group>`;

/** A CIB over nodes n1..n`nodes` (all online), `running` maps resource → node (started there). */
function groupCib(nodes: number, resources: string, constraints: string, running: Record<string, string> = {}): string {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const lrm = (node: string): string =>
    Object.entries(running)
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
    names.map((n, i) => `<node_state id="${i + 1}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="${i + 1}"><lrm_resources>${lrm(n)}</lrm_resources></lrm></node_state>`).join('') +
    `</status></cib>`
  );
}

function placementOf(xml: string): Record<string, string | null> {
  const input = readCib(xml);
  return plan(input.spec, input.state, input.history, input.now!).placement;
}

const loc = (id: string, rsc: string, node: string, score: string | number): string => `<rsc_location id="${id}" rsc="${rsc}" node="${node}" score="${score}"/>`;

const GROUP_CASES: Array<{ name: string; xml: string; expected: Record<string, string | null> }> = [
  {
    name: 'members run together, where the first member is placed',
    xml: groupCib(3, G('g', [P('a'), P('b'), P('c')]) + P('x'), loc('l1', 'g', 'n2', 50)),
    expected: { a: 'n2', b: 'n2', c: 'n2', x: 'n1' },
  },
  {
    name: 'a location on a later member counts for the whole group',
    xml: groupCib(3, G('g', [P('a'), P('b')]), loc('l1', 'b', 'n3', 10)),
    expected: { a: 'n3', b: 'n3' },
  },
  {
    name: "the group's stickiness is the sum of its active members'",
    xml: groupCib(2, G('g', [P('a'), P('b'), P('c')], nv('gs', 'resource-stickiness', '100')), loc('l1', 'g', 'n2', 250), { a: 'n1', b: 'n1', c: 'n1' }),
    expected: { a: 'n1', b: 'n1', c: 'n1' },
  },
  {
    name: 'a single active member pulls the group less than the location',
    xml: groupCib(2, G('g', [P('a'), P('b'), P('c')], nv('gs', 'resource-stickiness', '100')), loc('l1', 'g', 'n2', 250), { a: 'n1' }),
    expected: { a: 'n2', b: 'n2', c: 'n2' },
  },
  {
    name: 'a member that cannot run stops the members after it, not those before',
    xml: groupCib(2, G('g', [P('a'), P('b'), P('c')]), loc('l1', 'b', 'n1', '-INFINITY') + loc('l2', 'b', 'n2', '-INFINITY'), { a: 'n1', b: 'n1', c: 'n1' }),
    expected: { a: 'n1', b: null, c: null },
  },
  {
    name: 'target-role Stopped on the group stops every member',
    xml: groupCib(2, G('g', [P('a'), P('b')], nv('gr', 'target-role', 'Stopped')), '', { a: 'n1', b: 'n1' }),
    expected: { a: null, b: null },
  },
  {
    name: 'a resource colocated with the group follows it (its last member)',
    xml: groupCib(3, G('g', [P('a'), P('b')]) + P('x'), loc('l1', 'g', 'n3', 10) + '<rsc_colocation id="c1" rsc="x" with-rsc="g" score="INFINITY"/>'),
    expected: { a: 'n3', b: 'n3', x: 'n3' },
  },
  {
    name: 'a mandatory colocation with a group whose last member cannot run bans the dependent',
    xml: groupCib(2, G('g', [P('a'), P('b')]) + P('x'), loc('l1', 'b', 'n1', '-INFINITY') + loc('l2', 'b', 'n2', '-INFINITY') + '<rsc_colocation id="c1" rsc="x" with-rsc="g" score="INFINITY"/>'),
    expected: { a: 'n1', b: null, x: null },
  },
  {
    name: 'the group colocated with a resource goes where it runs',
    xml: groupCib(3, P('x') + G('g', [P('a'), P('b')]), loc('l1', 'x', 'n2', 10) + '<rsc_colocation id="c1" rsc="g" with-rsc="x" score="INFINITY"/>'),
    expected: { x: 'n2', a: 'n2', b: 'n2' },
  },
  {
    name: 'an order after the group waits for every member',
    xml: groupCib(2, G('g', [P('a'), P('b')]) + P('x'), loc('l1', 'b', 'n1', '-INFINITY') + loc('l2', 'b', 'n2', '-INFINITY') + '<rsc_order id="o1" first="g" then="x"/>'),
    expected: { a: 'n1', b: null, x: null },
  },
  {
    name: 'a group ordered after an unrunnable resource cannot start',
    xml: groupCib(2, P('x') + G('g', [P('a'), P('b')]), loc('l1', 'x', 'n1', '-INFINITY') + loc('l2', 'x', 'n2', '-INFINITY') + '<rsc_order id="o1" first="x" then="g"/>'),
    expected: { x: null, a: null, b: null },
  },
  {
    name: 'a higher priority group is placed first, repelled by what is anti-colocated with it',
    xml: groupCib(2, P('x') + G('g', [P('a'), P('b')], nv('gp', 'priority', '10')), '<rsc_colocation id="c1" rsc="x" with-rsc="g" score="-INFINITY"/>' + loc('l1', 'x', 'n1', 10) + loc('l2', 'g', 'n1', 5)),
    expected: { x: 'n1', a: 'n2', b: 'n2' },
  },
  {
    name: 'a ticket on the group (not granted) stops every member',
    xml: groupCib(2, G('g', [P('a'), P('b')]) + P('x'), '<rsc_ticket id="t1" rsc="g" ticket="T" loss-policy="stop"/>', { a: 'n1' }),
    expected: { a: null, b: null, x: 'n1' },
  },
  {
    name: 'an unmanaged group stays where its members run',
    xml: groupCib(2, G('g', [P('a'), P('b')], nv('gm', 'is-managed', 'false')), loc('l1', 'g', 'n2', 100), { a: 'n1', b: 'n1' }),
    expected: { a: 'n1', b: 'n1' },
  },
  {
    name: 'resource-discovery=exclusive on the group bans every member elsewhere',
    xml: groupCib(3, G('g', [P('a'), P('b')]), '<rsc_location id="l1" rsc="g" node="n3" score="0" resource-discovery="exclusive"/>'),
    expected: { a: 'n3', b: 'n3' },
  },
  {
    name: 'resource-discovery=exclusive on a member alone bans nothing',
    xml: groupCib(3, G('g', [P('a'), P('b')]), '<rsc_location id="l1" rsc="b" node="n3" score="0" resource-discovery="exclusive"/>'),
    expected: { a: 'n1', b: 'n1' },
  },
];

describe('groups (readCib + plan)', () => {
  it.each(GROUP_CASES)('$name', ({ xml, expected }) => {
    expect(placementOf(xml)).toEqual(expected);
  });

  it('reads members with the meta attributes they inherit from the group', () => {
    const xml = groupCib(2, G('g', [P('a'), P('b', nv('bs', 'resource-stickiness', '7'))], nv('gs', 'resource-stickiness', '3') + nv('gt', 'migration-threshold', '2')), '');
    const { spec } = readCib(xml);
    expect(spec.groups).toEqual([{ id: 'g', members: ['a', 'b'] }]);
    expect(spec.resources).toEqual([
      { id: 'a', stickiness: 3, migrationThreshold: 2 },
      { id: 'b', stickiness: 7, migrationThreshold: 2 },
    ]);
  });

  it.each([
    ['unordered groups', G('g', [P('a')], nv('o', 'ordered', 'false')), '', /ordered=false on group g/],
    ['groups that are not colocated', G('g', [P('a')], nv('o', 'collocated', 'false')), '', /collocated=false on group g/],
    ['partly unmanaged groups', G('g', [P('a', nv('o', 'is-managed', 'false')), P('b')]), '', /is-managed=false on a in group g \(not on every member\)/],
    ['serializing orders with a group', G('g', [P('a')]) + P('x'), '<rsc_order id="o1" first="g" then="x" kind="Serialize"/>', /Serialize asymmetrical rsc_order o1 with a group/],
    ['colocations inside a group', G('g', [P('a'), P('b')]), '<rsc_colocation id="c1" rsc="b" with-rsc="a" score="10"/>', /rsc_colocation c1 inside group g/],
  ])('refuses %s', (_, resources, constraints, message) => {
    expect(() => readCib(groupCib(2, resources, constraints))).toThrow(message);
  });
});
