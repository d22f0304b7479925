import { CreateEvents1763769600000 } from './migrations/1763769600000-CreateEvents';
import { EventProject1763900000000 } from './migrations/1763900000000-EventProject';

/** The event log's schema and migrations (one data source per app, STYLE.md). */
export const EVENT_LOG_SCHEMA = 'event_log';
export const eventLogMigrations = [CreateEvents1763769600000, EventProject1763900000000];
export const eventLogEntities: never[] = [];
