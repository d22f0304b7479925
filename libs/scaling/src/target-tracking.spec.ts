import { evaluateTarget, rawTargetCapacity, TargetArgs, TargetInput, TargetState } from './target-tracking';
import { validatePolicy } from './validation';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const args: TargetArgs = { metric: 'cpu', target: 50, scaleOutCooldown: 60, scaleInCooldown: 60 };
const group = (desired: number, min = 1, max = 10) => ({
  minEntities: min,
  maxEntities: max,
  desired,
  paused: false,
});

function input(over: Partial<TargetInput> & { value?: number; obsAt?: number; nowS?: number }): TargetInput {
  const nowS = over.nowS ?? 0;
  return {
    group: over.group ?? group(3),
    args: over.args ?? args,
    state: over.state ?? { recommendations: [] },
    observation: over.value === undefined ? undefined : { value: over.value, at: at(over.obsAt ?? nowS) },
    maxAgeMs: over.maxAgeMs ?? 120_000,
    now: at(nowS),
  };
}

describe('rawTargetCapacity', () => {
  it.each([
    [3, 100, 50, 6],
    [6, 16, 50, 2],
    [6, 50, 100, 3],
    [10, 30, 100, 3],
    [4, 51, 50, 5],
  ])('ceil(%i × %d / %d) = %i', (current, observed, target, want) => {
    expect(rawTargetCapacity(current, observed, target)).toBe(want);
  });
});

