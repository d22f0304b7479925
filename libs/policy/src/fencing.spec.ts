import { CibError, readCib } from './cib-reader';
import { plan } from './plan';

// Expected values measured with crm_simulate (Pacemaker 2.1.5) on the same CIBs.

const UP = 'in_ccm="true" crmd="online" join="member" expected="member"';
const DOWN = 'in_ccm="false" crmd="offline" join="down" expected="down"';
const LOST = 'in_ccm="false" crmd="offline" join="down" expected="member"';
const NO_CRMD = 'in_ccm="true" crmd="offline" join="member" expected="member"';
const PENDING = 'in_ccm="true" crmd="online" join="member" expected="down"';

// The start digest of a resource without parameters: with it, Pacemaker sees no definition change
// (see Note [Definition digests] in digest.ts).
const NO_PARAMS_DIGEST = 'f2317cad3d54cec5d7d7aa7d0bf35cf8';
const DEVICE = '<primitive id="st" class="stonith" type="fence_dummy"/>';
const dummy = (id: string, meta: Record<string, string> = {}): string => {
  const pairs = Object.entries(meta).map(([k, v]) => `<nvpair id="${id}-${k}" name="${k}" value="${v}"/>`);
  return `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy">${pairs.length > 0 ? `<meta_attributes id="${id}-m">${pairs.join('')}</meta_attributes>` : ''}</primitive>`;
};
const started = (id: string, cls = 'class="ocf" provider="pacemaker" type="Dummy"'): string =>
  `<lrm_resource id="${id}" ${cls}><lrm_rsc_op id="${id}_last_0" operation_key="${id}_start_0" operation="start" transition-key="1:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0" last-rc-change="1699999000" op-digest="${NO_PARAMS_DIGEST}"/></lrm_resource>`;
const failedStop = (id: string): string =>
  `<lrm_resource id="${id}" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="${id}_last_0" operation_key="${id}_start_0" operation="start" transition-key="1:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0" last-rc-change="1699999000" op-digest="${NO_PARAMS_DIGEST}"/>` +
  `<lrm_rsc_op id="${id}_last_failure_0" operation_key="${id}_stop_0" operation="stop" transition-key="3:1:0:x" call-id="3" rc-code="1" op-status="0" interval="0" last-rc-change="1699999100"/></lrm_resource>`;
const nodeState = (name: string, attrs: string, ...lrm: string[]): string =>
  `<node_state id="${name}" uname="${name}" ${attrs}><lrm id="${name}"><lrm_resources>${lrm.join('')}</lrm_resources></lrm></node_state>`;

function cib(o: { options?: Record<string, string>; resources: string; constraints?: string; status: string }): string {
  const opts = Object.entries({ 'no-quorum-policy': 'ignore', ...(o.options ?? {}) })
    .map(([k, v]) => `<nvpair id="o-${k}" name="${k}" value="${v}"/>`)
    .join('');
  return (
    '<cib have-quorum="1" dc-uuid="n1" crm_feature_set="3.16.1" execution-date="1700000000"><configuration>' +
    `<crm_config><cluster_property_set id="cib-bootstrap-options">${opts}</cluster_property_set></crm_config>` +
    '<nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/><node id="n3" uname="n3"/></nodes>' +
    `<resources>${o.resources}</resources><constraints>${o.constraints ?? ''}</constraints></configuration><status>${o.status}</status></cib>`
  );
}

function planOf(xml: string) {
  const input = readCib(xml);
  return plan(input.spec, input.state, input.history, input.now!);
}

const summary = (p: ReturnType<typeof planOf>): string[] =>
  p.actions.map((a) => `${a.kind} ${'resource' in a ? a.resource : ''}${'from' in a ? ` ${a.from}` : ''} -> ${a.node}`);

