export * from './scaling.types';
export * from './policy-execution';
export * from './plan';
export * from './schedule';
export * from './alarm';
export * from './validation';
export * from './target-tracking';
export * from './termination';
