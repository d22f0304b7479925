import { ClusterObservedState, ClusterSpec } from './cluster.types';
import { plan } from './plan';
import { compareCapacities, consumeCapacity, hasEnoughCapacity, insufficientCapacity, parsePlacementStrategy, parseUtilizationValue } from './utilization';

const m = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));

describe('utilization arithmetic', () => {
  it.each([
    ['more on more attributes', { cpu: 4, mem: 8 }, { cpu: 2, mem: 8 }, -1],
    ['a vote, not a sum', { cpu: 100, mem: 1 }, { cpu: 1, mem: 2 }, 0],
    ['a missing attribute counts as 0', {}, { cpu: 1 }, 1],
    ['equal', { cpu: 1 }, { cpu: 1 }, 0],
  ])('compareCapacities: %s', (_name, a, b, expected) => {
    expect(compareCapacities(m(a), m(b))).toBe(expected);
  });

  it.each([
    [{ cpu: 2 }, { cpu: 2 }, true],
    [{ cpu: 2 }, { cpu: 3 }, false],
    [{ cpu: 2 }, { mem: 1 }, false],
    [{}, { mem: 0 }, true],
  ])('hasEnoughCapacity(%j, %j) = %s', (free, required, expected) => {
    expect(hasEnoughCapacity(m(free), m(required))).toBe(expected);
  });

  it('consumes only attributes the node lists', () => {
    const free = m({ cpu: 4 });
    consumeCapacity(free, m({ cpu: 3, mem: 2 }));
    expect(Object.fromEntries(free)).toEqual({ cpu: 1 });
  });

  it.each([
    ['Balanced', 'balanced'],
    [undefined, 'default'],
    ['fastest', undefined],
  ])('parsePlacementStrategy(%s) = %s', (text, expected) => {
    expect(parsePlacementStrategy(text)).toBe(expected);
  });

  it.each([
    ['10', 10],
    [' -3 ', -3],
    ['1.5', undefined],
    ['lots', undefined],
    ['99999999999', undefined],
  ])('parseUtilizationValue(%s) = %s', (text, expected) => {
    expect(parseUtilizationValue(text)).toBe(expected);
  });

  it('bans nodes without room for the chained sum when one has room, else those without room for the resource alone', () => {
    const free = [m({ cpu: 4 }), m({ cpu: 2 }), m({ cpu: 1 })];
    expect(insufficientCapacity([0, 1, 2], free, m({ cpu: 1 }), m({ cpu: 3 }))).toEqual({ ban: [1, 2], mostCapable: [] });
    expect(insufficientCapacity([1, 2], free, m({ cpu: 2 }), m({ cpu: 3 }))).toEqual({ ban: [2], mostCapable: [1] });
  });

  it('lists every node a scan in any order could end on as the most capable', () => {
    // a beats b on cpu, b beats c on mem, c beats a on disk: a cycle.
    const free = [m({ cpu: 3, mem: 1, disk: 2 }), m({ cpu: 2, mem: 3, disk: 1 }), m({ cpu: 1, mem: 2, disk: 3 })];
    expect(insufficientCapacity([0, 1, 2], free, m({}), m({ cpu: 9 })).mostCapable).toEqual([0, 1, 2]);
  });
});

// Rows checked against crm_simulate (Pacemaker 2.1.5) through writeCib.
describe('plan() with a placement-strategy', () => {
  const nodes = [{ name: 'n1' }, { name: 'n2' }];
  const online: ClusterObservedState['online'] = { n1: true, n2: true };
  const run = (spec: ClusterSpec, resources: ClusterObservedState['resources'] = {}): Record<string, string | null> => plan(spec, { online, resources }, [], 0).placement;

  it.each([
    [
      'utilization: a node without room is banned',
      { strategy: 'utilization', capacity: { n1: { cpu: 1 }, n2: { cpu: 4 } }, use: { a: { cpu: 2 }, b: { cpu: 2 } } },
      { a: 'n2', b: 'n2' },
    ],
    [
      'utilization: nothing fits, the resource stays stopped',
      { strategy: 'utilization', capacity: { n1: { cpu: 1 }, n2: { cpu: 3 } }, use: { a: { cpu: 2 }, b: { cpu: 2 } } },
      { a: 'n2', b: null },
    ],
    [
      'balanced: the node with more free capacity wins a tie in score',
      { strategy: 'balanced', capacity: { n1: { cpu: 5 }, n2: { cpu: 4 } }, use: { a: { cpu: 2 }, b: { cpu: 1 } } },
      { a: 'n1', b: 'n2' },
    ],
    [
      'minimal: ties go by name only, not by assigned resources',
      { strategy: 'minimal', capacity: { n1: { cpu: 5 }, n2: { cpu: 5 } }, use: { a: { cpu: 1 }, b: { cpu: 1 } } },
      { a: 'n1', b: 'n1' },
    ],
    [
      'resources that use more are not placed first: priority and scores order them',
      { strategy: 'utilization', capacity: { n1: { cpu: 3 } }, use: { a: { cpu: 1 }, b: { cpu: 3 } } },
      { a: 'n1', b: null },
    ],
  ] as Array<[string, NonNullable<ClusterSpec['utilization']>, Record<string, string | null>]>)('%s', (_name, utilization, expected) => {
    const spec: ClusterSpec = { nodes: utilization.capacity['n2'] ? nodes : [nodes[0]!], resources: [{ id: 'a' }, { id: 'b' }], utilization };
    expect(run(spec)).toEqual(expected);
  });

  it('sorts by the score on the current node first: a running resource keeps its room', () => {
    const spec: ClusterSpec = {
      nodes: [nodes[0]!],
      resources: [{ id: 'a' }, { id: 'b', stickiness: 10 }],
      utilization: { strategy: 'utilization', capacity: { n1: { cpu: 2 } }, use: { a: { cpu: 2 }, b: { cpu: 2 } } },
    };
    expect(plan(spec, { online: { n1: true }, resources: { b: { node: 'n1' } } }, [], 0).placement).toEqual({ a: null, b: 'n1' });
  });
});
