export * from './client';
export * from './seed';
