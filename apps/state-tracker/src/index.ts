export { StateTrackerModule } from './state-tracker.module';
export { loadStateTrackerConfig } from './config/env';
export type { StateTrackerConfig } from './config/env';
