import { CreateEvents1763769600000 } from './migrations/1763769600000-CreateEvents';
import { EventProject1763900000000 } from './migrations/1763900000000-EventProject';
import { EventIdentity1765000000000 } from './migrations/1765000000000-EventIdentity';
import { EventKeysByteOrder1765400000000 } from './migrations/1765400000000-EventKeysByteOrder';
import { cliDataSource } from '@nephele/persistence';

/** The event log's schema and migrations (one data source per app, STYLE.md). */
export const EVENT_LOG_SCHEMA = 'event_log';
export const eventLogMigrations = [
  CreateEvents1763769600000,
  EventProject1763900000000,
  EventIdentity1765000000000,
  EventKeysByteOrder1765400000000,
];
export const eventLogEntities: never[] = [];

/** For the TypeORM CLI only (`npx typeorm -d dist/apps/event-log/data-source.js migration:show`). */
export const typeormCliDataSource = cliDataSource({
  schema: EVENT_LOG_SCHEMA,
  migrations: eventLogMigrations,
  entities: eventLogEntities,
});
