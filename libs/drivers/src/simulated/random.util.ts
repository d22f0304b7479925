import { Prng } from '@nephele/util';

/** A latency distribution given by its median and 99th percentile (lognormal between them). */
export interface LatencyDistribution {
  medianMs: number;
  p99Ms: number;
}

/** z-score of the 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

/** One sample of a lognormal distribution with that median and p99 (the median when p99 <= median). */
export function sampleLatency(rng: Prng, d: LatencyDistribution): number {
  if (d.medianMs <= 0) return 0;
  if (d.p99Ms <= d.medianMs) return d.medianMs;
  const sigma = Math.log(d.p99Ms / d.medianMs) / Z99;
  return Math.round(d.medianMs * Math.exp(sigma * rng.normal()));
}
