import { ClusterObservedState, ClusterSpec, FailureHistory } from './cluster.types';
import { plan } from './plan';
import { INFINITY } from './score.util';

const NOW = Date.UTC(2024, 0, 1);
const nodes = [{ name: 'n1' }, { name: 'n2' }];
const up: ClusterObservedState['online'] = { n1: true, n2: true };

interface Row {
  name: string;
  spec: ClusterSpec;
  state?: Partial<ClusterObservedState>;
  history?: FailureHistory;
  now?: number;
  placement: Record<string, string | null>;
  actions: string[];
}

// Each row was checked against crm_simulate (Pacemaker 2.1.5); see test/regressions/probe-*.xml.
const table: Row[] = [
  {
    name: 'ties go to the node with fewer assigned resources, then by name; running stays on ties',
    spec: { nodes, resources: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }] },
    state: { resources: { r3: { node: 'n1' } } },
    placement: { r1: 'n1', r2: 'n2', r3: 'n1' },
    actions: ['start r1@n1', 'start r2@n2'],
  },
  {
    name: 'stickiness keeps a resource where it runs',
    spec: { nodes, resources: [{ id: 'r', stickiness: 100 }], locations: [{ id: 'l', resource: 'r', node: 'n2', score: 50 }] },
    state: { resources: { r: { node: 'n1' } } },
    placement: { r: 'n1' },
    actions: [],
  },
  {
    name: 'migration-threshold bans the node; failure-timeout expiry is strict (now > last + timeout)',
    spec: { nodes, resources: [{ id: 'r', stickiness: 10, migrationThreshold: 3, failureTimeoutMs: 60_000 }] },
    state: { resources: { r: { node: 'n1' } } },
    history: [{ resource: 'r', node: 'n1', count: 3, lastFailureAt: NOW - 60_000 }],
    placement: { r: 'n2' },
    actions: ['move r@n2 from n1'],
  },
  {
    name: 'an expired fail count no longer bans',
    spec: { nodes, resources: [{ id: 'r', stickiness: 10, migrationThreshold: 3, failureTimeoutMs: 60_000 }] },
    state: { resources: { r: { node: 'n1' } } },
    history: [{ resource: 'r', node: 'n1', count: 3, lastFailureAt: NOW - 61_000 }],
    placement: { r: 'n1' },
    actions: [],
  },
  {
    name: 'a failed resource below its threshold recovers in place',
    spec: { nodes, resources: [{ id: 'r', migrationThreshold: 3 }] },
    state: { resources: { r: { node: 'n1', failed: true } } },
    history: [{ resource: 'r', node: 'n1', count: 1, lastFailureAt: NOW }],
    placement: { r: 'n1' },
    actions: ['restart r@n1'],
  },
  {
    name: 'an order whose first cannot run stops its then',
    spec: { nodes, resources: [{ id: 'a', targetRole: 'Stopped' }, { id: 'b' }], orders: [{ id: 'o', first: 'a', then: 'b' }] },
    state: { resources: { b: { node: 'n1' } } },
    placement: { a: null, b: null },
    actions: ['stop b@n1'],
  },
  {
    name: 'a mandatory colocation follows its primary; -INFINITY keeps apart',
    spec: {
      nodes,
      resources: [{ id: 'p' }, { id: 'd' }, { id: 'x' }],
      locations: [{ id: 'l', resource: 'p', node: 'n2', score: 10 }],
      colocations: [
        { id: 'c1', resource: 'd', withResource: 'p', score: INFINITY },
        { id: 'c2', resource: 'x', withResource: 'p', score: -INFINITY },
      ],
    },
    placement: { p: 'n2', d: 'n2', x: 'n1' },
    actions: ['start p@n2', 'start d@n2', 'start x@n1'],
  },
  {
    name: 'an offline or standby node runs nothing',
    spec: { nodes: [{ name: 'n1', standby: true }, { name: 'n2' }, { name: 'n3' }], resources: [{ id: 'r', stickiness: INFINITY }], locations: [{ id: 'l', resource: 'r', node: 'n3', score: 5 }] },
    state: { online: { n1: true, n2: true, n3: false }, resources: { r: { node: 'n1' } } },
    placement: { r: 'n2' },
    actions: ['move r@n2 from n1'],
  },
];

describe(plan.name, () => {
  it.each(table)('$name', (row) => {
    const state: ClusterObservedState = { online: row.state?.online ?? up, resources: row.state?.resources ?? {} };
    const sut = plan(row.spec, state, row.history ?? [], row.now ?? NOW);
    expect(sut.placement).toEqual(row.placement);
    expect(
      sut.actions.map((a) => (a.kind === 'move' ? `move ${a.resource}@${a.node} from ${a.from}` : `${a.kind} ${'resource' in a ? a.resource : ''}@${a.node}`)),
    ).toEqual(row.actions);
    for (const r of row.spec.resources) expect(sut.explanations[r.id]).toMatch(/\S/);
  });

  it('orders steps: start then after first, stop first after then, restart implied', () => {
    const spec: ClusterSpec = { nodes, resources: [{ id: 'a', stickiness: 1 }, { id: 'b', stickiness: 1 }], orders: [{ id: 'o', first: 'a', then: 'b' }] };
    const sut = plan(spec, { online: up, resources: { a: { node: 'n1', failed: true }, b: { node: 'n2' } } }, [], NOW);
    expect(sut.steps.map((s) => s.id)).toEqual(['stop:b@n2', 'stop:a@n1', 'start:a@n1', 'start:b@n2']);
    expect(sut.actions.find((a) => a.id === 'restart:b')?.explanation).toMatch(/order o restarts it because a restarts/);
  });
});
