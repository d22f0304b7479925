import { ResourceSpec } from '../common/resource.types';

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
      table: 'pool_families',
      column: 'account_id',
      via: { table: 'pool_family_accounts', key: 'family_id' },
    },
    {
      resource: 'image-mappings',
      label: 'image mapping',
      table: 'image_mappings',
      column: 'account_id',
      name: 'provider_image_id',
    },
  ],
  conflicts: {
    provider_accounts_name_key: 'a provider account with that name already exists in this project',
  },
};
