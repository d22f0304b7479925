import { hookOutcome, hookVerdict, LifecycleHook } from './lifecycle-hooks';

const hook = (defaultResult: 'CONTINUE' | 'ABANDON' = 'CONTINUE'): LifecycleHook => ({
  name: 'drain',
  kind: 'terminating',
  timeout: 60,
  defaultResult,
});

describe('hookVerdict', () => {
  it.each<[string, LifecycleHook, Parameters<typeof hookVerdict>[1], number, unknown]>([
    [
      'waits within the timeout',
      hook(),
      { hook: 'drain', startedAtMs: 0 },
      59_999,
      { kind: 'wait', untilMs: 60_000 },
    ],
    [
      'times out with CONTINUE',
      hook(),
      { hook: 'drain', startedAtMs: 0 },
      60_000,
      { kind: 'done', result: 'CONTINUE' },
    ],
    [
      'times out with ABANDON',
      hook('ABANDON'),
      { hook: 'drain', startedAtMs: 0 },
      60_000,
      { kind: 'done', result: 'ABANDON' },
    ],
    [
      'a heartbeat extends the wait',
      hook(),
      { hook: 'drain', startedAtMs: 0, lastHeartbeatAtMs: 50_000 },
      100_000,
      { kind: 'wait', untilMs: 110_000 },
    ],
    [
      'heartbeats cannot hold it beyond 100 timeouts',
      hook(),
      { hook: 'drain', startedAtMs: 0, lastHeartbeatAtMs: 5_990_000 },
      6_000_000,
      { kind: 'done', result: 'CONTINUE' },
    ],
    [
      'completion ends the wait at once, with its result',
      hook(),
      { hook: 'drain', startedAtMs: 0, completed: 'ABANDON' },
      1,
      { kind: 'done', result: 'ABANDON' },
    ],
  ])('%s', (_n, h, wait, now, want) => {
    expect(hookVerdict(h, wait, now)).toMatchObject(want as object);
  });
});

describe('hookOutcome', () => {
  it.each([
    ['launching', 'CONTINUE', 'join'],
    ['launching', 'ABANDON', 'replace'],
    ['terminating', 'CONTINUE', 'delete'],
    ['terminating', 'ABANDON', 'delete'],
  ] as const)('%s + %s → %s', (kind, result, want) => expect(hookOutcome(kind, result)).toBe(want));
});
