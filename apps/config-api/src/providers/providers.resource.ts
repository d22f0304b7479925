import { ResourceSpec } from '../common/resource.types';

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
      table: 'provider_profiles',
      column: 'provider_id',
    },
    { resource: 'realms', label: 'realm', table: 'realms', column: 'provider_id' },
    {
      resource: 'provider-accounts',
      label: 'provider account',
      table: 'provider_accounts',
      column: 'provider_id',
    },
    {
      resource: 'appliance-implementations',
      label: 'appliance implementation',
      table: 'appliance_implementations',
      column: 'provider_id',
      name: 'template_version',
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
