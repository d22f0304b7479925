/** A token bucket: `burst` tokens, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Takes one token; returns 0, or the milliseconds until one is available. */
  take(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  full(now: number): boolean {
    return this.tokens + ((now - this.at) / 1000) * this.perSecond >= this.burst;
  }
}

/**
 * Per-key and global token buckets for the anonymous capability URLs. Keys are hashes of what the
 * caller presented, valid or not, so a 429 tells nothing about whether a capability exists.
 * In memory per replica: the limit is per replica, which is what protects each replica.
 */
export class CapabilityRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;

  constructor(
    private readonly opts: { burst: number; perSecond: number; globalBurst: number; globalPerSecond: number },
    private readonly now: () => number = Date.now,
  ) {
    this.global = new TokenBucket(opts.globalBurst, opts.globalPerSecond, now());
  }

  /** 0 when allowed, otherwise the milliseconds to wait. */
  take(key: string): number {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 100_000) this.sweep(t);
      b = new TokenBucket(this.opts.burst, this.opts.perSecond, t);
      this.buckets.set(key, b);
    }
    const wait = b.take(t);
    if (wait) return wait;
    return this.global.take(t);
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (b.full(t)) this.buckets.delete(k);
    if (this.buckets.size >= 100_000) this.buckets.clear();
  }
}
