// Note [Host clock]
// Every DPE looks at its heartbeat deadlines every TICK_MS and publishes its observed snapshot
// every OBSERVED_EVERY ticks. With two intervals per DPE a host of 2,500 DPEs ran 12,500 timer
// callbacks a second; one clock per host runs them all from one timer. Deadlines are judged as
// often as before (detection stays interval × misses plus at most one tick), and each DPE gets a
// phase, so the snapshots of the host's DPEs are spread over the OBSERVED_EVERY ticks instead of
// all leaving together. A DPE made without the host's clock (tests) gets one of its own.

export const TICK_MS = 250;
/** The observed snapshot every this many ticks (2 s). */
export const OBSERVED_EVERY = 8;

export interface ClockMember {
  /** Every tick: deadlines, the periodic pass. */
  tick(): void;
  /** Every OBSERVED_EVERY ticks, at the member's phase. */
  observe(): void;
}

/** One timer for the DPEs of a host (Note [Host clock]). */
export class DpeClock {
  private readonly members = new Map<ClockMember, number>();
  private timer?: NodeJS.Timeout;
  private ticks = 0;
  private joined = 0;

  constructor(private readonly tickMs = TICK_MS) {}

  /** Starts ticking `m` (from the next tick); the returned function stops it. */
  join(m: ClockMember): () => void {
    this.members.set(m, this.joined++ % OBSERVED_EVERY);
    this.timer ??= setInterval(() => this.tick(), this.tickMs);
    return () => {
      this.members.delete(m);
      if (this.members.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private tick(): void {
    const phase = this.ticks++ % OBSERVED_EVERY;
    // A member leaving in its own tick (a halted DPE) is simply not visited again.
    for (const [m, p] of this.members) {
      m.tick();
      if (p === phase) m.observe();
    }
  }
}
