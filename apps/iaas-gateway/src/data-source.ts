import { CreateLaunchAttempts1763790000000 } from './migrations/1763790000000-CreateLaunchAttempts';
import { CreateOpenStack1765080000000 } from './migrations/1765080000000-CreateOpenStack';
import { cliDataSource } from '@nephele/persistence';

export const GATEWAY_SCHEMA = 'iaas_gateway';
export const gatewayMigrations = [CreateLaunchAttempts1763790000000, CreateOpenStack1765080000000];

/** For the TypeORM CLI only (`npx typeorm -d dist/apps/iaas-gateway/data-source.js migration:show`). */
export const typeormCliDataSource = cliDataSource({ schema: GATEWAY_SCHEMA, migrations: gatewayMigrations });
