import { PollingLoop } from './loop.util';

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe(PollingLoop.name, () => {
  it('runs passes after the delay each asks for, and at once when nudged', async () => {
    const at: number[] = [];
    const t0 = Date.now();
    const sut = new PollingLoop(
      async () => {
        at.push(Date.now() - t0);
        return 10_000;
      },
      { idleMs: 10_000 },
    );
    sut.start();
    await until(() => at.length === 1);
    sut.nudge();
    await until(() => at.length === 2);
    expect(at[1]).toBeLessThan(1000);
    await sut.stop();
  });

  it('never overlaps passes; a nudge during a pass runs one more right after', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release!: () => void;
    const sut = new PollingLoop(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) await new Promise<void>((r) => (release = r));
        active--;
        return 10_000;
      },
      { idleMs: 10_000 },
    );
    sut.start();
    await until(() => runs === 1);
    sut.nudge();
    sut.nudge();
    release();
    await until(() => runs === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
    await sut.stop();
  });

  it('backs off after a failure, with the delay onError returns', async () => {
    const errors: number[] = [];
    let runs = 0;
    const sut = new PollingLoop(
      async () => {
        runs++;
        if (runs < 3) throw new Error('down');
        return 10_000;
      },
      { idleMs: 10_000, onError: (_e, n) => (errors.push(n), 5) },
    );
    sut.start();
    await until(() => runs === 3);
    expect(errors).toEqual([1, 2]);
    await sut.stop();
  });

  it('stop() waits for the pass in flight and schedules nothing more', async () => {
    let runs = 0;
    let done = false;
    const sut = new PollingLoop(
      async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 30));
        done = true;
        return 0;
      },
      { idleMs: 0 },
    );
    sut.start();
    await until(() => runs === 1);
    await sut.stop();
    expect(done).toBe(true);
    const after = runs;
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(after);
  });
});
