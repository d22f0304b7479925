import { plan } from './plan';
import { Group, LaunchConfig, ObservedServer } from './scaling.types';
import { TerminationPolicy, victimOrder } from './termination';

const now = new Date('2026-01-01T12:00:00Z');
const ago = (min: number) => new Date(now.getTime() - min * 60_000);
const server = (id: string, minutesAgo: number, over: Partial<ObservedServer> = {}): ObservedServer => ({
  id,
  state: 'active',
  createdAt: ago(minutesAgo),
  ...over,
});
// a: oldest (launch v2), b: 50 min old (v1), c: newest (v1), d: 119 min old (v2)
const servers = [
  server('a', 130, { launchVersion: 2 }),
  server('b', 50, { launchVersion: 1 }),
  server('c', 5, { launchVersion: 1 }),
  server('d', 119, { launchVersion: 2 }),
];
const launch: LaunchConfig = {
  image: 'i',
  hardwareProfile: 'h',
  loadBalancers: [],
  drainingTimeoutMs: 0,
  buildTimeoutMs: 600_000,
};
const group = (desired: number, terminationPolicy?: TerminationPolicy): Group => ({
  id: 'g',
  minEntities: 0,
  maxEntities: 10,
  cooldownMs: 0,
  desired,
  paused: false,
  terminationPolicy,
});
const deleted = (steps: ReturnType<typeof plan>) =>
  steps.filter((s) => s.kind === 'delete-server').map((s) => (s as { serverId: string }).serverId);

describe('victimOrder', () => {
  it.each<[TerminationPolicy, string[], string[]]>([
    ['oldest', [], ['a', 'd', 'b', 'c']],
    ['newest', [], ['c', 'b', 'd', 'a']],
    ['oldest-launch-config', [], ['b', 'c', 'a', 'd']],
    // minutes left to the next whole hour: a 50, b 10, c 55, d 1
    ['closest-to-next-hour', [], ['d', 'b', 'a', 'c']],
    ['custom', ['c', 'x', 'b'], ['c', 'b', 'a', 'd']],
    ['custom', [], ['a', 'd', 'b', 'c']],
  ])('%s (custom answer %j) → %j', (policy, custom, want) => {
    expect(victimOrder(servers, policy, now, custom).map((s) => s.id)).toEqual(want);
  });

  it('never offers a protected or detached server', () => {
    const s = [server('a', 10, { protected: true }), server('b', 5), server('c', 1, { detached: true })];
    expect(victimOrder(s, 'oldest', now).map((x) => x.id)).toEqual(['b']);
  });
});

describe('plan with termination policies and protection', () => {
  it.each<[string, Group, readonly ObservedServer[], string[], readonly string[]]>([
    ['oldest by default', group(3), servers, ['a'], []],
    ['newest', group(2, 'newest'), servers, ['c', 'b'], []],
    ['oldest-launch-config', group(3, 'oldest-launch-config'), servers, ['b'], []],
    ['closest-to-next-hour', group(3, 'closest-to-next-hour'), servers, ['d'], []],
    ['custom answer', group(3, 'custom'), servers, ['c'], ['c']],
    ['custom without an answer falls back to oldest', group(3, 'custom'), servers, ['a'], []],
    [
      'a protected server survives a scale-in; the next one goes',
      group(3),
      servers.map((s) => (s.id === 'a' ? { ...s, protected: true } : s)),
      ['d'],
      [],
    ],
    [
      'all protected: nothing is removed, the group stays above desired',
      group(1),
      servers.map((s) => ({ ...s, protected: true })),
      [],
      [],
    ],
    [
      'a protected build is not cancelled',
      group(1),
      [server('a', 10), server('n', 1, { state: 'building', protected: true })],
      ['a'],
      [],
    ],
  ])('%s', (_n, g, s, want, custom) => {
    expect(deleted(plan(g, launch, s, now, { customVictimOrder: custom }))).toEqual(want);
  });

  it('a detached server is not counted, not replaced, not deleted, and leaves its balancers', () => {
    const lb = { id: 'front', port: 80 };
    const s = [server('a', 10), server('x', 20, { state: 'error', detached: true, lbMemberships: [lb] })];
    const steps = plan(group(2), launch, s, now);
    expect(steps).toEqual([
      { kind: 'create-server', reason: 'scale up: 1 healthy of 2 desired' },
      { kind: 'remove-from-lb', serverId: 'x', lb, reason: 'detached from the group' },
    ]);
  });
});
