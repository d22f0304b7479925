import { Column, formatAmount } from '../output/table.util';

/** An API object as the config-api returns it. */
export type ApiObject = Record<string, unknown> & { id: string };

/** A resource another flag names by name or id (`--family web` → familyId). */
export interface RefTarget {
  path: string;
  label: string;
  global?: boolean;
}

export const REFS = {
  provider: { path: '/v1/providers', label: 'provider', global: true },
  account: { path: '/v1/provider-accounts', label: 'provider account' },
  family: { path: '/v1/pool-families', label: 'pool family' },
  image: { path: '/v1/images', label: 'image' },
  project: { path: '/v1/projects', label: 'project', global: true },
  pool: { path: '/v1/pools', label: 'pool' },
} satisfies Record<string, RefTarget>;

/**
 * A `create` flag and the body field it sets. Kinds: text; int (negative allowed); count (>= 0);
 * number; amount (`2`, `2..4`); json (an object); ref (a name or id → the id); refs (repeatable);
 * off (a switch that sets the field to false, e.g. `--disabled` → enabled: false).
 */
export interface FlagDef {
  flags: string;
  description: string;
  /** The body field, dotted for nested ones (`quota.maxInstances`). */
  field: string;
  kind: 'text' | 'int' | 'count' | 'number' | 'amount' | 'json' | 'ref' | 'refs' | 'off';
  ref?: RefTarget;
  /** Must be in the body (from the flag or the file) before the request is sent. */
  required?: boolean;
}

export interface ResourceDef {
  /** The CLI noun (`pool`). */
  command: string;
  /** Human name (`pool family`). */
  label: string;
  path: string;
  /** Created in a project (the `--project` setting, or the only/default one). */
  projectOwned: boolean;
  /** Lists filter by `?name=`, so get/delete accept a name as well as an id. */
  byName: boolean;
  columns: Column<ApiObject>[];
  flags: FlagDef[];
}

const id: Column<ApiObject> = { header: 'id', value: (r) => r.id, max: 36 };
const name: Column<ApiObject> = { header: 'name', value: (r) => r.name };
const quotaFlags: FlagDef[] = [
  {
    flags: '--max-instances <n>',
    description: 'quota: instances',
    field: 'quota.maxInstances',
    kind: 'count',
  },
  { flags: '--max-cores <n>', description: 'quota: vCPUs', field: 'quota.maxCores', kind: 'count' },
  {
    flags: '--max-memory-mb <n>',
    description: 'quota: memory in MB',
    field: 'quota.maxMemoryMb',
    kind: 'count',
  },
];
const nameFlag: FlagDef = {
  flags: '--name <name>',
  description: 'name',
  field: 'name',
  kind: 'text',
  required: true,
};
const descriptionFlag: FlagDef = {
  flags: '--description <text>',
  description: 'description',
  field: 'description',
  kind: 'text',
};

