import { isAmount } from './common.dto';

describe(isAmount.name, () => {
  it.each([
    [0, true],
    [4, true],
    [{ min: 2 }, true],
    [{ max: 8 }, true],
    [{ min: 2, max: 2 }, true],
    [{ min: 3, max: 2 }, false],
    [{}, false],
    [{ min: 1, other: 2 }, false],
    [-1, false],
    [1.5, false],
    ['2', false],
    [[2], false],
    [null, false],
    [{ min: -1 }, false],
  ])('%j → %s', (v, ok) => {
    expect(isAmount(v)).toBe(ok);
  });
});
