import { CreateDeployables1763800000000 } from './migrations/1763800000000-CreateDeployables';
import { CreateClusters1763810000000 } from './migrations/1763810000000-CreateClusters';
import { AgentKeys1763820000000 } from './migrations/1763820000000-AgentKeys';
import { cliDataSource } from '@nephele/persistence';

export const CPE_SCHEMA = 'cpe';
export const cpeMigrations = [
  CreateDeployables1763800000000,
  CreateClusters1763810000000,
  AgentKeys1763820000000,
];

/** For the TypeORM CLI only (`npx typeorm -d dist/apps/cloud-policy-engine/data-source.js migration:show`). */
export const typeormCliDataSource = cliDataSource({ schema: CPE_SCHEMA, migrations: cpeMigrations });
