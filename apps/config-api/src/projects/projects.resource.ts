import { ResourceSpec } from '../common/resource.types';

const owned = (table: string, resource: string, label: string) => ({
  resource,
  label,
  table,
  column: 'project_id',
});

/** Projects: tenancy. Admins manage them; a scoped token sees its own project only. */
export const PROJECTS: ResourceSpec = {
  resource: 'projects',
  label: 'project',
  table: 'projects',
  scope: 'self',
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'description', col: 'description', kind: 'text' },
  ],
  referrers: [
    {
      resource: 'tokens',
      label: 'token',
      table: 'tokens',
      column: 'project_id',
      unlessSet: 'revoked_at',
    },
    owned('provider_accounts', 'provider-accounts', 'provider account'),
    owned('pool_families', 'pool-families', 'pool family'),
    owned('pools', 'pools', 'pool'),
    owned('hardware_profiles', 'hardware-profiles', 'hardware profile'),
    owned('images', 'images', 'image'),
    owned('appliances', 'appliances', 'appliance'),
  ],
  conflicts: { projects_name_key: 'a project with that name already exists' },
};
