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
    expect(() => readCib(cib(nodes, '<rsc_location id="l" rsc="r"><rule id="ru" role="Promoted" score="1"/></rsc_location>', up))).toThrow(/role Promoted/);
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
