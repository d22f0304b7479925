import { CreateInstances1763780000000 } from './migrations/1763780000000-CreateInstances';
import { AccountPolls1796650000000 } from './migrations/1796650000000-AccountPolls';
import { cliDataSource } from '@nephele/persistence';

export const STATE_TRACKER_SCHEMA = 'state_tracker';
export const stateTrackerMigrations = [CreateInstances1763780000000, AccountPolls1796650000000];

/** For the TypeORM CLI only (`npx typeorm -d dist/apps/state-tracker/data-source.js migration:show`). */
export const typeormCliDataSource = cliDataSource({
  schema: STATE_TRACKER_SCHEMA,
  migrations: stateTrackerMigrations,
});
