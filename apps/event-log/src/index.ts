export { EventLogModule } from './event-log.module';
export { loadEventLogConfig } from './config/env';
export type { EventLogConfig } from './config/env';
