/** A seeded PRNG (mulberry32): the same seed gives the same sequence, in every run. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]: log(0) would be -Infinity
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/** A latency distribution given by its median and 99th percentile (lognormal between them). */
export interface LatencyDistribution {
  medianMs: number;
  p99Ms: number;
}

/** z-score of the 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

/** One sample of a lognormal distribution with that median and p99 (the median when p99 <= median). */
export function sampleLatency(rng: SeededRandom, d: LatencyDistribution): number {
  if (d.medianMs <= 0) return 0;
  if (d.p99Ms <= d.medianMs) return d.medianMs;
  const sigma = Math.log(d.p99Ms / d.medianMs) / Z99;
  return Math.round(d.medianMs * Math.exp(sigma * rng.normal()));
}
