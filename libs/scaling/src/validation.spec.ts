import { validateGroupBounds, validatePolicy } from './validation';

const fields = (errors: { field: string }[]) => errors.map((e) => e.field);

describe('validatePolicy', () => {
  it.each([
    [{ name: 'up', type: 'webhook', change: 2 }],
    [{ name: 'pct', type: 'webhook', changePercent: -10, cooldownMs: 1000 }],
    [
      {
        name: 'cron',
        type: 'schedule',
        desiredCapacity: 3,
        args: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' },
      },
    ],
    [{ name: 'at', type: 'schedule', change: 1, args: { at: '2030-01-01T00:00:00Z' } }],
    [
      {
        name: 'alarm',
        type: 'alarm',
        change: 1,
        args: { alarmCriteria: { labels: { alertname: 'HighCPU' } } },
      },
    ],
  ])('accepts %j', (p) => {
    expect(validatePolicy(p)).toEqual([]);
  });

  it.each([
    ['no adjustment', { name: 'x', type: 'webhook' }, ['change']],
    ['two adjustments', { name: 'x', type: 'webhook', change: 1, desiredCapacity: 2 }, ['desiredCapacity']],
    ['zero change', { name: 'x', type: 'webhook', change: 0 }, ['change']],
    // Found by the REST fuzzer: a change beyond the int column was a 500.
    ['huge change', { name: 'x', type: 'webhook', change: -2736013025617805 }, ['change']],
    ['huge percent', { name: 'x', type: 'webhook', changePercent: 1e300 }, ['changePercent']],
    ['huge capacity', { name: 'x', type: 'webhook', desiredCapacity: 2 ** 31 }, ['desiredCapacity']],
    ['unknown type', { name: 'x', type: 'cron', change: 1 }, ['type']],
    ['schedule without args', { name: 'x', type: 'schedule', change: 1 }, ['args']],
    [
      'six-field cron',
      { name: 'x', type: 'schedule', change: 1, args: { cron: '0 0 9 * * *' } },
      ['args.cron'],
    ],
    [
      'unknown time zone',
      { name: 'x', type: 'schedule', change: 1, args: { cron: '0 9 * * *', timezone: 'Nowhere/City' } },
      ['args.timezone'],
    ],
    [
      'at without offset',
      { name: 'x', type: 'schedule', change: 1, args: { at: '2030-01-01 00:00' } },
      ['args.at'],
    ],
    ['alarm without criteria', { name: 'x', type: 'alarm', change: 1, args: {} }, ['args.alarmCriteria']],
    [
      'alarm with a bad regex',
      {
        name: 'x',
        type: 'alarm',
        change: 1,
        args: { alarmCriteria: { matchers: [{ name: 'a', op: '=~', value: '(' }] } },
      },
      ['args.alarmCriteria.matchers[0].value'],
    ],
    ['webhook with args', { name: 'x', type: 'webhook', change: 1, args: { cron: '* * * * *' } }, ['args']],
  ] as [string, unknown, string[]][])('refuses %s', (_name, p, expected) => {
    const errors = validatePolicy(p, 'policies[0].');
    expect(errors.length).toBeGreaterThan(0);
    expect(fields(errors)).toEqual(expected.map((f) => `policies[0].${f}`));
  });
});

describe('validateGroupBounds', () => {
  it('accepts sane bounds and refuses bad ones with the field', () => {
    expect(validateGroupBounds({ minEntities: 2, maxEntities: 5, cooldownMs: 0 })).toEqual([]);
    expect(fields(validateGroupBounds({ minEntities: 6, maxEntities: 5 }))).toEqual(['maxEntities']);
    expect(fields(validateGroupBounds({ minEntities: -1, maxEntities: 2000 }))).toEqual([
      'minEntities',
      'maxEntities',
    ]);
    expect(validateGroupBounds({ minEntities: 0, maxEntities: 2000 }, { maxEntitiesLimit: 5000 })).toEqual(
      [],
    );
  });
});
