import { healthyFloor, planRefresh, RefreshServer, RefreshSpec, RefreshState } from './refresh';

const spec: RefreshSpec = { minHealthyPercentage: 80, batchSize: 2, warmup: 60 };
const running: RefreshState = { status: 'running', toVersion: 2, fromVersion: 1 };
const old = (i: number, healthy = true): RefreshServer => ({
  id: `o${i}`,
  launchVersion: 1,
  healthy,
  createdAtMs: i,
});
const fresh = (i: number, healthy: boolean, at = 1000): RefreshServer => ({
  id: `n${i}`,
  launchVersion: 2,
  healthy,
  createdAtMs: at + i,
});
const olds = (n: number) => Array.from({ length: n }, (_, i) => old(i));

describe('healthyFloor', () => {
  it.each([
    [10, 80, 8],
    [5, 80, 4],
    [3, 100, 3],
    [3, 0, 0],
    [7, 90, 7],
  ])('%i servers at %i%% → %i', (d, p, want) => expect(healthyFloor(d, p)).toBe(want));
});

describe('planRefresh', () => {
  it.each<[string, Parameters<typeof planRefresh>[0], string, Record<string, unknown>]>([
    [
      '10 servers, 80%, batches of 2: retire the two oldest',
      { spec, state: running, desired: 10, servers: olds(10), nowMs: 1000 },
      'start-batch',
      { retire: ['o0', 'o1'], launch: 2 },
    ],
    [
      '5 servers at 80%: only one may go at a time',
      { spec, state: running, desired: 5, servers: olds(5), nowMs: 1000 },
      'start-batch',
      { retire: ['o0'], launch: 1 },
    ],
    [
      'at the floor: wait',
      {
        spec: { ...spec, minHealthyPercentage: 100 },
        state: running,
        desired: 3,
        servers: olds(3),
        nowMs: 1000,
      },
      'wait',
      {},
    ],
    [
      'an unhealthy old server can always go, first',
      {
        spec: { ...spec, minHealthyPercentage: 100 },
        state: running,
        desired: 3,
        servers: [old(0), old(1, false), old(2)],
        nowMs: 1000,
      },
      'start-batch',
      { retire: ['o1'], launch: 1 },
    ],
    [
      'a batch waits for its new servers',
      {
        spec,
        state: { ...running, batch: { startedAtMs: 1000, retire: ['o0', 'o1'], launch: 2 } },
        desired: 10,
        servers: [...olds(10).slice(2), fresh(0, true), fresh(1, false)],
        nowMs: 30_000,
      },
      'wait',
      {},
    ],
    [
      'a healthy batch ends; the next starts on the following pass',
      {
        spec,
        state: { ...running, batch: { startedAtMs: 1000, retire: ['o0', 'o1'], launch: 2 } },
        desired: 10,
        servers: [...olds(10).slice(2), fresh(0, true), fresh(1, true)],
        nowMs: 30_000,
      },
      'wait',
      { reason: 'batch healthy' },
    ],
    [
      'a batch not healthy within the warmup rolls back',
      {
        spec,
        state: { ...running, batch: { startedAtMs: 1000, retire: ['o0', 'o1'], launch: 2 } },
        desired: 10,
        servers: [...olds(10).slice(2), fresh(0, true), fresh(1, false)],
        nowMs: 61_000,
      },
      'roll-back',
      {},
    ],
    [
      'no outdated server left: succeeded',
      { spec, state: running, desired: 2, servers: [fresh(0, true), fresh(1, true)], nowMs: 1 },
      'finish',
      {},
    ],
    [
      'paused: nothing',
      { spec, state: { ...running, status: 'paused' }, desired: 10, servers: olds(10), nowMs: 1 },
      'wait',
      {},
    ],
  ])('%s', (_n, input, kind, want) => {
    const d = planRefresh(input);
    expect(d.kind).toBe(kind);
    expect(d).toMatchObject(want);
  });

  it('a rollback targets the previous version, and a failing rollback ends failed', () => {
    const d = planRefresh({
      spec,
      state: { ...running, batch: { startedAtMs: 0, retire: ['o0'], launch: 1 } },
      desired: 2,
      servers: [old(1), fresh(0, false)],
      nowMs: 60_000,
    });
    expect(d.state).toMatchObject({ status: 'rolling-back', toVersion: 1, fromVersion: 2 });
    const again = planRefresh({
      spec,
      state: { ...d.state, batch: { startedAtMs: 60_000, retire: ['n0'], launch: 1 } },
      desired: 2,
      servers: [old(1), { ...old(5, false), createdAtMs: 60_001 }],
      nowMs: 120_000,
    });
    expect(again.state.status).toBe('failed');
  });

  it('10 servers in batches of 2 never go below 8 healthy and end succeeded', () => {
    let servers: RefreshServer[] = olds(10);
    let state: RefreshState = running;
    let minHealthy = 10;
    let batches = 0;
    for (let t = 0; t < 100 && state.status === 'running'; t++) {
      const d = planRefresh({ spec, state, desired: 10, servers, nowMs: t * 1000 });
      state = d.state;
      if (d.kind === 'start-batch') {
        batches++;
        servers = servers.filter((s) => !d.retire.includes(s.id));
        minHealthy = Math.min(minHealthy, servers.filter((s) => s.healthy).length);
        // New servers come up healthy one pass later.
        servers.push(...Array.from({ length: d.launch }, (_, i) => fresh(batches * 10 + i, false, t * 1000)));
      } else {
        servers = servers.map((s) => ({ ...s, healthy: true }));
      }
    }
    expect(state.status).toBe('succeeded');
    expect(batches).toBe(5);
    expect(minHealthy).toBe(8);
    expect(servers.every((s) => s.launchVersion === 2)).toBe(true);
  });
});

describe('planRefresh, launch before retire', () => {
  const surge: RefreshSpec = { ...spec, launchBeforeRetire: true };
  it('launches a batch of new servers first and retires nothing yet, whatever the floor', () => {
    const d = planRefresh({ spec: surge, state: running, desired: 5, servers: olds(5), nowMs: 1000 });
    expect(d).toMatchObject({ kind: 'start-batch', retire: ['o0', 'o1'], launch: 2 });
    expect(d.state.batch).toEqual({ startedAtMs: 1000, retire: ['o0', 'o1'], launch: 2, surge: true });
  });

  const batch = { startedAtMs: 1000, retire: ['o0', 'o1'], launch: 2, surge: true };
  it('waits for the new servers, then retires the old ones', () => {
    const state = { ...running, batch };
    const waiting = [...olds(5), fresh(0, true), fresh(1, false)];
    expect(planRefresh({ spec: surge, state, desired: 5, servers: waiting, nowMs: 2000 }).kind).toBe('wait');
    const ready = [...olds(5), fresh(0, true), fresh(1, true)];
    expect(planRefresh({ spec: surge, state, desired: 5, servers: ready, nowMs: 2000 })).toEqual({
      kind: 'retire',
      retire: ['o0', 'o1'],
      state: running,
    });
  });

  it('rolls back after the warmup and discards the new servers of the batch', () => {
    const state = { ...running, batch };
    const servers = [...olds(5), fresh(0, true), fresh(1, false)];
    const d = planRefresh({ spec: surge, state, desired: 5, servers, nowMs: 61_000 });
    expect(d).toMatchObject({ kind: 'roll-back', discard: ['n0', 'n1'] });
    expect(d.state).toMatchObject({ status: 'rolling-back', toVersion: 1, fromVersion: 2 });
  });
});
