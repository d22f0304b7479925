export * from './infra';
export * from './wait';
export * from './process';
export * from './sse';
export * from './start-slowly';
