import { CreateInstances1763780000000 } from './migrations/1763780000000-CreateInstances';

export const STATE_TRACKER_SCHEMA = 'state_tracker';
export const stateTrackerMigrations = [CreateInstances1763780000000];
