export * from './hot.types';
export * from './hot-template';
export * from './hot-parameters';
export * from './hot-functions';
