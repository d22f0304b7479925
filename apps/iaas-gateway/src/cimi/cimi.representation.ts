import { BrokerConfigSnapshot, HardwareProfileConfig, ImageConfig, PoolConfig } from '@nephele/broker';
import { ACTION, CIMI, CimiResource, machineState } from './cimi.types';

// The CIMI representations of the gateway's objects (pure: the controller fetches, these shape).

/** An instance as the state tracker answers InstanceQuery. */
export interface InstanceView {
  id: string;
  name: string | null;
  state: string;
  addresses: string[];
  image: string | null;
  hardwareProfile: string | null;
  pool: string | null;
  createdAt: string;
  updatedAt: string;
  providerAccountId: string;
}

export function machineConfig(
  base: string,
  h: HardwareProfileConfig,
): CimiResource & Record<string, unknown> {
  const fixed = (a: unknown) =>
    typeof a === 'number' ? a : ((a as { min?: number } | null)?.min ?? undefined);
  return {
    resourceURI: `${CIMI}/MachineConfiguration`,
    id: `${base}/machineConfigs/${h.id}`,
    name: h.name,
    created: h.createdAt,
    updated: h.updatedAt,
    cpu: fixed(h.cpu),
    memory: fixed(h.memoryMb) !== undefined ? fixed(h.memoryMb)! * 1024 : undefined, // CIMI memory is in KiB
    disks: fixed(h.storageGb) !== undefined ? [{ capacity: fixed(h.storageGb)! * 1024 * 1024 }] : [],
    cpuArch: h.arch ?? undefined,
  };
}

export function machineImage(base: string, i: ImageConfig): CimiResource & Record<string, unknown> {
  return {
    resourceURI: `${CIMI}/MachineImage`,
    id: `${base}/machineImages/${i.id}`,
    name: i.name,
    description: i.description ?? undefined,
    created: i.createdAt,
    updated: i.updatedAt,
    state: 'AVAILABLE',
    type: 'IMAGE',
    properties: { os: i.os ?? '', arch: i.arch ?? '' },
  };
}

export function machine(base: string, m: InstanceView): CimiResource & Record<string, unknown> {
  const href = `${base}/machines/${m.id}`;
  const state = machineState(m.state);
  const ops = [{ rel: 'delete', href }];
  if (state === 'STOPPED') ops.push({ rel: ACTION('start'), href: `${href}/start` });
  if (state === 'STARTED')
    ops.push(
      { rel: ACTION('stop'), href: `${href}/stop` },
      { rel: ACTION('restart'), href: `${href}/restart` },
    );
  return {
    resourceURI: `${CIMI}/Machine`,
    id: href,
    name: m.name ?? m.id,
    created: m.createdAt,
    updated: m.updatedAt,
    state,
    machineImage: m.image ? { href: `${base}/machineImages/${m.image}` } : undefined,
    machineConfig: m.hardwareProfile ? { href: `${base}/machineConfigs/${m.hardwareProfile}` } : undefined,
    networkInterfaces: m.addresses.map((a) => ({ addresses: [{ ip: a }] })),
    properties: { providerAccountId: m.providerAccountId },
    operations: ops,
  };
}

export function templates(base: string, pool: PoolConfig, snapshot: BrokerConfigSnapshot) {
  const images = snapshot.images.filter((i) => i.project === pool.project);
  const configs = snapshot.hardwareProfiles.filter((h) => h.project === pool.project);
  return images.flatMap((i) =>
    configs.map((h) => ({
      resourceURI: `${CIMI}/MachineTemplate`,
      id: `${base}/machineTemplates/${i.id}.${h.id}`,
      name: `${i.name}-${h.name}`,
      machineConfig: { href: `${base}/machineConfigs/${h.id}` },
      machineImage: { href: `${base}/machineImages/${i.id}` },
    })),
  );
}

/** A CIMI collection resource (`<type>` e.g. `MachineCollection`) holding `items` under `property`. */
export function cimiCollection(
  type: string,
  id: string,
  property: string,
  items: unknown[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { resourceURI: `${CIMI}/${type}`, id, count: items.length, [property]: items, ...extra };
}