/** The config-api resources, one CLI noun each (`nephele pool list`). */
export const RESOURCES: ResourceDef[] = [
  {
    command: 'provider',
    label: 'provider',
    path: '/v1/providers',
    projectOwned: false,
    byName: true,
    columns: [
      id,
      name,
      { header: 'kind', value: (r) => r.kind },
      { header: 'region', value: (r) => r.region },
      { header: 'enabled', value: (r) => r.enabled },
      { header: 'endpoint', value: (r) => r.endpoint },
    ],
    flags: [
      nameFlag,
      {
        flags: '--kind <kind>',
        description: 'driver kind (local, simulated, openstack, ec2, …)',
        field: 'kind',
        kind: 'text',
        required: true,
      },
      { flags: '--endpoint <url>', description: 'API endpoint', field: 'endpoint', kind: 'text' },
      { flags: '--region <region>', description: 'region', field: 'region', kind: 'text' },
      {
        flags: '--options <json>',
        description: 'driver options as a JSON object',
        field: 'options',
        kind: 'json',
      },
      { flags: '--disabled', description: 'create it disabled', field: 'enabled', kind: 'off' },
    ],
  },
  {
    command: 'account',
    label: 'provider account',
    path: '/v1/provider-accounts',
    projectOwned: true,
    byName: true,
    columns: [
      id,
      name,
      { header: 'provider', value: (r) => r.providerId, max: 36 },
      { header: 'enabled', value: (r) => r.enabled },
      { header: 'priority', value: (r) => r.priority },
      { header: 'weight', value: (r) => r.weight },
      { header: 'credentials', value: (r) => (r.hasCredentials ? 'set' : 'none') },
    ],
    flags: [
      nameFlag,
      {
        flags: '--provider <name|id>',
        description: 'the provider',
        field: 'providerId',
        kind: 'ref',
        ref: REFS.provider,
        required: true,
      },
      {
        flags: '--credentials <json>',
        description: 'credentials as a JSON object (stored encrypted, never shown again)',
        field: 'credentials',
        kind: 'json',
      },
      {
        flags: '--priority <n>',
        description: 'strict priority group (lower first)',
        field: 'priority',
        kind: 'int',
      },
      {
        flags: '--weight <n>',
        description: 'share within its priority group',
        field: 'weight',
        kind: 'count',
      },
      { flags: '--disabled', description: 'create it disabled', field: 'enabled', kind: 'off' },
      ...quotaFlags,
    ],
  },
  {
    command: 'pool',
    label: 'pool',
    path: '/v1/pools',
    projectOwned: true,
    byName: true,
    columns: [
      id,
      name,
      { header: 'family', value: (r) => r.familyId, max: 36 },
      { header: 'enabled', value: (r) => r.enabled },
      { header: 'project', value: (r) => r.project, max: 36 },
      { header: 'quota', value: (r) => r.quota },
    ],
    flags: [
      nameFlag,
      {
        flags: '--family <name|id>',
        description: 'the pool family',
        field: 'familyId',
        kind: 'ref',
        ref: REFS.family,
        required: true,
      },
      descriptionFlag,
      { flags: '--disabled', description: 'create it disabled', field: 'enabled', kind: 'off' },
      ...quotaFlags,
    ],
  },
  {
    command: 'family',
    label: 'pool family',
    path: '/v1/pool-families',
    projectOwned: true,
    byName: true,
    columns: [
      id,
      name,
      { header: 'accounts', value: (r) => (Array.isArray(r.accountIds) ? r.accountIds.length : 0) },
      { header: 'project', value: (r) => r.project, max: 36 },
      { header: 'quota', value: (r) => r.quota },
    ],
    flags: [
      nameFlag,
      {
        flags: '--account <name|id>',
        description: 'a provider account its pools may use (repeat the flag for several)',
        field: 'accountIds',
        kind: 'refs',
        ref: REFS.account,
      },
      descriptionFlag,
      ...quotaFlags,
    ],
  },
  {
    command: 'image',
    label: 'image',
    path: '/v1/images',
    projectOwned: true,
    byName: true,
    columns: [
      id,
      name,
      { header: 'os', value: (r) => r.os },
      { header: 'arch', value: (r) => r.arch },
      { header: 'project', value: (r) => r.project, max: 36 },
    ],
    flags: [
      nameFlag,
      { flags: '--os <os>', description: 'operating system (linux, …)', field: 'os', kind: 'text' },
      { flags: '--arch <arch>', description: 'x86_64, aarch64, …', field: 'arch', kind: 'text' },
      descriptionFlag,
    ],
  },
  {
    command: 'mapping',
    label: 'image mapping',
    path: '/v1/image-mappings',
    projectOwned: true,
    byName: false,
    columns: [
      id,
      { header: 'image', value: (r) => r.imageId, max: 36 },
      { header: 'account', value: (r) => r.accountId, max: 36 },
      { header: 'provider image', value: (r) => r.providerImageId },
    ],
    flags: [
      {
        flags: '--image <name|id>',
        description: 'the image',
        field: 'imageId',
        kind: 'ref',
        ref: REFS.image,
        required: true,
      },
      {
        flags: '--account <name|id>',
        description: 'the provider account',
        field: 'accountId',
        kind: 'ref',
        ref: REFS.account,
        required: true,
      },
      {
        flags: '--provider-image <id>',
        description: "the provider's image id (ami-…, a Glance id, …)",
        field: 'providerImageId',
        kind: 'text',
        required: true,
      },
    ],
  },
  {
    command: 'profile',
    label: 'hardware profile',
    path: '/v1/hardware-profiles',
    projectOwned: true,
    byName: true,
    columns: [
      id,
      name,
      { header: 'cpu', value: (r) => formatAmount(r.cpu) },
      { header: 'memory mb', value: (r) => formatAmount(r.memoryMb) },
      { header: 'storage gb', value: (r) => formatAmount(r.storageGb) },
      { header: 'arch', value: (r) => r.arch },
    ],
    flags: [
      nameFlag,
      {
        flags: '--cpu <amount>',
        description: 'vCPUs: N, MIN..MAX, MIN.. or ..MAX',
        field: 'cpu',
        kind: 'amount',
      },
      {
        flags: '--memory-mb <amount>',
        description: 'memory in MB (same forms)',
        field: 'memoryMb',
        kind: 'amount',
      },
      {
        flags: '--storage-gb <amount>',
        description: 'root disk in GB (same forms)',
        field: 'storageGb',
        kind: 'amount',
      },
      { flags: '--arch <arch>', description: 'x86_64, aarch64, …', field: 'arch', kind: 'text' },
    ],
  },
  {
    command: 'appliance',
    label: 'appliance',
    path: '/v1/appliances',
    projectOwned: true,
    byName: true,
    columns: [
      id,
      name,
      { header: 'description', value: (r) => r.description },
      { header: 'project', value: (r) => r.project, max: 36 },
    ],
    flags: [nameFlag, descriptionFlag],
  },
  {
    command: 'project',
    label: 'project',
    path: '/v1/projects',
    projectOwned: false,
    byName: true,
    columns: [id, name, { header: 'description', value: (r) => r.description }],
    flags: [nameFlag, descriptionFlag],
  },
  {
    command: 'token',
    label: 'token',
    path: '/v1/tokens',
    projectOwned: false,
    byName: true,
    columns: [
      id,
      name,
      { header: 'role', value: (r) => r.role },
      { header: 'project', value: (r) => r.project, max: 36 },
      { header: 'created', value: (r) => r.createdAt },
    ],
    flags: [
      nameFlag,
      {
        flags: '--role <role>',
        description: 'admin, member or viewer (member and viewer tokens belong to --project)',
        field: 'role',
        kind: 'text',
        required: true,
      },
    ],
  },
];

/** The provider profiles (flavours) under `/v1/providers/{id}/profiles`. */
export const PROVIDER_PROFILE_COLUMNS: Column<ApiObject>[] = [
  id,
  name,
  { header: 'cpu', value: (r) => r.cpu },
  { header: 'memory mb', value: (r) => r.memoryMb },
  { header: 'storage gb', value: (r) => r.storageGb },
  { header: 'arch', value: (r) => r.arch },
  { header: 'cost/h', value: (r) => r.costPerHour },
];

export const PROVIDER_PROFILE_FLAGS: FlagDef[] = [
  nameFlag,
  { flags: '--cpu <n>', description: 'vCPUs', field: 'cpu', kind: 'count', required: true },
  { flags: '--memory-mb <n>', description: 'memory in MB', field: 'memoryMb', kind: 'count', required: true },
  {
    flags: '--storage-gb <n>',
    description: 'root disk in GB',
    field: 'storageGb',
    kind: 'count',
    required: true,
  },
  { flags: '--arch <arch>', description: 'x86_64, aarch64, …', field: 'arch', kind: 'text', required: true },
  { flags: '--cost <n>', description: 'cost per hour', field: 'costPerHour', kind: 'number' },
];
