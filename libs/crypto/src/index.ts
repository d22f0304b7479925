export * from './envelope-crypto';
export * from './redact';
