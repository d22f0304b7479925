import { classify, lbKey, nextRecheck, plan } from './plan';
import { Group, LaunchConfig, LoadBalancerRef, ObservedServer, Step } from './scaling.types';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const MIN = 60_000;

const lbA: LoadBalancerRef = { id: 'haproxy-1', backend: 'web', port: 80 };
const lbB: LoadBalancerRef = { id: 'haproxy-2', backend: 'web', port: 8080 };

const group = (over: Partial<Group> = {}): Group => ({
  id: 'g1',
  minEntities: 2,
  maxEntities: 5,
  cooldownMs: 0,
  desired: 2,
  paused: false,
  ...over,
});
const launch = (over: Partial<LaunchConfig> = {}): LaunchConfig => ({
  image: 'img',
  hardwareProfile: 'small',
  loadBalancers: [lbA],
  drainingTimeoutMs: 30_000,
  buildTimeoutMs: 10 * MIN,
  ...over,
});
const server = (
  id: string,
  state: ObservedServer['state'],
  ageMs: number,
  over: Partial<ObservedServer> = {},
): ObservedServer => ({ id, state, createdAt: ago(ageMs), ...over });
const inLb = (...lbs: LoadBalancerRef[]) => ({ lbMemberships: lbs });

const create = (healthy: number, target: number): Step => ({
  kind: 'create-server',
  reason: `scale up: ${healthy} healthy of ${target} desired`,
});

