import { backoffDelay } from './backoff.util';

export interface PollingLoopOptions {
  /** Delay before the next pass when the pass does not say (ms). */
  idleMs: number;
  /** Called when a pass throws; returns the delay before the next try (default: exponential backoff). */
  onError?: (error: Error, failures: number) => number | void;
}

// Note [Polling loops]
// The background loops (outbox relay, convergence, schedules, webhook deliveries, polling,
// supervision) share one shape: run a pass, wait the delay the pass asks for, run again; a nudge
// (new work just committed) runs the next pass at once; a nudge during a pass runs another right
// after it; two passes never overlap; a pass that throws backs off; stop() waits for the pass in
// flight. This class is that shape, once.
export class PollingLoop {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = true;
  private failures = 0;
  private idle: Promise<void> = Promise.resolve();

  /** @param pass one pass; resolves with the delay before the next one, or undefined for `idleMs`. */
  constructor(
    private readonly pass: () => Promise<number | undefined | void>,
    private readonly opts: PollingLoopOptions,
  ) {}

  start(firstDelayMs = 0): void {
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  /** Stops scheduling and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.idle;
  }

  /** Run a pass now (or right after the one in flight). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  get busy(): boolean {
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.idle = this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let delay = this.opts.idleMs;
    try {
      do {
        this.again = false;
        const d = await this.pass();
        delay = typeof d === 'number' ? d : this.opts.idleMs;
      } while (this.again && !this.stopped);
      this.failures = 0;
    } catch (e) {
      this.failures++;
      const d = this.opts.onError?.(e as Error, this.failures);
      delay = typeof d === 'number' ? d : backoffDelay(this.failures, 200, 10_000);
    } finally {
      this.running = false;
    }
    this.schedule(this.again ? 0 : delay);
  }
}
