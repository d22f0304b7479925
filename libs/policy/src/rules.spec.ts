import { readCib } from './cib-reader';
import { parseIsoDate } from './rules';
import { plan } from './plan';

const cib = (nodes: string, constraints: string, status = '', extra = ''): string =>
  `<cib have-quorum="1" execution-date="1700000000" ${extra}><configuration><crm_config><cluster_property_set id="o">` +
  `<nvpair id="s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>` +
  `<nodes>${nodes}</nodes><resources><primitive id="r" class="ocf" provider="pacemaker" type="Dummy"/></resources>` +
  `<constraints>${constraints}</constraints></configuration><status>${status}</status></cib>`;

const nodes =
  '<node id="1" uname="n1"><instance_attributes id="a1"><nvpair id="a1w" name="weight" value="30"/><nvpair id="a1z" name="zone" value="east"/></instance_attributes></node>' +
  '<node id="2" uname="n2"><instance_attributes id="a2"><nvpair id="a2w" name="weight" value="200"/><nvpair id="a2z" name="zone" value="West"/></instance_attributes></node>' +
  '<node id="3" uname="n3"/>';
const up = ['1', '2', '3'].map((i) => `<node_state id="${i}" uname="n${i}" in_ccm="true" crmd="online" join="member"/>`).join('');

const place = (xml: string): Record<string, string | null> => {
  const input = readCib(xml);
  return plan(input.spec, input.state, input.history, input.now!).placement;
};

describe('location rules (Note [Rules])', () => {
  it('adds a score-attribute per node, −INFINITY where the attribute is missing', () => {
    const xml = cib(nodes, '<rsc_location id="l" rsc="r"><rule id="ru" score-attribute="weight"><expression id="e" attribute="#kind" operation="eq" value="cluster"/></rule></rsc_location>', up);
    expect(readCib(xml).spec.locations).toEqual([
      { id: 'ru', resource: 'r', node: 'n1', score: 30 },
      { id: 'ru', resource: 'r', node: 'n2', score: 200 },
      { id: 'ru', resource: 'r', node: 'n3', score: -1_000_000 },
    ]);
    expect(place(xml)).toEqual({ r: 'n2' });
  });

  it('compares strings case-insensitively and numbers as integers for lt/gt', () => {
    const xml = cib(
      nodes,
      '<rsc_location id="l" rsc="r"><rule id="ru" score="100" boolean-op="or"><expression id="e1" attribute="zone" operation="eq" value="west"/>' +
        '<expression id="e2" attribute="weight" operation="lt" value="100"/></rule></rsc_location>',
      up,
    );
    expect(readCib(xml).spec.locations!.map((l) => l.node)).toEqual(['n1', 'n2']);
  });

  it('evaluates date expressions at the execution date and bans outside exclusive discovery', () => {
    const xml = cib(
      nodes,
      '<rsc_location id="l" rsc="r" resource-discovery="exclusive"><rule id="ru" score="10"><expression id="e" attribute="#uname" operation="eq" value="n3"/>' +
        '<date_expression id="d" operation="gt" start="2023-11-14 00:00:00 +00:00"/></rule></rsc_location>',
      up,
    );
    expect(place(xml)).toEqual({ r: 'n3' });
    expect(place(xml.replace('2023-11-14 00:00', '2023-11-15 00:00'))).toEqual({ r: null });
  });

  it('refuses what it cannot evaluate exactly', () => {
    const spec = '<rsc_location id="l" rsc="r"><rule id="ru" score="1"><date_expression id="d" operation="date_spec"><date_spec id="ds" hours="12"/></date_expression></rule></rsc_location>';
    expect(() => readCib(cib(nodes, spec, up))).toThrow(/date_spec/);
    expect(() => readCib(cib(nodes, '<rsc_location id="l" rsc="r"><rule id="ru" role="Stopped" score="1"/></rsc_location>', up))).toThrow(/role Stopped/);
  });

  it('lets transient attributes overwrite configured ones (standby=off wins)', () => {
    const standby = nodes.replace('<nvpair id="a1w"', '<nvpair id="a1s" name="standby" value="on"/><nvpair id="a1w"');
    const transient = up.replace(
      '<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member"/>',
      '<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member"><transient_attributes id="1"><instance_attributes id="t1"><nvpair id="t1s" name="standby" value="off"/></instance_attributes></transient_attributes></node_state>',
    );
    expect(readCib(cib(standby, '', up)).spec.nodes[0]).toEqual({ name: 'n1', standby: true });
    expect(readCib(cib(standby, '', transient)).spec.nodes[0]).toEqual({ name: 'n1' });
  });

  it('parses the ISO 8601 forms CIBs use', () => {
    expect(parseIsoDate('2005-001')).toBe(Date.UTC(2005, 0, 1) / 1000);
    expect(parseIsoDate('2019-09-20 15:10:52 +02:00')).toBe(Date.UTC(2019, 8, 20, 13, 10, 52) / 1000);
    expect(parseIsoDate('2019-09-20 15:10:52')).toBeUndefined();
  });
});

