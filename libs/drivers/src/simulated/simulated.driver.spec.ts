import { DriverError, PermanentDriverError, RateLimitedError } from '../driver.errors';
import { createDriver } from '../driver.registry';
import { ManualClock } from './manual-clock';
import { createPrng } from '@nephele/util';
import { sampleLatency } from './random.util';
import { SimulatedDriver, parseSimulatedDriverConfig } from './simulated.driver';

const req = (key: string, extra: Record<string, unknown> = {}) => ({
  idempotencyKey: key,
  name: `vm-${key}`,
  image: 'sim-image',
  profile: 'sim.small',
  ...extra,
});

function driver(config: Record<string, unknown> = {}, clock = new ManualClock()) {
  return { sut: new SimulatedDriver(parseSimulatedDriverConfig(config), clock), clock };
}

async function errorOf(p: Promise<unknown>): Promise<DriverError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DriverError) return e;
    throw e;
  }
  throw new Error('expected a DriverError');
}

describe(SimulatedDriver.name, () => {
  it('is deterministic for a seed: same ids, boot times and failures', async () => {
    const run = async (seed: number) => {
      const { sut, clock } = driver({ seed, failureRate: 0.3, bootLatency: { medianMs: 1000, p99Ms: 8000 } });
      for (let i = 0; i < 50; i++) await sut.create(req(`k${i}`));
      const seen: string[] = [];
      for (let t = 0; t < 20; t++) {
        clock.advance(500);
        seen.push((await sut.list()).map((x) => `${x.id}:${x.state}:${x.updatedAt}`).join(','));
      }
      return seen;
    };
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(await run(43)).not.toEqual(a);
  });

  it('samples boot latency from a lognormal with the configured median and p99', () => {
    const rng = createPrng(7);
    const samples = Array.from({ length: 20_000 }, () =>
      sampleLatency(rng, { medianMs: 1000, p99Ms: 5000 }),
    ).sort((x, y) => x - y);
    expect(samples[10_000]).toBeGreaterThan(900);
    expect(samples[10_000]).toBeLessThan(1100);
    expect(samples[19_800]).toBeGreaterThan(4000);
    expect(samples[19_800]).toBeLessThan(6000);
    expect(sampleLatency(rng, { medianMs: 250, p99Ms: 250 })).toBe(250);
  });

  it('follows the state machine through boot, stop, start, reboot and destroy', async () => {
    const { sut, clock } = driver({
      bootLatency: { medianMs: 1000, p99Ms: 1000 },
      stopLatency: { medianMs: 200, p99Ms: 200 },
      rebootLatency: { medianMs: 300, p99Ms: 300 },
      terminateLatency: { medianMs: 100, p99Ms: 100 },
      terminatedRetentionMs: 1000,
    });
    const state = async (id: string) => (await sut.get(id))?.state;
    const inst = await sut.create(req('a', { metadata: { owner: 'o1' }, realm: 'sim-b' }));
    expect(inst).toMatchObject({
      state: 'pending',
      realm: 'sim-b',
      metadata: { owner: 'o1' },
      idempotencyKey: 'a',
    });
    expect(inst.addresses).toHaveLength(1);
    clock.advance(999);
    expect(await state(inst.id)).toBe('pending');
    await expect(sut.reboot(inst.id)).rejects.toMatchObject({ kind: 'conflict' });
    clock.advance(1);
    expect(await state(inst.id)).toBe('running');

    await sut.stop(inst.id);
    expect(await state(inst.id)).toBe('stopping');
    clock.advance(200);
    expect(await state(inst.id)).toBe('stopped');
    await sut.stop(inst.id); // no-op
    await expect(sut.reboot(inst.id)).rejects.toMatchObject({ kind: 'conflict' });

    await sut.start(inst.id);
    expect(await state(inst.id)).toBe('pending');
    clock.advance(1000);
    expect(await state(inst.id)).toBe('running');

    await sut.reboot(inst.id);
    expect(await state(inst.id)).toBe('rebooting');
    clock.advance(300);
    expect(await state(inst.id)).toBe('running');

    await sut.destroy(inst.id);
    expect(await state(inst.id)).toBe('terminating');
    await expect(sut.start(inst.id)).rejects.toMatchObject({ kind: 'conflict' });
    clock.advance(100);
    expect(await state(inst.id)).toBe('terminated');
    await sut.destroy(inst.id); // no-op while still visible
    clock.advance(1000);
    expect(await sut.get(inst.id)).toBeNull();
    await expect(sut.destroy(inst.id)).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('fails boots at the configured rate, into error', async () => {
    const { sut, clock } = driver({ failureRate: 0.25, seed: 9, bootLatency: { medianMs: 100, p99Ms: 100 } });
    for (let i = 0; i < 2000; i++) await sut.create(req(`k${i}`));
    clock.advance(100);
    const errors = (await sut.list()).filter((i) => i.state === 'error').length;
    expect(errors).toBeGreaterThan(400);
    expect(errors).toBeLessThan(600);
  });

  it('returns the same instance for a repeated idempotency key, even after destroy', async () => {
    const { sut } = driver();
    const a = await sut.create(req('k'));
    const b = await sut.create(req('k'));
    expect(b.id).toBe(a.id);
    await sut.destroy(a.id);
    expect(await sut.create(req('k'))).toMatchObject({ id: a.id, state: 'terminating' });
    expect(await sut.list()).toHaveLength(1);
  });

  it('enforces the instance quota and frees it on destroy', async () => {
    const { sut } = driver({ maxInstances: 3 });
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await sut.create(req(`k${i}`)));
    const err = await errorOf(sut.create(req('k3')));
    expect(err).toMatchObject({ kind: 'quota', code: 'InstanceLimitExceeded' });
    await sut.destroy(made[0]!.id);
    await expect(sut.create(req('k3'))).resolves.toMatchObject({ state: 'pending' });
  });

  it('throws random quota errors at the configured rate', async () => {
    const { sut } = driver({ quotaErrorRate: 0.5, seed: 3 });
    let quota = 0;
    for (let i = 0; i < 200; i++) {
      try {
        await sut.create(req(`k${i}`));
      } catch (e) {
        if ((e as DriverError).kind === 'quota') quota++;
      }
    }
    expect(quota).toBeGreaterThan(70);
    expect(quota).toBeLessThan(130);
  });

  it('rate-limits with a token bucket and says when to retry', async () => {
    const { sut, clock } = driver({ rateLimit: { ratePerSec: 10, burst: 5 } });
    for (let i = 0; i < 5; i++) await sut.listImages();
    const err = await errorOf(sut.listImages());
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.kind).toBe('rate-limited');
    expect(err.retryAfterMs).toBe(100);
    clock.advance(err.retryAfterMs!);
    await expect(sut.listImages()).resolves.toHaveLength(1);
    await expect(sut.listImages()).rejects.toMatchObject({ kind: 'rate-limited' });
    expect(sut.stats()).toMatchObject({ rateLimited: 2, calls: { listImages: 6 } });
  });

  it('waits the API latency on its clock', async () => {
    const { sut, clock } = driver({ apiLatency: { medianMs: 50, p99Ms: 50 } });
    let done = false;
    const p = sut.listRealms().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(50);
    await p;
    expect(done).toBe(true);
  });

  it('lists only what changed since a time', async () => {
    const { sut, clock } = driver({ bootLatency: { medianMs: 1000, p99Ms: 1000 } });
    const a = await sut.create(req('a'));
    clock.advance(500);
    const b = await sut.create(req('b'));
    const mark = new Date(clock.now());
    expect((await sut.list({ since: mark })).map((i) => i.id)).toEqual([b.id]);
    clock.advance(500); // a boots at mark + 500
    expect((await sut.list({ since: mark })).map((i) => [i.id, i.state])).toEqual([
      [a.id, 'running'],
      [b.id, 'pending'],
    ]);
    expect((await sut.list({ since: new Date(clock.now() + 1) })).length).toBe(0);
  });

  it('pages list calls and counts them', async () => {
    const { sut } = driver({ maxListPage: 10 });
    for (let i = 0; i < 25; i++) await sut.create(req(`k${i}`));
    await sut.list();
    expect(sut.stats().calls.list).toBe(3);
  });

  it('injects failures for fault tests', async () => {
    const { sut } = driver();
    sut.injectFailure('create', new PermanentDriverError('boom'), 2);
    await expect(sut.create(req('a'))).rejects.toThrow('boom');
    await expect(sut.create(req('a'))).rejects.toThrow('boom');
    await expect(sut.create(req('a'))).resolves.toMatchObject({ state: 'pending' });
  });

  it('refuses unknown images, profiles and realms, and bad config', async () => {
    const { sut } = driver();
    await expect(sut.create(req('a', { image: 'nope' }))).rejects.toMatchObject({ kind: 'permanent' });
    await expect(sut.create(req('a', { profile: 'nope' }))).rejects.toMatchObject({ kind: 'permanent' });
    await expect(sut.create(req('a', { realm: 'nope' }))).rejects.toMatchObject({ kind: 'permanent' });
    expect(() => createDriver('simulated', { failureRate: 2, seed: 'x' }, undefined)).toThrow(
      /failureRate.*seed|seed.*failureRate/,
    );
    expect(() => createDriver('nope', {}, undefined)).toThrow(/unknown driver kind/);
  });

  it('holds 150,000 instances and lists them all', async () => {
    const clock = new ManualClock();
    const sut = createDriver('simulated', { seed: 5, failureRate: 0.01 }, undefined, {
      clock,
    }) as SimulatedDriver;
    for (let i = 0; i < 150_000; i++) await sut.create(req(`k${i}`));
    clock.advance(60_000);
    const all = await sut.list();
    expect(all).toHaveLength(150_000);
    expect(all.filter((i) => i.state === 'running').length).toBeGreaterThan(145_000);
    expect(new Set(all.map((i) => i.id)).size).toBe(150_000);
    await expect(sut.create(req('one-more'))).rejects.toMatchObject({ kind: 'quota' });
  });
});
