import { CreateFeeds1764547200000 } from './migrations/1764547200000-CreateFeeds';
import { cliDataSource } from '@nephele/persistence';

/** The feed poller's schema and migrations (one data source per app, STYLE.md). */
export const FEED_POLLER_SCHEMA = 'feed_poller';
export const feedPollerMigrations = [CreateFeeds1764547200000];
export const feedPollerEntities: never[] = [];

/** For the TypeORM CLI only (`npx typeorm -d dist/apps/feed-poller/data-source.js migration:show`). */
export const typeormCliDataSource = cliDataSource({
  schema: FEED_POLLER_SCHEMA,
  migrations: feedPollerMigrations,
  entities: feedPollerEntities,
});
