import { ResourceSpec } from '../common/resource.types';

/** What users ask for (cpu, memory, storage: fixed or ranges; arch). Project-owned, like images. */
export const HARDWARE_PROFILES: ResourceSpec = {
  resource: 'hardware-profiles',
  label: 'hardware profile',
  table: 'hardware_profiles',
  scope: 'project',
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'cpu', col: 'cpu', kind: 'json' },
    { api: 'memoryMb', col: 'memory_mb', kind: 'json' },
    { api: 'storageGb', col: 'storage_gb', kind: 'json' },
    { api: 'arch', col: 'arch', kind: 'text', filter: true },
  ],
  conflicts: {
    hardware_profiles_name_key: 'a hardware profile with that name already exists in this project',
  },
};
