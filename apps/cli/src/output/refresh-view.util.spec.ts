import { progressBar, refreshLine, refreshVerdict, RefreshView } from './refresh-view.util';

const base: RefreshView = {
  id: 'r1',
  groupId: 'g1',
  status: 'running',
  spec: { minHealthyPercentage: 80, batchSize: 2, warmup: 60 },
  toVersion: 2,
  fromVersion: 1,
  total: 10,
  replaced: 4,
  percentComplete: 40,
  batches: 3,
  batch: { startedAt: '2026-01-31T12:00:00Z', retire: ['a', 'b'], launch: 2 },
  reason: null,
  createdAt: '2026-01-31T11:59:00Z',
  updatedAt: '2026-01-31T12:00:00Z',
  finishedAt: null,
};

describe('refresh view', () => {
  it.each([
    [0, 10, 10, '[----------]'],
    [4, 10, 10, '[####------]'],
    [10, 10, 10, '[##########]'],
    [12, 10, 10, '[##########]'],
    [0, 0, 4, '[####]'],
    [1, 3, 4, '[#---]'],
  ])('progressBar(%i, %i, %i) = %s', (done, total, width, want) =>
    expect(progressBar(done, total, width)).toBe(want),
  );

  it('prints the bar, the figures, the batch and why it waits', () => {
    expect(refreshLine(base)).toBe('[########------------] 4/10 (40%) running → v2, batch 3 replacing 2');
    expect(
      refreshLine({
        ...base,
        status: 'rolling-back',
        toVersion: 1,
        batch: null,
        reason: 'batch not healthy',
      }),
    ).toBe('[########------------] 4/10 (40%) rolling-back → v1 — batch not healthy');
  });

  it.each([
    ['running', false, undefined],
    ['paused', false, undefined],
    ['rolling-back', false, undefined],
    ['succeeded', true, 0],
    ['rolled-back', true, 1],
    ['failed', true, 1],
    ['cancelled', true, 1],
  ])('a %s refresh: done %s, exit %s', (status, done, exitCode) => {
    const v = refreshVerdict({ ...base, status });
    expect(v.done).toBe(done);
    if (v.done) expect(v.exitCode).toBe(exitCode);
  });
});
