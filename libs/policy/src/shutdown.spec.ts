import { readCib } from './cib-reader';
import { plan } from './plan';

// Nodes shutting down (see Note [Shutting down] in cib-reader.ts). Every expected placement and
// fencing here was measured with crm_simulate (Pacemaker 2.1.5, `crm_simulate -x <cib> -S`) on the
// same CIB.

const T = 1_700_000_000; // execution-date, seconds
const nv = (id: string, name: string, value: string): string => `<nvpair id="${id}" name="${name}" value="${value}"/>`;
const started = (r: string, call: number): string =>
  `<lrm_resource id="${r}" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="${r}_start_0" operation_key="${r}_start_0" operation="start" ` +
  `transition-key="${call}:1:0:00000000-0000-0000-0000-000000000000" transition-magic="0:0;${call}:1:0:00000000-0000-0000-0000-000000000000" ` +
  `call-id="${call}" rc-code="0" op-status="0" interval="0" last-rc-change="${T - 100}"/></lrm_resource>`;

interface NodeOpts {
  /** The transient `shutdown` attribute (none when undefined). */
  shutdown?: string;
  expected?: string;
  crmd?: string;
  /** What was started there. */
  runs?: string[];
}

/** `a` and `b` (b preferring n1) over n1, n2; with `fencing`, a fence_dummy device `st`. */
function cib(n1: NodeOpts, n2: NodeOpts, fencing = false): string {
  const state = (name: string, i: number, o: NodeOpts): string =>
    `<node_state id="${i}" uname="${name}" in_ccm="true" crmd="${o.crmd ?? 'online'}" join="member" expected="${o.expected ?? 'member'}">` +
    `<transient_attributes id="${i}"><instance_attributes id="${name}-t">${o.shutdown !== undefined ? nv(`${name}-sd`, 'shutdown', o.shutdown) : ''}</instance_attributes></transient_attributes>` +
    `<lrm id="${i}"><lrm_resources>${(o.runs ?? []).map((r, k) => started(r, k + 2)).join('')}</lrm_resources></lrm></node_state>`;
  const prim = (id: string): string => `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy"/>`;
  return (
    `<cib have-quorum="1" execution-date="${T}" crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">` +
    `<configuration><crm_config><cluster_property_set id="o">${nv('s', 'stonith-enabled', String(fencing))}</cluster_property_set></crm_config>` +
    `<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>` +
    `<resources>${prim('a')}${prim('b')}${fencing ? '<primitive id="st" class="stonith" type="fence_dummy"/>' : ''}</resources>` +
    `<constraints><rsc_location id="l1" rsc="b" node="n1" score="100"/></constraints></configuration>` +
    `<status>${state('n1', 1, n1)}${state('n2', 2, n2)}</status></cib>`
  );
}

export const SHUTDOWN_CASES: Array<{ name: string; xml: string; expected: Record<string, string | null>; fenced?: string[] }> = [
  { name: 'shutdown=0 is not shutting down', xml: cib({ shutdown: '0', runs: ['a'] }, {}), expected: { a: 'n1', b: 'n1' } },
  { name: 'what runs on a node shutting down moves off it, nothing starts there', xml: cib({ shutdown: '1234', runs: ['a'] }, {}), expected: { a: 'n2', b: 'n2' } },
  { name: 'an empty shutdown attribute is a shutdown request too', xml: cib({ shutdown: '', runs: ['a'] }, {}), expected: { a: 'n2', b: 'n2' } },
  { name: 'both nodes shutting down: everything stops', xml: cib({ shutdown: '1', runs: ['a'] }, { shutdown: '1', runs: ['b'] }), expected: { a: null, b: null } },
  {
    name: 'with fencing, a node shutting down (expected down) is online, not fenced',
    xml: cib({ shutdown: '1234', expected: 'down', runs: ['a', 'b'] }, { runs: ['st'] }, true),
    expected: { a: 'n2', b: 'n2', st: 'n2' },
    fenced: [],
  },
  {
    name: 'with fencing, a node shutting down whose controller is gone is offline',
    xml: cib({ shutdown: '1234', expected: 'down', crmd: 'offline', runs: ['a'] }, { runs: ['st'] }, true),
    expected: { a: 'n2', b: 'n2', st: 'n2' },
    fenced: ['n1'],
  },
];

describe('nodes shutting down, as crm_simulate plans them', () => {
  it.each(SHUTDOWN_CASES)('$name', ({ xml, expected, fenced }) => {
    const input = readCib(xml);
    const result = plan(input.spec, input.state, input.history, input.now!);
    expect(result.placement).toEqual(expected);
    if (fenced) expect(result.fencing.map((f) => f.node)).toEqual(fenced);
  });
});
