import { matchAlarm } from './alarm';
import { AlarmCriteria, Policy } from './scaling.types';

const alarm = (alarmCriteria: AlarmCriteria): Policy => ({
  id: 'p',
  name: 'cpu-high',
  cooldownMs: 0,
  type: 'alarm',
  change: 1,
  args: { alarmCriteria },
});

describe('matchAlarm', () => {
  const labels = { alertname: 'HighCPU', severity: 'critical', group: 'web' };
  it.each([
    ['equal labels', { labels: { alertname: 'HighCPU', group: 'web' } }, true],
    ['one label differs', { labels: { alertname: 'HighCPU', group: 'db' } }, false],
    ['a required label is absent', { labels: { zone: 'a' } }, false],
    ['regex matcher, anchored', { matchers: [{ name: 'severity', op: '=~', value: 'crit.*' }] }, true],
    [
      'regex must match the whole value',
      { matchers: [{ name: 'severity', op: '=~', value: 'crit' }] },
      false,
    ],
    ['negative regex', { matchers: [{ name: 'severity', op: '!~', value: 'warn.*' }] }, true],
    ['not-equal on an absent label', { matchers: [{ name: 'zone', op: '!=', value: 'a' }] }, true],
    [
      'labels and matchers together',
      { labels: { group: 'web' }, matchers: [{ name: 'alertname', op: '=', value: 'HighCPU' }] },
      true,
    ],
    ['empty criteria match nothing', {}, false],
    ['an invalid regex matches nothing', { matchers: [{ name: 'group', op: '=~', value: '(' }] }, false],
  ] as [string, AlarmCriteria, boolean][])('%s', (_name, criteria, expected) => {
    expect(matchAlarm(alarm(criteria), labels)).toBe(expected);
  });

  it('matches only alarm policies', () => {
    expect(matchAlarm({ ...alarm({ labels: { group: 'web' } }), type: 'webhook' }, labels)).toBe(false);
  });
});