describe('plan', () => {
  const cases: {
    name: string;
    group: Group;
    launch?: LaunchConfig;
    servers: ObservedServer[];
    steps: Step[];
  }[] = [
    {
      name: 'an empty group creates its min',
      group: group(),
      servers: [],
      steps: [create(0, 2), create(0, 2)],
    },
    {
      name: 'a converged group with every server in its balancer does nothing',
      group: group(),
      servers: [server('a', 'active', 5 * MIN, inLb(lbA)), server('b', 'active', 4 * MIN, inLb(lbA))],
      steps: [],
    },
    {
      name: 'pending servers count: two building of desired two plan nothing',
      group: group(),
      servers: [server('a', 'building', MIN), server('b', 'building', MIN)],
      steps: [],
    },
    {
      name: 'desired above max is clamped to max',
      group: group({ desired: 9 }),
      servers: [server('a', 'active', 5 * MIN, inLb(lbA))],
      steps: [create(1, 5), create(1, 5), create(1, 5), create(1, 5)],
    },
    {
      name: 'desired below min is clamped to min',
      group: group({ desired: 0 }),
      servers: [server('a', 'active', 5 * MIN, inLb(lbA))],
      steps: [create(1, 2)],
    },
    {
      name: 'a ready server joins every balancer of the launch config',
      group: group({ desired: 1, minEntities: 1 }),
      launch: launch({ loadBalancers: [lbA, lbB] }),
      servers: [server('a', 'active', MIN, inLb(lbB))],
      steps: [{ kind: 'add-to-lb', serverId: 'a', lb: lbA }],
    },
    {
      name: 'a server leaves a balancer that is no longer in the launch config',
      group: group({ desired: 1, minEntities: 1 }),
      launch: launch({ loadBalancers: [lbB] }),
      servers: [server('a', 'active', MIN, inLb(lbA))],
      steps: [
        { kind: 'remove-from-lb', serverId: 'a', lb: lbA, reason: 'balancer no longer in the launch config' },
        { kind: 'add-to-lb', serverId: 'a', lb: lbB },
      ],
    },
    {
      name: 'a building server does not join the balancer yet',
      group: group({ desired: 1, minEntities: 1 }),
      servers: [server('a', 'building', MIN)],
      steps: [],
    },
    {
      name: 'an ERROR server is replaced',
      group: group(),
      servers: [server('a', 'active', 5 * MIN, inLb(lbA)), server('b', 'error', 4 * MIN)],
      steps: [{ kind: 'replace-server', serverId: 'b', reason: 'server is in ERROR' }],
    },
    {
      name: 'an ERROR server still in a balancer leaves it before it is replaced',
      group: group(),
      servers: [server('a', 'active', 5 * MIN, inLb(lbA)), server('b', 'error', 4 * MIN, inLb(lbA))],
      steps: [
        { kind: 'remove-from-lb', serverId: 'b', lb: lbA, reason: 'server is in ERROR' },
        { kind: 'replace-server', serverId: 'b', reason: 'server is in ERROR' },
      ],
    },
    {
      name: 'a build past its timeout is replaced; one within it is left alone',
      group: group(),
      servers: [server('a', 'building', 11 * MIN), server('b', 'building', 9 * MIN)],
      steps: [
        {
          kind: 'replace-server',
          serverId: 'a',
          reason: 'build exceeded the timeout of 600000 ms',
        },
      ],
    },
    {
      name: 'ERROR servers beyond the desired capacity are deleted, not replaced',
      group: group(),
      servers: [
        server('a', 'active', 5 * MIN, inLb(lbA)),
        server('b', 'active', 5 * MIN, inLb(lbA)),
        server('c', 'error', 4 * MIN),
      ],
      steps: [{ kind: 'delete-server', serverId: 'c', reason: 'server is in ERROR; not needed' }],
    },
    {
      name: 'scale down cancels the newest building servers first',
      group: group({ desired: 2 }),
      servers: [
        server('old-active', 'active', 50 * MIN, inLb(lbA)),
        server('new-active', 'active', 40 * MIN, inLb(lbA)),
        server('build-old', 'building', 3 * MIN),
        server('build-new', 'building', 1 * MIN),
      ],
      steps: [
        {
          kind: 'delete-server',
          serverId: 'build-new',
          reason: 'scale down to 2: cancel the newest pending server',
        },
        {
          kind: 'delete-server',
          serverId: 'build-old',
          reason: 'scale down to 2: cancel the newest pending server',
        },
      ],
    },
    {
      name: 'then drains the oldest active server (draining timeout set)',
      group: group({ desired: 2 }),
      servers: [
        server('old-active', 'active', 50 * MIN, inLb(lbA, lbB)),
        server('mid-active', 'active', 40 * MIN, inLb(lbA)),
        server('new-active', 'active', 30 * MIN, inLb(lbA)),
        server('build', 'building', 1 * MIN),
      ],
      launch: launch({ loadBalancers: [lbA, lbB] }),
      steps: [
        {
          kind: 'delete-server',
          serverId: 'build',
          reason: 'scale down to 2: cancel the newest pending server',
        },
        { kind: 'drain', serverId: 'old-active', lb: lbA, timeoutMs: 30_000 },
        { kind: 'drain', serverId: 'old-active', lb: lbB, timeoutMs: 30_000 },
        { kind: 'add-to-lb', serverId: 'mid-active', lb: lbB },
        { kind: 'add-to-lb', serverId: 'new-active', lb: lbB },
      ],
    },
    {
      name: 'without a draining timeout the oldest active leaves the balancer and is deleted at once',
      group: group({ desired: 2 }),
      launch: launch({ drainingTimeoutMs: 0 }),
      servers: [
        server('a', 'active', 50 * MIN, inLb(lbA)),
        server('b', 'active', 40 * MIN, inLb(lbA)),
        server('c', 'active', 30 * MIN, inLb(lbA)),
      ],
      steps: [
        {
          kind: 'remove-from-lb',
          serverId: 'a',
          lb: lbA,
          reason: 'scale down to 2: remove the oldest active server',
        },
        { kind: 'delete-server', serverId: 'a', reason: 'scale down to 2: remove the oldest active server' },
      ],
    },
    {
      name: 'a draining server waits for its timeout and is not counted',
      group: group(),
      servers: [
        server('a', 'active', 50 * MIN, inLb(lbA)),
        server('b', 'active', 40 * MIN, inLb(lbA)),
        server('d', 'draining', 60 * MIN, { ...inLb(lbA), drainingSince: ago(10_000) }),
      ],
      steps: [],
    },
    {
      name: 'a drained server leaves the balancer and is deleted once the timeout passed',
      group: group(),
      servers: [
        server('a', 'active', 50 * MIN, inLb(lbA)),
        server('b', 'active', 40 * MIN, inLb(lbA)),
        server('d', 'draining', 60 * MIN, { ...inLb(lbA), drainingSince: ago(30_000) }),
      ],
      steps: [
        { kind: 'remove-from-lb', serverId: 'd', lb: lbA, reason: 'draining finished' },
        { kind: 'delete-server', serverId: 'd', reason: 'draining finished' },
      ],
    },
    {
      name: 'deleting servers are neither counted nor touched',
      group: group(),
      servers: [server('a', 'active', 50 * MIN, inLb(lbA)), server('x', 'deleting', 60 * MIN)],
      steps: [create(1, 2)],
    },
    {
      name: "a refresh's surge raises the target above the desired capacity, even above max",
      group: group({ desired: 5, surge: 2 }),
      servers: ['a', 'b', 'c', 'd', 'e'].map((id) => server(id, 'active', 5 * MIN, inLb(lbA))),
      steps: [create(5, 7), create(5, 7)],
    },
    {
      name: 'an evicted server in a balancer drains (and is made up for at once); a broken one goes',
      group: group({ desired: 2 }),
      servers: [
        server('a', 'error', 5 * MIN, { ...inLb(lbA), evicted: true }),
        server('b', 'active', 5 * MIN, inLb(lbA)),
        server('c', 'active', MIN, inLb(lbA)),
      ],
      steps: [{ kind: 'drain', serverId: 'a', lb: lbA, timeoutMs: 30_000 }],
    },
    {
      name: 'without a draining timeout an evicted server leaves its balancer and is deleted',
      group: group({ desired: 2 }),
      launch: launch({ drainingTimeoutMs: 0 }),
      servers: [
        server('a', 'error', 5 * MIN, { ...inLb(lbA), evicted: true }),
        server('b', 'active', 5 * MIN, inLb(lbA)),
        server('c', 'active', MIN, inLb(lbA)),
      ],
      steps: [
        { kind: 'remove-from-lb', serverId: 'a', lb: lbA, reason: 'server is in ERROR' },
        { kind: 'delete-server', serverId: 'a', reason: 'server is in ERROR; not needed' },
      ],
    },
    {
      name: 'a paused group gets no steps',
      group: group({ paused: true, desired: 5 }),
      servers: [server('a', 'error', MIN)],
      steps: [],
    },
  ];

  it.each(cases)('$name', ({ group: g, launch: l, servers, steps }) => {
    expect(plan(g, l ?? launch(), servers, NOW)).toEqual(steps);
  });

  it('is deterministic whatever order the servers come in', () => {
    const servers = [
      server('b', 'active', 40 * MIN, inLb(lbA)),
      server('c', 'building', 2 * MIN),
      server('a', 'active', 40 * MIN, inLb(lbA)),
      server('d', 'building', 2 * MIN),
    ];
    const g = group({ desired: 2 });
    expect(plan(g, launch(), servers, NOW)).toEqual(plan(g, launch(), [...servers].reverse(), NOW));
  });
});

