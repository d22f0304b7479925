import { CibError, readCib } from './cib-reader';
import { writeCib } from './cib-writer';
import { generateCluster } from './cib-generator';

const minimal = (body: string, options = ''): string =>
  `<cib have-quorum="1" ${options}><configuration><crm_config><cluster_property_set id="o">` +
  `<nvpair id="s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>` +
  `<nodes><node id="1" uname="n1"/></nodes><resources>${body}</resources><constraints/></configuration><status/></cib>`;

describe(readCib.name, () => {
  it('refuses DOCTYPE and ENTITY declarations (no entity expansion at all)', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE cib [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>${minimal('')}`;
    expect(() => readCib(bomb)).toThrow(CibError);
    expect(() => readCib(`<!doctype cib SYSTEM "file:///etc/passwd">${minimal('')}`)).toThrow(/DOCTYPE/);
  });

  it('allows comments and decodes the predefined entities', () => {
    const xml = minimal('<!-- a comment --><primitive id="a&amp;b" class="ocf" provider="pacemaker" type="Dummy"/>');
    // Decoded, then refused: Pacemaker matches fail-count attributes with the id as a regex.
    expect(() => readCib(xml)).toThrow(/resource id "a&b"/);
    expect(readCib(minimal('<!-- c --><primitive id="a.b" class="ocf" provider="pacemaker" type="Dummy"/>')).spec.resources.map((r) => r.id)).toEqual(['a.b']);
  });

  it('refuses documents over the size limit and malformed XML', () => {
    expect(() => readCib(minimal(''), { maxBytes: 100 })).toThrow(/larger than 100 bytes/);
    expect(() => readCib('<cib><configuration></cib>')).toThrow(/well-formed/);
  });

  it('refuses constructs outside the subset unless lenient', () => {
    const xml = minimal('<bundle id="b"><docker image="x"/></bundle>');
    expect(() => readCib(xml)).toThrow(/<bundle> resources/);
    expect(readCib(xml, { lenient: true }).ignored).toEqual(['<bundle> resources']);
  });

  it('leaves every resource unmanaged when fencing is enabled without a device (as Pacemaker does)', () => {
    const xml = minimal('<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>').replace('value="false"', 'value="true"');
    expect(readCib(xml).spec).toMatchObject({ resources: [{ id: 'a' }], fencingWithoutDevice: true });
  });

  it('reads fail counts with the attribute pattern of the CIB version (pe_get_failcount)', () => {
    const status = (feature: string): string =>
      minimal('<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>', `crm_feature_set="${feature}"`).replace(
        '<status/>',
        '<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member"><transient_attributes id="1"><instance_attributes id="t">' +
          '<nvpair id="f1" name="fail-count-a#monitor_10000" value="2"/><nvpair id="f2" name="fail-count-a#start_0" value="1"/>' +
          '<nvpair id="f3" name="fail-count-a" value="5"/><nvpair id="l1" name="last-failure-a#monitor_10000" value="100"/>' +
          '</instance_attributes></transient_attributes></node_state></status>',
      );
    expect(readCib(status('3.16.1')).history).toEqual([{ resource: 'a', node: 'n1', count: 3, lastFailureAt: 100_000 }]);
    expect(readCib(status('3.0.12')).history).toEqual([{ resource: 'a', node: 'n1', count: 5 }]);
  });

  it('reads op-status 4 like 0 (remap_operation judges by the result and the expected one)', () => {
    const op = (status: string, key: string): string =>
      minimal('<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>').replace(
        '<status/>',
        '<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member"><lrm><lrm_resources><lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy">' +
          `<lrm_rsc_op id="a_start_0" operation="start" call-id="2" rc-code="0" op-status="${status}" interval="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"${key}/></lrm_resource></lrm_resources></lrm></node_state></status>`,
      );
    expect(readCib(op('4', ' transition-key="1:1:0:x"')).state.resources).toEqual({ a: { node: 'n1' } });
    expect(() => readCib(op('4', ''))).toThrow(/without an expected result/);
    expect(() => readCib(op('2', ' transition-key="1:1:0:x"'))).toThrow(/op-status 2/);
  });

  it('reads on-fail other than restart only on a resource without failures (see Note [Failure handling])', () => {
    const xml = (ops: string): string =>
      minimal('<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"><operations><op id="m" name="monitor" interval="10s" on-fail="block"/></operations></primitive>').replace(
        '<status/>',
        `<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member"><lrm><lrm_resources><lrm_resource id="a">${ops}</lrm_resource></lrm_resources></lrm></node_state></status>`,
      );
    const start = '<lrm_rsc_op id="a_start_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0"/>';
    const failed = '<lrm_rsc_op id="a_monitor_10000" operation="monitor" call-id="3" rc-code="1" op-status="0" interval="10000"/>';
    expect(readCib(xml(start)).state.resources).toMatchObject({ a: { node: 'n1' } });
    expect(() => readCib(xml(start + failed))).toThrow(/on-fail=block on a with a failed operation/);
    expect(() => readCib(xml(start).replace('on-fail="block"', 'on-fail="sometimes"'))).toThrow(/on-fail=sometimes/);
  });

  it('reads back placement-strategy, node capacities and resource use', () => {
    for (const seed of [1, 2, 3]) {
      const g = generateCluster(seed, { utilizationChance: 1 });
      const sut = readCib(writeCib(g.spec, g.state, g.history, { now: g.now }));
      expect(sut.spec.utilization).toEqual({ ...g.spec.utilization, use: { ...Object.fromEntries(g.spec.resources.map((r) => [r.id, {}])), ...g.spec.utilization!.use } });
    }
    expect(() => readCib(minimal('<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"><utilization id="u"><nvpair id="c" name="cpu" value="lots"/></utilization></primitive>'))).toThrow(
      /utilization cpu=lots on primitive a/,
    );
  });

  it('reads back what writeCib wrote', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const g = generateCluster(seed);
      const sut = readCib(writeCib(g.spec, g.state, g.history, { now: g.now }));
      expect(sut.now).toBe(g.now);
      expect(sut.spec.nodes).toEqual(g.spec.nodes);
      expect(sut.spec.resources).toEqual(g.spec.resources);
      expect(sut.spec.locations).toEqual(g.spec.locations);
      expect(sut.spec.colocations).toEqual(g.spec.colocations);
      // The first order of a pair wins (a second one between the same resources is dropped).
      const firstOfPair = g.spec.orders!.filter((o, i, all) => all.findIndex((x) => x.first === o.first && x.then === o.then) === i);
      expect(sut.spec.orders).toEqual(firstOfPair.map((o) => ({ kind: 'Mandatory', symmetrical: true, ...o })));
      const up = Object.fromEntries(g.spec.nodes.map((n) => [n.name, g.state.online[n.name] === true]));
      expect(sut.state.online).toEqual(up);
      const running = Object.fromEntries(
        Object.entries(g.state.resources)
          .filter(([, o]) => o && up[o.node])
          .map(([id, o]) => [id, o!.failed ? { node: o!.node, failed: true } : { node: o!.node }]),
      );
      expect(sut.state.resources).toEqual(running);
      const key = (f: { resource: string; node: string }): string => `${f.resource}@${f.node}`;
      expect(sut.history.map(key).sort()).toEqual(g.history.map(key).sort());
    }
  });
});
