import { ResourceSpec } from '../common/resource.types';

const S = 'config_api';

export const POOL_FAMILIES: ResourceSpec = {
  resource: 'pool-families',
  label: 'pool family',
  table: 'pool_families',
  scope: 'project',
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'description', col: 'description', kind: 'text' },
    { api: 'quota', col: 'quota', kind: 'json' },
  ],
  computed: [
    {
      api: 'accountIds',
      sql: `ARRAY(SELECT a.account_id::text FROM ${S}.pool_family_accounts a WHERE a.family_id = t.id ORDER BY a.account_id)`,
    },
  ],
  referrers: [{ resource: 'pools', label: 'pool', table: 'pools', column: 'family_id' }],
  conflicts: { pool_families_name_key: 'a pool family with that name already exists in this project' },
};