describe('nextRecheck', () => {
  it('is the earliest draining end or build timeout after now', () => {
    const servers = [
      server('b', 'building', 9 * MIN),
      server('d', 'draining', 60 * MIN, { drainingSince: ago(20_000) }),
    ];
    expect(nextRecheck(group(), launch(), servers, NOW)).toEqual(new Date(NOW.getTime() + 10_000));
    expect(nextRecheck(group(), launch(), [server('a', 'active', MIN)], NOW)).toBeUndefined();
  });
});

describe('classify', () => {
  it.each([
    [[], 'success'],
    [['success', 'success'], 'success'],
    [['success', 'retry'], 'retry'],
    [['retry', 'limited-retry', 'success'], 'limited-retry'],
    [['limited-retry', 'failure', 'retry'], 'failure'],
  ] as const)('%j → %s', (outcomes, verdict) => {
    expect(classify(outcomes.map((outcome) => ({ outcome })))).toBe(verdict);
  });
});

describe('lbKey', () => {
  it('tells memberships apart by balancer, backend and port', () => {
    expect(lbKey(lbA)).toBe(lbKey({ ...lbA }));
    expect(lbKey(lbA)).not.toBe(lbKey({ ...lbA, port: 81 }));
    expect(lbKey(lbA)).not.toBe(lbKey({ ...lbA, backend: undefined }));
  });
});
