import { executePolicy, percentChange } from './policy-execution';
import { Group, Policy } from './scaling.types';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

const group = (over: Partial<Group> = {}): Group => ({
  id: 'g1',
  minEntities: 2,
  maxEntities: 5,
  cooldownMs: 60_000,
  desired: 2,
  paused: false,
  ...over,
});
const policy = (over: Partial<Policy> = {}): Policy => ({
  id: 'p1',
  name: 'up',
  cooldownMs: 30_000,
  type: 'webhook',
  change: 2,
  ...over,
});

describe('executePolicy', () => {
  it.each([
    ['+2 from 2', group(), policy({ change: 2 }), 2, 4],
    ['+10 is clamped to max', group({ desired: 4 }), policy({ change: 10 }), 4, 5],
    ['−10 is clamped to min', group({ desired: 4 }), policy({ change: -10 }), 4, 2],
    ['desiredCapacity', group(), policy({ change: undefined, desiredCapacity: 3 }), 2, 3],
    ['desiredCapacity above max', group(), policy({ change: undefined, desiredCapacity: 50 }), 2, 5],
    [
      '+10 % of 5 rounds away from zero to +1',
      group({ desired: 5, maxEntities: 10 }),
      policy({ change: undefined, changePercent: 10 }),
      5,
      6,
    ],
    [
      '−10 % of 5 rounds away from zero to −1',
      group({ desired: 5, minEntities: 0 }),
      policy({ change: undefined, changePercent: -10 }),
      5,
      4,
    ],
    [
      '+50 % of 3 is +2',
      group({ desired: 3, maxEntities: 10 }),
      policy({ change: undefined, changePercent: 50 }),
      3,
      5,
    ],
    [
      'a stored desired outside the bounds is clamped before the change',
      group({ desired: 9 }),
      policy({ change: -1 }),
      5,
      4,
    ],
  ])('%s', (_name, g, p, before, after) => {
    const r = executePolicy(g, p, NOW);
    expect(r).toMatchObject({ ok: true, desiredBefore: before, desiredAfter: after });
  });

  it('reports a change that the clamp cancelled as accepted but unchanged', () => {
    expect(executePolicy(group({ desired: 5 }), policy({ change: 1 }), NOW)).toMatchObject({
      ok: true,
      desiredBefore: 5,
      desiredAfter: 5,
      changed: false,
    });
  });

  it('refuses within the group cooldown and says until when', () => {
    const r = executePolicy(group({ lastScaledAt: ago(10_000) }), policy(), NOW);
    expect(r).toMatchObject({
      ok: false,
      refusedBy: 'group-cooldown',
      until: new Date(NOW.getTime() + 50_000),
    });
  });

  it('refuses within the policy cooldown and says until when', () => {
    const r = executePolicy(group(), policy({ lastExecutedAt: ago(10_000) }), NOW);
    expect(r).toMatchObject({
      ok: false,
      refusedBy: 'policy-cooldown',
      until: new Date(NOW.getTime() + 20_000),
    });
  });

  it('reports the cooldown that ends last when both apply', () => {
    const r = executePolicy(
      group({ lastScaledAt: ago(50_000) }),
      policy({ lastExecutedAt: ago(5_000) }),
      NOW,
    );
    expect(r).toMatchObject({
      ok: false,
      refusedBy: 'policy-cooldown',
      until: new Date(NOW.getTime() + 25_000),
    });
  });

  it('accepts exactly when a cooldown ends', () => {
    expect(executePolicy(group({ lastScaledAt: ago(60_000) }), policy(), NOW).ok).toBe(true);
  });

  it('refuses a paused group', () => {
    expect(executePolicy(group({ paused: true }), policy(), NOW)).toMatchObject({
      ok: false,
      refusedBy: 'paused',
    });
  });
});

describe('percentChange', () => {
  it.each([
    [5, 10, 1],
    [5, -10, -1],
    [10, 30, 3],
    [10, -30, -3],
    [0, 50, 0],
    [7, 100, 7],
    [3, 33.4, 2],
  ])('%d × %d %% → %d', (base, pct, delta) => {
    expect(percentChange(base, pct)).toBe(delta);
  });
});
