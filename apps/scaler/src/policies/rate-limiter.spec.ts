import { CapabilityRateLimiter, TokenBucket } from './rate-limiter';

describe(CapabilityRateLimiter.name, () => {
  it('allows a burst per key, then refills at the rate', () => {
    let now = 0;
    const sut = new CapabilityRateLimiter(
      { burst: 2, perSecond: 1, globalBurst: 100, globalPerSecond: 100 },
      () => now,
    );
    expect([sut.take('a'), sut.take('a')]).toEqual([0, 0]);
    expect(sut.take('a')).toBe(1000);
    expect(sut.take('b')).toBe(0); // another key has its own bucket
    now = 1000;
    expect(sut.take('a')).toBe(0);
    expect(sut.take('a')).toBeGreaterThan(0);
  });

  it('limits every key together with the global bucket', () => {
    const now = 0;
    const sut = new CapabilityRateLimiter(
      { burst: 5, perSecond: 1, globalBurst: 3, globalPerSecond: 1 },
      () => now,
    );
    expect(['k1', 'k2', 'k3'].map((k) => sut.take(k))).toEqual([0, 0, 0]);
    expect(sut.take('k4')).toBe(1000);
  });

  it('a bucket never holds more than its burst', () => {
    const b = new TokenBucket(3, 10, 0);
    expect(b.full(60_000)).toBe(true);
    expect([b.take(60_000), b.take(60_000), b.take(60_000)]).toEqual([0, 0, 0]);
    expect(b.take(60_000)).toBe(100);
  });
});
