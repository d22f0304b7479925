// The seeded generator lives in @nephele/util (Note [Seeded randomness]); re-exported for the
// policy's generators and their callers.
export { createPrng, type Prng } from '@nephele/util';
