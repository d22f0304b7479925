import { NepheleClient } from './client';

export interface LocalBrokerOptions {
  /** Project name (created if missing). */
  project?: string;
  /** The command a `local` instance runs: the agent by default. */
  images?: Record<string, { command: string[]; env?: Record<string, string> }>;
  /** Broker image names mapped to the local image ids (default: every image id maps to itself). */
  imageNames?: Record<string, string>;
  hardwareProfiles?: string[];
  pool?: string;
  providerName?: string;
  /** More options of the `local` provider (e.g. `addressPerInstance`), set when it is created. */
  providerOptions?: Record<string, unknown>;
}

export interface LocalBroker {
  projectId: string;
  providerId: string;
  accountId: string;
  familyId: string;
  poolId: string;
  poolName: string;
  images: Record<string, string>;
  hardwareProfiles: Record<string, string>;
}

interface Item {
  id: string;
  name: string;
}

async function findOrCreate(
  c: NepheleClient,
  list: string,
  name: string,
  create: () => Promise<Item>,
): Promise<Item> {
  const found = (await c.all<Item>(list)).find((x) => x.name === name);
  return found ?? create();
}

/** The `local` provider by name, created or brought to this version's image definitions. */
async function localProvider(
  c: NepheleClient,
  name: string,
  images: unknown,
  more: Record<string, unknown> = {},
): Promise<Item> {
  const provider = await findOrCreate(c, '/v1/providers', name, () =>
    c.post<Item>('/v1/providers', { name, kind: 'local', options: { ...more, images } }),
  );
  // An existing provider gets the image definitions of this version (paths may have moved).
  const current = await c.get<Item & { options?: Record<string, unknown>; version: number }>(
    `/v1/providers/${provider.id}`,
  );
  if (JSON.stringify(current.options?.images) !== JSON.stringify(images)) {
    await c.patch(
      `/v1/providers/${provider.id}`,
      { options: { ...current.options, images } },
      { 'if-match': `W/"${current.version}"` },
    );
  }
  return provider;
}

/**
 * A complete broker configuration on the `local` driver through the REST API: project, provider with
 * image definitions, a provider profile, account, pool family, pool, hardware profiles, images and
 * image mappings. Idempotent by name (safe to run at every start).
 */
export async function seedLocalBroker(c: NepheleClient, o: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const projectName = o.project ?? 'default';
  const project = await findOrCreate(c, '/v1/projects', projectName, () =>
    c.post<Item>('/v1/projects', { name: projectName }),
  );
  const q = `project=${project.id}`;
  const images = o.images ?? { agent: { command: ['sleep', 'infinity'] } };
  const providerName = o.providerName ?? `local-${projectName}`;
  const provider = await localProvider(c, providerName, images, o.providerOptions);
  await findOrCreate(c, `/v1/providers/${provider.id}/profiles`, 'local', () =>
    c.post<Item>(`/v1/providers/${provider.id}/profiles`, {
      name: 'local',
      cpu: 2,
      memoryMb: 2048,
      storageGb: 10,
      arch: 'x86_64',
      costPerHour: 0,
    }),
  );
  const account = await findOrCreate(c, `/v1/provider-accounts?${q}`, 'local', () =>
    c.post<Item>('/v1/provider-accounts', { project: project.id, providerId: provider.id, name: 'local' }),
  );
  const family = await findOrCreate(c, `/v1/pool-families?${q}`, 'local', () =>
    c.post<Item>('/v1/pool-families', { project: project.id, name: 'local', accountIds: [account.id] }),
  );
  const poolName = o.pool ?? 'default';
  const pool = await findOrCreate(c, `/v1/pools?${q}`, poolName, () =>
    c.post<Item>('/v1/pools', { project: project.id, name: poolName, familyId: family.id }),
  );
  const hardwareProfiles: Record<string, string> = {};
  for (const name of o.hardwareProfiles ?? ['small']) {
    const h = await findOrCreate(c, `/v1/hardware-profiles?${q}`, name, () =>
      c.post<Item>('/v1/hardware-profiles', {
        project: project.id,
        name,
        cpu: { max: 2 },
        memoryMb: { max: 2048 },
      }),
    );
    hardwareProfiles[name] = h.id;
  }
  const imageIds: Record<string, string> = {};
  const names = o.imageNames ?? Object.fromEntries(Object.keys(images).map((k) => [k, k]));
  const mappings = await c.all<{ imageId: string; accountId: string }>(`/v1/image-mappings?${q}`);
  for (const [name, localId] of Object.entries(names)) {
    const img = await findOrCreate(c, `/v1/images?${q}`, name, () =>
      c.post<Item>('/v1/images', { project: project.id, name, os: 'linux', arch: 'x86_64' }),
    );
    imageIds[name] = img.id;
    if (!mappings.some((m) => m.imageId === img.id && m.accountId === account.id)) {
      await c.post('/v1/image-mappings', {
        project: project.id,
        imageId: img.id,
        accountId: account.id,
        providerImageId: localId,
      });
    }
  }
  return {
    projectId: project.id,
    providerId: provider.id,
    accountId: account.id,
    familyId: family.id,
    poolId: pool.id,
    poolName,
    images: imageIds,
    hardwareProfiles,
  };
}
