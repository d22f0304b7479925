import { UsageError } from '../errors.util';
import {
  getPath,
  parseAmount,
  parseCount,
  parseDurationFlag,
  parseInteger,
  parseJsonObject,
  parseSince,
  queryString,
  setPath,
} from './flags.util';

describe('flag parsing', () => {
  it('reads hardware amounts in the four forms', () => {
    expect(parseAmount('--cpu', '2')).toBe(2);
    expect(parseAmount('--cpu', '2..4')).toEqual({ min: 2, max: 4 });
    expect(parseAmount('--cpu', '2..')).toEqual({ min: 2 });
    expect(parseAmount('--cpu', '..4')).toEqual({ max: 4 });
  });

  it.each(['', '..', 'two', '4..2', '-1', '1.5'])('refuses the amount %j as a usage error', (raw) => {
    expect(() => parseAmount('--cpu', raw)).toThrow(UsageError);
  });

  it('names the flag in the message', () => {
    expect(() => parseCount('--max-instances', 'many')).toThrow(
      '--max-instances must be a non-negative integer',
    );
    expect(() => parseInteger('--priority', '1.5')).toThrow('--priority must be an integer');
    expect(parseInteger('--priority', '-3')).toBe(-3);
    expect(() => parseJsonObject('--options', '[1]')).toThrow('--options must be a JSON object');
    expect(parseJsonObject('--options', '{"a":1}')).toEqual({ a: 1 });
    expect(() => parseDurationFlag('--timeout', 'soon')).toThrow('--timeout must be a duration');
    expect(parseDurationFlag('--timeout', '2m')).toBe(120_000);
  });

  it('reads --since as RFC 3339 or as a duration back from now', () => {
    const now = new Date('2026-01-31T12:00:00Z');
    expect(parseSince('--since', '15m', now)).toBe('2026-01-31T11:45:00.000Z');
    expect(parseSince('--since', '2026-01-30T00:00:00+01:00', now)).toBe('2026-01-29T23:00:00.000Z');
    expect(() => parseSince('--since', '2026-01-30T00:00:00', now)).toThrow(UsageError);
    expect(() => parseSince('--since', 'yesterday', now)).toThrow(UsageError);
  });

  it('sets and reads dotted paths', () => {
    const o: Record<string, unknown> = { quota: { maxCores: 2 } };
    setPath(o, 'quota.maxInstances', 5);
    setPath(o, 'name', 'web');
    expect(o).toEqual({ name: 'web', quota: { maxCores: 2, maxInstances: 5 } });
    expect(getPath(o, 'quota.maxInstances')).toBe(5);
    expect(getPath(o, 'quota.none.deeper')).toBeUndefined();
  });

  it('builds query strings from the defined values only', () => {
    expect(queryString({ a: undefined, b: '' })).toBe('');
    expect(queryString({ type: 'nephele.config.*', limit: 3, x: undefined })).toBe(
      '?type=nephele.config.*&limit=3',
    );
  });
});
