import { CreateConfigApi1764300000000 } from './migrations/1764300000000-CreateConfigApi';
import { cliDataSource } from '@nephele/persistence';

/** The config-api's schema and migrations (one data source per app, STYLE.md). */
export const CONFIG_API_SCHEMA = 'config_api';
export const configApiMigrations = [CreateConfigApi1764300000000];
export const configApiEntities: never[] = [];

/** For the TypeORM CLI only (`npx typeorm -d dist/apps/config-api/data-source.js migration:show`). */
export const typeormCliDataSource = cliDataSource({
  schema: CONFIG_API_SCHEMA,
  migrations: configApiMigrations,
  entities: configApiEntities,
});
