import { INFINITY, addScores, formatScore, parseScore } from './score.util';

describe('score arithmetic', () => {
  it.each([
    [INFINITY, -INFINITY, -INFINITY],
    [-INFINITY, INFINITY, -INFINITY],
    [INFINITY, 5, INFINITY],
    [600_000, 600_000, INFINITY],
    [-600_000, -600_000, -INFINITY],
    [100, -30, 70],
    [INFINITY, INFINITY, INFINITY],
  ])('%d + %d = %d', (a, b, sum) => {
    expect(addScores(a, b)).toBe(sum);
    expect(addScores(b, a)).toBe(sum);
  });

  it('is not associative once a sum clamps, like Pacemaker', () => {
    expect(addScores(addScores(600_000, 600_000), -600_000)).toBe(INFINITY);
    expect(addScores(addScores(600_000, -600_000), 600_000)).toBe(600_000);
  });

  it.each([
    ['INFINITY', INFINITY],
    ['+INFINITY', INFINITY],
    ['-INFINITY', -INFINITY],
    ['inf', INFINITY],
    ['42', 42],
    ['-7', -7],
    ['2000000', INFINITY],
    ['abc', undefined],
  ])('parses %s', (text, score) => expect(parseScore(text)).toBe(score));

  it('formats like crm_simulate', () => {
    expect([INFINITY, -INFINITY, 3].map(formatScore)).toEqual(['INFINITY', '-INFINITY', '3']);
  });
});
