import { cronProblem, dueFiring, nextFirings } from './schedule';
import { Policy } from './scaling.types';

const cron = (expr: string, timezone?: string): Policy => ({
  id: 'p',
  name: 'sched',
  cooldownMs: 0,
  type: 'schedule',
  change: 1,
  args: { cron: expr, timezone },
});
const at = (iso: string): Policy => ({
  id: 'p',
  name: 'once',
  cooldownMs: 0,
  type: 'schedule',
  change: 1,
  args: { at: iso },
});
const d = (iso: string) => new Date(iso);
const MIN = 60_000;

describe('nextFirings', () => {
  it('lists cron firings in (from, to]', () => {
    expect(
      nextFirings(cron('*/15 * * * *'), d('2025-01-01T00:00:00Z'), d('2025-01-01T01:00:00Z')).map((x) =>
        x.toISOString(),
      ),
    ).toEqual([
      '2025-01-01T00:15:00.000Z',
      '2025-01-01T00:30:00.000Z',
      '2025-01-01T00:45:00.000Z',
      '2025-01-01T01:00:00.000Z',
    ]);
  });

  it('evaluates cron in the policy time zone, across a DST change', () => {
    // 09:00 in New York: EST (UTC−5) before 9 March 2025, EDT (UTC−4) from then on.
    expect(
      nextFirings(
        cron('0 9 * * *', 'America/New_York'),
        d('2025-03-08T00:00:00Z'),
        d('2025-03-10T00:00:00Z'),
      ).map((x) => x.toISOString()),
    ).toEqual(['2025-03-08T14:00:00.000Z', '2025-03-09T13:00:00.000Z']);
  });

  it('lists an at firing only inside the interval', () => {
    const p = at('2025-01-01T10:00:00Z');
    expect(nextFirings(p, d('2025-01-01T09:00:00Z'), d('2025-01-01T10:00:00Z'))).toEqual([
      d('2025-01-01T10:00:00Z'),
    ]);
    expect(nextFirings(p, d('2025-01-01T10:00:00Z'), d('2025-01-01T11:00:00Z'))).toEqual([]);
  });

  it('caps the number of firings', () => {
    expect(
      nextFirings(cron('* * * * *'), d('2025-01-01T00:00:00Z'), d('2026-01-01T00:00:00Z'), 5),
    ).toHaveLength(5);
  });

  it('lists nothing for other policy types or invalid args', () => {
    expect(
      nextFirings(
        { ...cron('* * * * *'), type: 'webhook' },
        d('2025-01-01T00:00:00Z'),
        d('2025-01-02T00:00:00Z'),
      ),
    ).toEqual([]);
    expect(nextFirings(cron('0 0 31 2 *'), d('2025-01-01T00:00:00Z'), d('2026-01-01T00:00:00Z'))).toEqual([]);
  });
});

describe('dueFiring', () => {
  const p = cron('0 * * * *');
  const cases: {
    name: string;
    after: string;
    now: string;
    graceMs: number;
    due?: string;
    missed?: string;
    next: string;
  }[] = [
    {
      name: 'a firing that just happened is due',
      after: '2025-01-01T09:00:00Z',
      now: '2025-01-01T10:00:00.500Z',
      graceMs: 5 * MIN,
      due: '2025-01-01T10:00:00Z',
      next: '2025-01-01T11:00:00Z',
    },
    {
      name: 'a firing at exactly now is due',
      after: '2025-01-01T09:00:00Z',
      now: '2025-01-01T10:00:00Z',
      graceMs: 0,
      due: '2025-01-01T10:00:00Z',
      next: '2025-01-01T11:00:00Z',
    },
    {
      name: 'a firing already recorded is not due again',
      after: '2025-01-01T10:00:00Z',
      now: '2025-01-01T10:00:30Z',
      graceMs: 5 * MIN,
      next: '2025-01-01T11:00:00Z',
    },
    {
      name: 'a firing missed during downtime runs once on recovery within the grace window',
      after: '2025-01-01T09:00:00Z',
      now: '2025-01-01T10:04:00Z',
      graceMs: 5 * MIN,
      due: '2025-01-01T10:00:00Z',
      next: '2025-01-01T11:00:00Z',
    },
    {
      name: 'several missed firings coalesce into the latest one',
      after: '2025-01-01T06:00:00Z',
      now: '2025-01-01T10:01:00Z',
      graceMs: 5 * MIN,
      due: '2025-01-01T10:00:00Z',
      next: '2025-01-01T11:00:00Z',
    },
    {
      name: 'a firing older than the grace window is reported missed, not run',
      after: '2025-01-01T09:00:00Z',
      now: '2025-01-01T10:06:00Z',
      graceMs: 5 * MIN,
      missed: '2025-01-01T10:00:00Z',
      next: '2025-01-01T11:00:00Z',
    },
  ];
  it.each(cases)('$name', ({ after, now, graceMs, due, missed, next }) => {
    const r = dueFiring(p, d(after), d(now), graceMs);
    expect(r).toEqual({
      ...(due ? { due: d(due) } : {}),
      ...(missed ? { missed: d(missed) } : {}),
      next: d(next),
    });
  });

  it('fires an at policy once, within the grace window', () => {
    const once = at('2025-01-01T10:00:00Z');
    const created = d('2025-01-01T08:00:00Z');
    expect(dueFiring(once, created, d('2025-01-01T09:59:59Z'), MIN)).toEqual({
      next: d('2025-01-01T10:00:00Z'),
    });
    expect(dueFiring(once, created, d('2025-01-01T10:00:30Z'), MIN)).toEqual({
      due: d('2025-01-01T10:00:00Z'),
    });
    expect(dueFiring(once, d('2025-01-01T10:00:00Z'), d('2025-01-01T10:00:40Z'), MIN)).toEqual({});
    expect(dueFiring(once, created, d('2025-01-01T10:02:00Z'), MIN)).toEqual({
      missed: d('2025-01-01T10:00:00Z'),
    });
  });
});

describe('cronProblem', () => {
  it.each([
    ['*/5 * * * *', undefined, undefined],
    ['0 9 * * 1-5', 'Europe/Paris', undefined],
    ['0 9 * * *', 'Mars/Olympus', 'unknown time zone Mars/Olympus'],
    ['0 0 9 * * *', undefined, 'cron must have exactly 5 fields'],
    ['@daily', undefined, 'cron must have exactly 5 fields'],
    ['61 * * * *', undefined, 'invalid cron expression'],
  ])('%s (%s)', (expr, tz, problem) => {
    const r = cronProblem(expr, tz);
    if (problem === undefined) expect(r).toBeUndefined();
    else expect(r).toContain(problem);
  });
});
