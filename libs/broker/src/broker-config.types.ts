import { Amount } from './hardware-match';
import { Quota } from './quota';

// The broker configuration as the config-api serves it: the REST representations and the reply of
// the `nephele.config.export` bus request are these shapes. Ids are UUIDs, times RFC 3339.

interface Stamped {
  id: string;
  /** Bumped on every change; the REST ETag is W/"<version>". */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A cloud endpoint of a driver kind (global, admin-managed). */
export interface ProviderConfig extends Stamped {
  name: string;
  /** Driver kind: `local`, `simulated`, `openstack`, `ec2`, … */
  kind: string;
  endpoint: string | null;
  region: string | null;
  enabled: boolean;
  /** Driver options that are not secrets (secrets belong to provider accounts). */
  options: Record<string, unknown>;
}

/** A flavour/instance type a provider offers. */
export interface ProviderProfileConfig extends Stamped {
  providerId: string;
  name: string;
  cpu: number;
  memoryMb: number;
  storageGb: number;
  arch: string;
  costPerHour: number | null;
}

/** An availability zone / realm of a provider. */
export interface RealmConfig extends Stamped {
  providerId: string;
  name: string;
  available: boolean;
}

/** Credentials for one provider in one project. The credentials themselves are never included. */
export interface ProviderAccountConfig extends Stamped {
  project: string;
  providerId: string;
  name: string;
  enabled: boolean;
  /** Strict priority group: lower values are tried first. */
  priority: number;
  /** Relative share within a priority group (weighted random pick). */
  weight: number;
  quota: Quota;
  hasCredentials: boolean;
}

/** The provider accounts a family's pools may use, and the family's quota. */
export interface PoolFamilyConfig extends Stamped {
  project: string;
  name: string;
  description: string | null;
  accountIds: string[];
  quota: Quota;
}

/** A virtual cloud. */
export interface PoolConfig extends Stamped {
  project: string;
  name: string;
  description: string | null;
  familyId: string;
  enabled: boolean;
  quota: Quota;
}

export interface HardwareProfileConfig extends Stamped {
  project: string;
  name: string;
  cpu: Amount | null;
  memoryMb: Amount | null;
  storageGb: Amount | null;
  arch: string | null;
}

/** A broker image (provider-independent); image mappings say what it is on each account. */
export interface ImageConfig extends Stamped {
  project: string;
  name: string;
  os: string | null;
  arch: string | null;
  description: string | null;
}

export interface ImageMappingConfig extends Stamped {
  project: string;
  imageId: string;
  accountId: string;
  providerImageId: string;
}

/** Reply of `nephele.config.export`: everything provider selection needs, without secrets. */
export interface BrokerConfigSnapshot {
  generatedAt: string;
  providers: ProviderConfig[];
  providerProfiles: ProviderProfileConfig[];
  realms: RealmConfig[];
  providerAccounts: ProviderAccountConfig[];
  poolFamilies: PoolFamilyConfig[];
  pools: PoolConfig[];
  hardwareProfiles: HardwareProfileConfig[];
  images: ImageConfig[];
  imageMappings: ImageMappingConfig[];
}
