import { ResourceSpec } from '../common/resource.types';

const S = 'config_api';
const owned = (table: string, resource: string, label: string) => ({
  resource,
  label,
  sql: `SELECT id, name FROM ${S}.${table} WHERE project_id = $1`,
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
      sql: `SELECT id, name FROM ${S}.tokens WHERE project_id = $1 AND revoked_at IS NULL`,
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
