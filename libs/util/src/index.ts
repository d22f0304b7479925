export * from './backoff.util';
export * from './time.util';
export * from './topic.util';
export * from './uuid.util';
export * from './loop.util';
export * from './yaml.util';
export * from './prng.util';
