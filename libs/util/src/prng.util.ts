// Note [Seeded randomness]
// The one seeded pseudo-random generator of the workspace (mulberry32): the same seed gives the same
// sequence on every run and platform, so planners, generators and simulations that need randomness
// stay reproducible (a failing case is replayed from its seed). Not for secrets: use node:crypto.

/** A seeded pseudo-random generator: same seed, same sequence. */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p (draws one number whatever p is). */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T;
  /** Standard normal (Box–Muller, two draws). */
  normal(): number;
}

/** A 32-bit seed from a string (a multiplicative hash): equal strings, equal seeds. */
export function seedFromString(seed: string): number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  return h >>> 0;
}

/** The generator for a numeric seed, or a string one (hashed by seedFromString). */
export function createPrng(seed: number | string): Prng {
  let a = (typeof seed === 'string' ? seedFromString(seed) : seed) >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)]!,
    normal: () => {
      const u1 = 1 - next(); // (0, 1]: log(0) would be -Infinity
      const u2 = next();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
  };
}
