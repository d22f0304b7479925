import type { Clock } from '../cloud-driver.types';

/** A clock that moves only when told to: for simulations and tests that must not wait. */
export class ManualClock implements Clock {
  private sleepers: { at: number; resolve: () => void }[] = [];

  constructor(private current = Date.parse('2030-01-01T00:00:00.000Z')) {}

  now(): number {
    return this.current;
  }

  /** Moves time forward, waking the sleepers whose time has come. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('time does not go backwards');
    this.current += ms;
    const due = this.sleepers.filter((s) => s.at <= this.current);
    this.sleepers = this.sleepers.filter((s) => s.at > this.current);
    for (const s of due) s.resolve();
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.sleepers.push({ at: this.current + ms, resolve }));
  }
}