describe('evaluateTarget', () => {
  it.each<[string, TargetInput, { kind: string; to: number; reason?: RegExp }]>([
    ['no observation holds', input({}), { kind: 'hold', to: 3, reason: /no observation/ }],
    [
      'a stale observation holds',
      input({ value: 100, obsAt: -121, nowS: 0 }),
      { kind: 'hold', to: 3, reason: /older/ },
    ],
    [
      'a paused group holds',
      input({ value: 100, group: { ...group(3), paused: true } }),
      { kind: 'hold', to: 3 },
    ],
    ['double the target doubles the capacity', input({ value: 100 }), { kind: 'scale', to: 6 }],
    [
      'within the 10% tolerance nothing changes',
      input({ value: 54 }),
      { kind: 'hold', to: 3, reason: /within 10%/ },
    ],
    ['just outside the tolerance scales', input({ value: 56 }), { kind: 'scale', to: 4 }],
    [
      'a custom tolerance of 20% holds at +15%',
      input({ value: 57.5, args: { ...args, tolerance: 0.2 } }),
      { kind: 'hold', to: 3 },
    ],
    [
      'scale-out is clamped to max',
      input({ value: 1000 }),
      { kind: 'scale', to: 10, reason: /clamped to 10/ },
    ],
    [
      'scale-out waits for its cooldown',
      input({ value: 100, nowS: 30, state: { recommendations: [], lastScaleOutAtMs: T0 } }),
      { kind: 'hold', to: 3, reason: /scale-out cooldown/ },
    ],
    [
      'scale-out after its cooldown',
      input({ value: 100, nowS: 61, state: { recommendations: [], lastScaleOutAtMs: T0 } }),
      { kind: 'scale', to: 6 },
    ],
    [
      'scale-in is held by a higher recommendation within the window',
      input({
        value: 16,
        group: group(6),
        nowS: 100,
        state: { recommendations: [{ atMs: T0, desired: 6 }] },
      }),
      { kind: 'hold', to: 6, reason: /stabilising: the highest recommendation of the last 300 s is 6/ },
    ],
    [
      'scale-in once the window has passed',
      input({
        value: 16,
        group: group(6),
        nowS: 301,
        state: { recommendations: [{ atMs: T0, desired: 6 }] },
      }),
      { kind: 'scale', to: 2 },
    ],
    [
      'scale-in goes to the highest recommendation in the window, not the newest',
      input({
        value: 16,
        group: group(6),
        nowS: 301,
        state: { recommendations: [{ atMs: T0 + 200_000, desired: 4 }] },
      }),
      { kind: 'scale', to: 4 },
    ],
    [
      'scale-in disabled',
      input({ value: 10, group: group(6), args: { ...args, disableScaleIn: true, stabilizationWindow: 0 } }),
      { kind: 'hold', to: 6, reason: /scale-in disabled/ },
    ],
    [
      'scale-in waits for its cooldown',
      input({
        value: 10,
        group: group(6),
        nowS: 30,
        args: { ...args, stabilizationWindow: 0 },
        state: { recommendations: [], lastScaleInAtMs: T0 },
      }),
      { kind: 'hold', to: 6, reason: /scale-in cooldown/ },
    ],
    [
      'scale-in is clamped to min',
      input({ value: 1, group: group(6, 2), args: { ...args, stabilizationWindow: 0 } }),
      { kind: 'scale', to: 2 },
    ],
    [
      'a metric of 0 scales to zero when min is 0',
      input({ value: 0, group: group(3, 0), args: { ...args, stabilizationWindow: 0 } }),
      { kind: 'scale', to: 0 },
    ],
    [
      'from zero, the first value above 0 wakes the group to 1',
      input({ value: 0.5, group: group(0, 0) }),
      { kind: 'scale', to: 1 },
    ],
    ['at zero, a metric of 0 holds', input({ value: 0, group: group(0, 0) }), { kind: 'hold', to: 0 }],
  ])('%s', (_name, inp, want) => {
    const d = evaluateTarget(inp);
    expect(d.kind).toBe(want.kind);
    expect(d.kind === 'scale' ? d.desiredAfter : d.desired).toBe(want.to);
    if (want.reason) expect(d.reason).toMatch(want.reason);
  });

  it('scales 3 → 6 → 2 with the stabilisation window honoured, evaluated every 15 s', () => {
    let state: TargetState = { recommendations: [] };
    let desired = 3;
    const history: [number, number][] = [];
    const metric = (s: number) => (s < 60 ? 100 : 16); // high load for a minute, then low
    for (let s = 0; s <= 600; s += 15) {
      const d = evaluateTarget(input({ value: metric(s), nowS: s, group: group(desired), state }));
      state = d.state;
      if (d.kind === 'scale') {
        desired = d.desiredAfter;
        history.push([s, desired]);
      }
      expect(state.recommendations.length).toBeLessThanOrEqual(10);
    }
    // Out at once; in only once the last high recommendation (t = 45 s, held back by the
    // scale-out cooldown but still recorded) has left the 300 s window.
    expect(history).toEqual([
      [0, 6],
      [345, 2],
    ]);
  });

  it('keeps only recommendations that can still be the maximum', () => {
    let state: TargetState = { recommendations: [] };
    for (let s = 0; s < 3600; s += 15) {
      state = evaluateTarget(input({ value: 50 + (s % 7), nowS: s, group: group(5), state })).state;
    }
    expect(state.recommendations.length).toBeLessThanOrEqual(10);
  });
});

describe('validatePolicy (target)', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['a valid target policy', { name: 't', type: 'target', args }, []],
    ['a target policy with a change', { name: 't', type: 'target', change: 1, args }, ['change']],
    ['no args', { name: 't', type: 'target' }, ['args']],
    [
      'bad fields',
      {
        name: 't',
        type: 'target',
        args: { metric: 'a b', target: 0, scaleOutCooldown: -1, tolerance: 1, disableScaleIn: 'no', x: 1 },
      },
      [
        'args.x',
        'args.metric',
        'args.target',
        'args.scaleOutCooldown',
        'args.scaleInCooldown',
        'args.disableScaleIn',
        'args.tolerance',
      ],
    ],
  ])('%s', (_n, policy, fields) => {
    expect(validatePolicy(policy).map((e) => e.field)).toEqual(fields);
  });
});
