export * from './hardware-match';
export * from './quota';
export * from './broker-config.types';
export * from './selection';
