import { backoffDelay, createPrng, isRfc3339, parseDuration, seedFromString, topicMatches } from './index';

describe('topicMatches', () => {
  it.each([
    ['nephele.assembly.*', 'nephele.assembly.failed', true],
    ['nephele.assembly.*', 'nephele.assembly.heartbeat.extra', false],
    ['nephele.#', 'nephele.assembly.failed', true],
    ['#', 'anything.at.all', true],
    ['nephele.*.failed', 'nephele.service.failed', true],
    ['nephele.*.failed', 'nephele.failed', false],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.b', 'a.b.c', false],
  ])('%s ~ %s = %s', (p, k, expected) => expect(topicMatches(p, k)).toBe(expected));
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['60', 60_000],
    [600, 600_000],
  ])('%s → %d ms', (i, ms) => expect(parseDuration(i)).toBe(ms));
  it('refuses garbage', () => expect(() => parseDuration('soon')).toThrow(/invalid duration/));
});

describe('backoffDelay', () => {
  it('grows and stays under the cap', () => {
    const low = backoffDelay(0, 100, 1000, () => 0);
    const high = backoffDelay(20, 100, 1000, () => 1);
    expect(low).toBe(50);
    expect(high).toBe(1000);
  });
});

describe('isRfc3339', () => {
  it('accepts offsets and refuses local times', () => {
    expect(isRfc3339('2026-11-21T10:00:00Z')).toBe(true);
    expect(isRfc3339('2026-11-21T10:00:00.123+02:00')).toBe(true);
    expect(isRfc3339('2026-11-21 10:00:00')).toBe(false);
    expect(isRfc3339('2026-13-45T10:00:00Z')).toBe(false);
  });
});

describe('nameUuid', () => {
  it('is stable, distinct per name and shaped like a v5 UUID', async () => {
    const { nameUuid } = await import('./uuid.util');
    expect(nameUuid('ns', 'a')).toBe(nameUuid('ns', 'a'));
    expect(nameUuid('ns', 'a')).not.toBe(nameUuid('ns', 'b'));
    expect(nameUuid('ns', 'a')).not.toBe(nameUuid('other', 'a'));
    expect(nameUuid('ns', 'a')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe(createPrng.name, () => {
  it('repeats its sequence for the same seed, numeric or string, and differs for another', () => {
    const draw = (seed: number | string) => Array.from({ length: 5 }, createPrng(seed).next);
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw('pool-a')).toEqual(draw('pool-a'));
    expect(draw('pool-a')).not.toEqual(draw('pool-b'));
    expect(draw('x')).toEqual(draw(seedFromString('x')));
  });

  it('keeps mulberry32 values (seeds saved in corpora and benches replay the same runs)', () => {
    const sut = createPrng(1);
    expect(sut.next()).toBeCloseTo(0.6270739405881613, 15);
    expect(sut.next()).toBeCloseTo(0.002735721180215478, 15);
  });

  it('draws ints in [min, max], picks from the list, and normals with mean 0 and sd 1', () => {
    const sut = createPrng(7);
    const ints = Array.from({ length: 1000 }, () => sut.int(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
    expect(['a', 'b']).toContain(sut.pick(['a', 'b']));
    const normals = Array.from({ length: 20_000 }, () => sut.normal());
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length;
    const sd = Math.sqrt(normals.reduce((s, x) => s + (x - mean) ** 2, 0) / normals.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
  });
});
