export * from './bus.server';
export * from './bus.client';
export * from './bus-consumer.decorator';
export * from './queue-tuning';
export * from './connect';
export * from './bus-patterns.decorator';
export * from './token-revocations.consumer';
