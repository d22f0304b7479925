import { ResourceSpec } from '../common/resource.types';

/** A pool is a virtual cloud: it launches through the accounts of its family, within its quota. */
export const POOLS: ResourceSpec = {
  resource: 'pools',
  label: 'pool',
  table: 'pools',
  scope: 'project',
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'description', col: 'description', kind: 'text' },
    { api: 'familyId', col: 'family_id', kind: 'uuid', filter: true },
    { api: 'enabled', col: 'enabled', kind: 'bool', filter: true },
    { api: 'quota', col: 'quota', kind: 'json' },
  ],
  refs: [{ api: 'familyId', table: 'pool_families', label: 'pool family', sameProject: true }],
  conflicts: { pools_name_key: 'a pool with that name already exists in this project' },
};
