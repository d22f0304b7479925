import { DpeClock, OBSERVED_EVERY } from './dpe.clock';

describe(DpeClock.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const member = () => ({ ticks: 0, observed: [] as number[] });

  it('ticks every member every tick and spreads their snapshots over the phases', () => {
    const sut = new DpeClock(250);
    const ms = Array.from({ length: OBSERVED_EVERY + 1 }, member);
    let n = 0;
    const clockTicks = () => n;
    for (const m of ms)
      sut.join({
        tick: () => m.ticks++,
        observe: () => m.observed.push(clockTicks()),
      });
    for (let i = 0; i < 2 * OBSERVED_EVERY; i++) {
      n = i;
      jest.advanceTimersByTime(250);
    }
    for (const m of ms) {
      expect(m.ticks).toBe(2 * OBSERVED_EVERY);
      expect(m.observed).toHaveLength(2);
      expect(m.observed[1]! - m.observed[0]!).toBe(OBSERVED_EVERY);
    }
    // Members joined one after the other observe on different ticks (the ninth shares the first's).
    const firsts = ms.map((m) => m.observed[0]);
    expect(new Set(firsts.slice(0, OBSERVED_EVERY)).size).toBe(OBSERVED_EVERY);
    expect(firsts[OBSERVED_EVERY]).toBe(firsts[0]);
  });

  it('stops visiting a member that left (even in its own tick) and stops its timer when empty', () => {
    const sut = new DpeClock(250);
    let a = 0;
    let b = 0;
    const leaveA = sut.join({ tick: () => void (a++, leaveA()), observe: () => undefined });
    const leaveB = sut.join({ tick: () => void b++, observe: () => undefined });
    jest.advanceTimersByTime(1000);
    expect([a, b]).toEqual([1, 4]);
    leaveB();
    expect(jest.getTimerCount()).toBe(0);
  });
});