describe('order kinds, tickets and node health', () => {
  const two = '<node id="1" uname="n1"/><node id="2" uname="n2"/>';
  const upTwo = ['1', '2'].map((i) => `<node_state id="${i}" uname="n${i}" in_ccm="true" crmd="online" join="member"/>`).join('');
  const withResources = (xml: string, resources: string): string => xml.replace(/<resources>.*<\/resources>/, `<resources>${resources}</resources>`);
  const prim = (id: string, meta = ''): string => `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy">${meta}</primitive>`;

  it('blocks `then` only for a Mandatory order (Note [Order kinds])', () => {
    const stopped = '<meta_attributes id="m"><nvpair id="m1" name="target-role" value="Stopped"/></meta_attributes>';
    const xml = (kind: string): string => withResources(cib(two, `<rsc_order id="o" first="a" then="b" kind="${kind}"/>`, upTwo), prim('a', stopped) + prim('b'));
    expect(place(xml('Mandatory'))).toEqual({ a: null, b: null });
    expect(place(xml('Optional'))).toEqual({ a: null, b: 'n1' });
    expect(place(xml('Serialize'))).toEqual({ a: null, b: 'n1' });
  });

  it('bans a resource whose ticket is not granted, and freezes an active one with loss-policy=freeze (Note [Tickets])', () => {
    const running = upTwo.replace(
      '<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member"/>',
      '<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member"><lrm><lrm_resources><lrm_resource id="b" class="ocf" provider="pacemaker" type="Dummy">' +
        '<lrm_rsc_op id="b_start_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0"/></lrm_resource></lrm_resources></lrm></node_state>',
    );
    const tickets = (state: string): string => `${running}<tickets><ticket_state id="T" ${state}/></tickets>`;
    const constraints = '<rsc_ticket id="ta" rsc="a" ticket="T"/><rsc_ticket id="tb" rsc="b" ticket="T" loss-policy="freeze"/>' + '<rsc_location id="l" rsc="b" node="n1" score="100"/>';
    const xml = (state: string): string => withResources(cib(two, constraints, tickets(state)), prim('a') + prim('b'));
    expect(place(xml('granted="true"'))).toEqual({ a: 'n1', b: 'n1' });
    expect(place(xml('granted="false"'))).toEqual({ a: null, b: 'n2' });
    expect(place(xml('granted="true" standby="true"'))).toEqual({ a: null, b: null });
  });

  it('adds node health to every resource on the node (Note [Node health])', () => {
    const health = two.replace('<node id="1" uname="n1"/>', '<node id="1" uname="n1"><instance_attributes id="h"><nvpair id="h1" name="#health-disk" value="red"/></instance_attributes></node>');
    const strategy = (s: string): string => cib(health, '', upTwo).replace('</cluster_property_set>', `<nvpair id="hs" name="node-health-strategy" value="${s}"/></cluster_property_set>`);
    expect(place(strategy('none'))).toEqual({ r: 'n1' });
    expect(place(strategy('migrate-on-red'))).toEqual({ r: 'n2' });
    expect(readCib(strategy('progressive')).spec.locations).toEqual([{ id: 'node-health-strategy=progressive', resource: 'r', node: 'n1', score: -1_000_000 }]);
  });
});