describe('fencing (see Note [Fencing])', () => {
  const cases: Array<{ name: string; xml: string; placement: Record<string, string | null>; fencing: string[]; actions: string[] }> = [
    {
      name: 'a lost node and a cleanly offline node with a managed resource are fenced; what ran there moves',
      xml: cib({
        resources: `${DEVICE}${dummy('A')}${dummy('B')}${dummy('C', { 'is-managed': 'false' })}`,
        status: nodeState('n1', UP) + nodeState('n2', LOST, started('A')) + nodeState('n3', DOWN, started('B'), started('C')),
      }),
      placement: { st: 'n1', A: 'n1', B: 'n1', C: null },
      fencing: ['n2:reboot', 'n3:reboot'],
      actions: ['start st -> n1', 'move A n2 -> n1', 'move B n3 -> n1'],
    },
    {
      name: 'stonith-action=off; a node whose controller is gone and an unseen node are fenced',
      xml: cib({
        options: { 'stonith-action': 'off' },
        resources: `${DEVICE}${dummy('A')}${dummy('B')}`,
        status: nodeState('n1', UP) + nodeState('n2', NO_CRMD, started('A')),
      }),
      placement: { st: 'n1', A: 'n1', B: 'n1' },
      fencing: ['n2:off', 'n3:off'],
      actions: ['start st -> n1', 'move A n2 -> n1', 'start B -> n1'],
    },
    {
      name: 'startup-fencing=false leaves an unseen node alone',
      xml: cib({
        options: { 'startup-fencing': 'false' },
        resources: `${DEVICE}${dummy('A')}${dummy('B')}`,
        status: nodeState('n1', UP) + nodeState('n2', DOWN, started('B')),
      }),
      placement: { st: 'n1', A: 'n1', B: 'n1' },
      fencing: ['n2:reboot'],
      actions: ['start st -> n1', 'start A -> n1', 'move B n2 -> n1'],
    },
    {
      name: 'nothing is fenced when no resource is managed',
      xml: cib({
        resources: '<primitive id="st" class="stonith" type="fence_dummy"><meta_attributes id="m"><nvpair id="m1" name="is-managed" value="false"/></meta_attributes></primitive>',
        status: nodeState('n1', UP) + nodeState('n2', UP),
      }),
      placement: { st: null },
      fencing: [],
      actions: [],
    },
    {
      name: 'a resource on an unclean node counts as active: influence=false keeps its dependent out',
      xml: cib({
        resources: `${DEVICE}${dummy('P')}${dummy('D')}`,
        constraints: '<rsc_colocation id="c1" rsc="D" with-rsc="P" score="500" influence="false"/><rsc_location id="l1" rsc="D" node="n1" score="200"/>',
        status: nodeState('n1', UP, started('st', 'class="stonith" type="fence_dummy"')) + nodeState('n2', UP, started('D')) + nodeState('n3', LOST, started('P')),
      }),
      placement: { st: 'n1', P: 'n2', D: 'n2' },
      fencing: ['n3:reboot'],
      actions: ['move P n3 -> n2'],
    },
    {
      name: 'a fencing device is placed like any resource, stickiness included',
      xml: cib({
        resources: `<primitive id="st" class="stonith" type="fence_dummy"><meta_attributes id="m"><nvpair id="m1" name="resource-stickiness" value="100"/></meta_attributes></primitive>${dummy('A')}`,
        status: nodeState('n1', LOST, started('st', 'class="stonith" type="fence_dummy"'), started('A')) + nodeState('n2', UP) + nodeState('n3', UP),
      }),
      placement: { st: 'n2', A: 'n3' },
      fencing: ['n1:reboot'],
      actions: ['move st n1 -> n2', 'move A n1 -> n3'],
    },
    {
      name: 'a lost ticket with loss-policy=fence fences the node its resource runs on',
      xml: cib({
        resources: `${DEVICE}${dummy('A')}${dummy('B')}`,
        constraints: '<rsc_ticket id="t1" rsc="A" ticket="tA" loss-policy="fence"/>',
        status:
          nodeState('n1', UP, started('st', 'class="stonith" type="fence_dummy"')) +
          nodeState('n2', UP, started('A'), started('B')) +
          nodeState('n3', UP) +
          '<tickets><ticket_state id="tA" granted="false"/></tickets>',
      }),
      placement: { st: 'n1', A: null, B: 'n3' },
      fencing: ['n2:reboot'],
      actions: ['stop A -> n2', 'move B n2 -> n3'],
    },
    {
      name: 'a failed stop fences its node; everything there is recovered elsewhere',
      xml: cib({
        resources: `${DEVICE}${dummy('A')}${dummy('B', { 'resource-stickiness': '100' })}`,
        status: nodeState('n1', UP, started('st', 'class="stonith" type="fence_dummy"')) + nodeState('n2', UP, failedStop('A'), started('B')) + nodeState('n3', UP),
      }),
      placement: { st: 'n1', A: 'n3', B: 'n1' },
      fencing: ['n2:reboot'],
      actions: ['move A n2 -> n3', 'move B n2 -> n1'],
    },
    {
      name: 'without fencing a lost node is just offline',
      xml: cib({
        options: { 'stonith-enabled': 'false' },
        resources: `${DEVICE}${dummy('A')}`,
        status: nodeState('n1', UP) + nodeState('n2', LOST, started('A')),
      }),
      placement: { st: 'n1', A: 'n1' },
      fencing: [],
      actions: ['start st -> n1', 'start A -> n1'],
    },
  ];

  it.each(cases)('$name', ({ xml, placement, fencing, actions }) => {
    const sut = planOf(xml);
    expect(sut.placement).toEqual(placement);
    expect(sut.fencing.map((f) => `${f.node}:${f.action}`)).toEqual(fencing);
    expect(summary(sut)).toEqual(actions);
  });

  const refusals: Array<{ name: string; xml: string; error: RegExp }> = [
    {
      name: 'an unmanaged resource active on a cleanly offline node (Pacemaker leaves it there)',
      xml: cib({ resources: `${DEVICE}${dummy('C', { 'is-managed': 'false' })}`, status: nodeState('n1', UP) + nodeState('n2', UP) + nodeState('n3', DOWN, started('C')) }),
      error: /unmanaged C active on offline node n3/,
    },
    {
      name: 'fencing without a device cannot fence what is active on a lost node',
      xml: cib({ resources: dummy('A'), status: nodeState('n1', UP) + nodeState('n2', UP) + nodeState('n3', LOST, started('A')) }),
      error: /A active on unclean node n3 .*cannot be fenced/,
    },
    {
      name: 'a pending node (Pacemaker blocks actions waiting on it)',
      xml: cib({ resources: `${DEVICE}${dummy('A')}`, status: nodeState('n1', UP) + nodeState('n2', UP) + nodeState('n3', PENDING, started('A')) }),
      error: /node n3 pending/,
    },
    {
      name: 'a resource active on an online node and on an unclean one',
      xml: cib({ resources: `${DEVICE}${dummy('A')}`, status: nodeState('n1', UP, started('A')) + nodeState('n2', UP) + nodeState('n3', LOST, started('A')) }),
      error: /A active on several nodes/,
    },
    {
      name: 'unfencing',
      xml: cib({
        resources: '<primitive id="st" class="stonith" type="fence_scsi"><meta_attributes id="m"><nvpair id="m1" name="provides" value="unfencing"/></meta_attributes></primitive>',
        status: nodeState('n1', UP) + nodeState('n2', UP) + nodeState('n3', UP),
      }),
      error: /unfencing/,
    },
    {
      name: 'a failed stop without a fencing device',
      xml: cib({ resources: dummy('A'), status: nodeState('n1', UP, failedStop('A')) + nodeState('n2', UP) + nodeState('n3', UP) }),
      error: /failed stop of A/,
    },
    { name: 'an unknown stonith-action', xml: cib({ options: { 'stonith-action': 'explode' }, resources: DEVICE, status: nodeState('n1', UP) }), error: /stonith-action=explode/ },
    { name: 'a startup-fencing that is not a boolean', xml: cib({ options: { 'startup-fencing': 'maybe' }, resources: DEVICE, status: nodeState('n1', UP) }), error: /startup-fencing=maybe/ },
  ];

  it.each(refusals)('refuses $name', ({ xml, error }) => {
    expect(() => readCib(xml)).toThrow(CibError);
    expect(() => readCib(xml)).toThrow(error);
  });
});
