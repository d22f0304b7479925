import { ResourceSpec } from '../common/resource.types';

const S = 'config_api';

/** Providers are global and admin-managed: every project's accounts point at the same endpoints. */
export const PROVIDERS: ResourceSpec = {
  resource: 'providers',
  label: 'provider',
  table: 'providers',
  scope: 'global',
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'kind', col: 'kind', kind: 'text', filter: true, createOnly: true },
    { api: 'endpoint', col: 'endpoint', kind: 'text' },
    { api: 'region', col: 'region', kind: 'text', filter: true },
    { api: 'enabled', col: 'enabled', kind: 'bool', filter: true },
    { api: 'options', col: 'options', kind: 'json' },
  ],
  referrers: [
    {
      resource: 'provider-profiles',
      label: 'provider profile',
      sql: `SELECT id, name FROM ${S}.provider_profiles WHERE provider_id = $1`,
    },
    { resource: 'realms', label: 'realm', sql: `SELECT id, name FROM ${S}.realms WHERE provider_id = $1` },
    {
      resource: 'provider-accounts',
      label: 'provider account',
      sql: `SELECT id, name FROM ${S}.provider_accounts WHERE provider_id = $1`,
    },
    {
      resource: 'appliance-implementations',
      label: 'appliance implementation',
      sql: `SELECT id, template_version AS name FROM ${S}.appliance_implementations WHERE provider_id = $1`,
    },
  ],
  conflicts: { providers_name_key: 'a provider with that name already exists' },
};

const providerParent = { api: 'providerId', col: 'provider_id', table: 'providers', label: 'provider' };

/** A provider's flavours / instance types; they belong to (and are managed with) the provider. */
export const PROVIDER_PROFILES: ResourceSpec = {
  resource: 'provider-profiles',
  label: 'provider profile',
  table: 'provider_profiles',
  scope: 'global',
  parent: providerParent,
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'cpu', col: 'cpu', kind: 'int' },
    { api: 'memoryMb', col: 'memory_mb', kind: 'int' },
    { api: 'storageGb', col: 'storage_gb', kind: 'int' },
    { api: 'arch', col: 'arch', kind: 'text', filter: true },
    { api: 'costPerHour', col: 'cost_per_hour', kind: 'num' },
  ],
  conflicts: { provider_profiles_name_key: 'this provider already has a profile with that name' },
};

export const REALMS: ResourceSpec = {
  resource: 'realms',
  label: 'realm',
  table: 'realms',
  scope: 'global',
  parent: providerParent,
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'available', col: 'available', kind: 'bool', filter: true },
  ],
  conflicts: { realms_name_key: 'this provider already has a realm with that name' },
};
