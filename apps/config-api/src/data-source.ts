import { CreateConfigApi1764300000000 } from './migrations/1764300000000-CreateConfigApi';

/** The config-api's schema and migrations (one data source per app, STYLE.md). */
export const CONFIG_API_SCHEMA = 'config_api';
export const configApiMigrations = [CreateConfigApi1764300000000];
export const configApiEntities: never[] = [];
