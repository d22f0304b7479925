import { ResourceSpec } from '../common/resource.types';

const S = 'config_api';

/**
 * A provider account is one project's credentials and quota at one provider. The sealed
 * credentials column is never selected by the generic store: only `hasCredentials` is.
 */
export const PROVIDER_ACCOUNTS: ResourceSpec = {
  resource: 'provider-accounts',
  label: 'provider account',
  table: 'provider_accounts',
  scope: 'project',
  columns: [
    { api: 'providerId', col: 'provider_id', kind: 'uuid', filter: true, createOnly: true },
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'enabled', col: 'enabled', kind: 'bool', filter: true },
    { api: 'priority', col: 'priority', kind: 'int' },
    { api: 'weight', col: 'weight', kind: 'int' },
    { api: 'quota', col: 'quota', kind: 'json' },
  ],
  computed: [{ api: 'hasCredentials', sql: 't.credentials IS NOT NULL' }],
  refs: [{ api: 'providerId', table: 'providers', label: 'provider', sameProject: false }],
  referrers: [
    {
      resource: 'pool-families',
      label: 'pool family',
      sql: `SELECT f.id, f.name FROM ${S}.pool_family_accounts a JOIN ${S}.pool_families f ON f.id = a.family_id WHERE a.account_id = $1`,
    },
    {
      resource: 'image-mappings',
      label: 'image mapping',
      sql: `SELECT id, provider_image_id AS name FROM ${S}.image_mappings WHERE account_id = $1`,
    },
  ],
  conflicts: {
    provider_accounts_name_key: 'a provider account with that name already exists in this project',
  },
};
