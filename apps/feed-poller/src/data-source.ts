import { CreateFeeds1764547200000 } from './migrations/1764547200000-CreateFeeds';

/** The feed poller's schema and migrations (one data source per app, STYLE.md). */
export const FEED_POLLER_SCHEMA = 'feed_poller';
export const feedPollerMigrations = [CreateFeeds1764547200000];
export const feedPollerEntities: never[] = [];
