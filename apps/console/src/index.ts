export { ConsoleModule } from './console.module';
export { loadConsoleConfig } from './config/env';
export type { ConsoleConfig } from './config/env';
export type { ConsoleOptions } from './console/console.options';
