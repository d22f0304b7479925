import { randomBytes, randomUUID } from 'node:crypto';
import { NepheleClient } from '@nephele/client';
import { waitFor } from '@nephele/testing';
import { World } from './world';

/** A token as POST /v1/tokens returned it. */
export interface SeededToken {
  id: string;
  token: string;
}

/** The ids of one project's objects, by the collection name that precedes them in a path. */
export type ObjectIds = Record<string, string>;

export interface Seeded {
  admin: string;
  projectA: string;
  projectB: string;
  memberA: SeededToken;
  viewerA: SeededToken;
  memberB: SeededToken;
  viewerB: SeededToken;
  /** Global objects (providers and their profiles and realms): any token may read them. */
  global: ObjectIds;
  /** Project A's objects: one of each project-owned kind. */
  a: ObjectIds;
  /** Secrets planted in project A's objects (the secrets test looks for them everywhere). */
  planted: {
    accountPassword: string;
    webhookSecret: string;
    feedPassword: string;
    clusterPassword: string;
    /** The capability URL's secret (64 hex), returned by the one creation response. */
    capability: string;
  };
  /** Bodies that are valid for the seeded objects, by route template (`PUT /v1/groups/{id}/config`). */
  validBodies: Record<string, unknown>;
  /** The local provider's image that instances run (a `sleep` marked with this run's number). */
  sleepMarker: string;
}

const uuidOf = (location: string | null): string => String(location).split('/').pop()!;

/** Every response body the seeding received, for the secrets test. */
export type Recorder = (what: string, status: number, body: unknown) => void;

/**
 * Two projects with member and viewer tokens, global broker objects, and one object of each
 * project-owned kind in project A, made through the REST APIs like a user would.
 */
export interface SeedOptions {
  /** The feed's Atom URL (default: a closed port). */
  feedUrl?: string;
  /** The group's server-ready webhook (default: an example URL never reached). */
  webhookUrl?: string;
  /** The group keeps one real server in project A's pool (default: none, in a pool nobody has). */
  liveGroup?: boolean;
  record?: Recorder;
}

export async function seed(w: World, opts: SeedOptions = {}): Promise<Seeded> {
  const admin = w.secrets.bootstrapToken;
  const record: Recorder = opts.record ?? (() => undefined);
  const at = (svc: keyof World['procs'], token = admin) =>
    new NepheleClient({ url: w.procs[svc].url, token });
  const call = async <T>(
    svc: keyof World['procs'],
    method: string,
    path: string,
    body?: unknown,
    token = admin,
    headers: Record<string, string> = {},
  ) => {
    const r = await at(svc, token).request<T>(method, path, body, headers);
    record(`${method} ${path}`, r.status, r.body);
    return r;
  };
  const post = async <T = { id: string }>(
    svc: keyof World['procs'],
    path: string,
    body: unknown,
    token = admin,
  ) => (await call<T>(svc, 'POST', path, body, token)).body;

  const run = 100_000 + Math.floor(Math.random() * 800_000);
  const sleepMarker = `${run}.5`;
  const projectA = (await post('config-api', '/v1/projects', { name: `sec-a-${run}` })).id;
  const projectB = (await post('config-api', '/v1/projects', { name: `sec-b-${run}` })).id;
  const token = async (project: string, role: 'member' | 'viewer') => {
    const t = await post<SeededToken>('config-api', '/v1/tokens', { project, role, name: `${role}-${run}` });
    return { id: t.id, token: t.token };
  };
  const [memberA, viewerA, memberB, viewerB] = [
    await token(projectA, 'member'),
    await token(projectA, 'viewer'),
    await token(projectB, 'member'),
    await token(projectB, 'viewer'),
  ];

  const planted = {
    accountPassword: `acct-pw-${randomBytes(12).toString('hex')}`,
    webhookSecret: `hook-secret-${randomBytes(12).toString('hex')}`,
    feedPassword: `feed-pw-${randomBytes(12).toString('hex')}`,
    clusterPassword: `cluster-pw-${randomBytes(12).toString('hex')}`,
    capability: '',
  };

  // Global: a local provider (instances are `sleep` processes) with a profile and a realm.
  const provider = (
    await post('config-api', '/v1/providers', {
      name: `local-${run}`,
      kind: 'local',
      options: { images: { sleeper: { command: ['sleep', sleepMarker] } } },
    })
  ).id;
  const profile = (
    await post('config-api', `/v1/providers/${provider}/profiles`, {
      name: 'local',
      cpu: 2,
      memoryMb: 2048,
      storageGb: 10,
      arch: 'x86_64',
      costPerHour: 0,
    })
  ).id;
  const realm = (await post('config-api', `/v1/providers/${provider}/realms`, { name: 'zone-1' })).id;

  // Project A. An account on (and image mappings onto) a process-running provider is admin-only
  // (Note [Host drivers]): the admin makes it in project A; the rest is made by A's member.
  const m = memberA.token;
  const account = (
    await post('config-api', '/v1/provider-accounts', {
      project: projectA,
      providerId: provider,
      name: 'local',
      credentials: { username: 'svc', password: planted.accountPassword },
    })
  ).id;
  const family = (await post('config-api', '/v1/pool-families', { name: 'local', accountIds: [account] }, m))
    .id;
  const pool = (await post('config-api', '/v1/pools', { name: 'default', familyId: family }, m)).id;
  const hw = (
    await post(
      'config-api',
      '/v1/hardware-profiles',
      { name: 'small', cpu: { max: 2 }, memoryMb: { max: 2048 } },
      m,
    )
  ).id;
  const image = (await post('config-api', '/v1/images', { name: 'sleeper', os: 'linux', arch: 'x86_64' }, m))
    .id;
  const mapping = (
    await post('config-api', '/v1/image-mappings', {
      project: projectA,
      imageId: image,
      accountId: account,
      providerImageId: 'sleeper',
    })
  ).id;
  const appliance = (await post('config-api', '/v1/appliances', { name: 'hello' }, m)).id;
  const implementationBody = {
    providerId: provider,
    templateVersion: '1.0.0',
    parameters: [{ name: 'port', type: 'integer', default: 8088 }],
    outputs: [{ name: 'url', value: 'http://{{assemblies.web1.address}}:{{port}}/' }],
    // Project A's pool (an unknown pool is a 422 now): the image runs no agent, so nothing becomes ready.
    template: {
      name: 'hello',
      pool: 'default',
      assemblies: [
        {
          name: 'web1',
          image: 'sleeper',
          hardwareProfile: 'small',
          services: [{ name: 'httpd', class: 'process', command: ['sleep', sleepMarker] }],
        },
      ],
    },
  };
  const implementation = (
    await post('config-api', `/v1/appliances/${appliance}/implementations`, implementationBody, m)
  ).id;

  // The gateway serves the pool once its config snapshot has it.
  const cimi = `/cimi/${pool}`;
  await waitFor(
    async () =>
      (
        await at('iaas-gateway', m)
          .request('GET', cimi)
          .catch(() => undefined)
      )?.status === 200,
    { timeoutMs: 15_000, what: 'the gateway to know project A’s pool' },
  );
  const machineBody = {
    name: 'sec-1',
    machineTemplate: {
      machineConfig: { href: `${cimi}/machineConfigs/${hw}` },
      machineImage: { href: `${cimi}/machineImages/${image}` },
    },
  };
  const machine = await call('iaas-gateway', 'POST', `${cimi}/machines`, machineBody, m);
  const instance = uuidOf(machine.headers.get('location'));
  await waitFor(
    async () =>
      (
        await at('state-tracker', m)
          .request('GET', `/v1/instances/${instance}`)
          .catch(() => undefined)
      )?.status === 200,
    { timeoutMs: 15_000, what: 'the instance in the state tracker' },
  );

  const deployableBody = {
    name: 'shop',
    // A pool project A has (an unknown one is a 422); created with start=false, so it never launches.
    pool: 'default',
    assemblies: [
      {
        name: 'db1',
        image: 'sleeper',
        hardwareProfile: 'small',
        services: [{ name: 'store', class: 'process', command: ['sleep', sleepMarker] }],
      },
    ],
  };
  const deployable = (await post('cloud-policy-engine', '/v1/deployables?start=false', deployableBody, m)).id;
  const cluster = (
    await post(
      'cloud-policy-engine',
      '/v1/clusters',
      { name: 'blog', appliance: 'hello', users: [{ username: 'owner', password: planted.clusterPassword }] },
      m,
    )
  ).id;

  const groupConfig = {
    name: 'web',
    minEntities: opts.liveGroup ? 1 : 0,
    maxEntities: 2,
    cooldown: 0,
    serverReadyWebhook: {
      url: opts.webhookUrl ?? 'https://hooks.example.com/ready',
      secret: planted.webhookSecret,
    },
  };
  const launch = { image: 'sleeper', hardwareProfile: 'small', pool: opts.liveGroup ? pool : 'nowhere' };
  const policyBody = { name: 'up', type: 'webhook', change: 1, cooldown: 0 };
  const group = (
    await post('scaler', '/v1/groups', { config: groupConfig, launchConfig: launch, policies: [] }, m)
  ).id;
  const policy = (await post('scaler', `/v1/groups/${group}/policies`, policyBody, m)).id;
  const hook = await post<{ id: string; capabilityUrl: string }>(
    'scaler',
    `/v1/groups/${group}/policies/${policy}/webhooks`,
    { name: 'ci' },
    m,
  );
  planted.capability = hook.capabilityUrl.split('/').pop()!;

  const feedBody = {
    name: 'atom',
    url: opts.feedUrl ?? 'http://127.0.0.1:9/feed',
    intervalMs: 1000,
    credentials: { type: 'basic', username: 'reader', password: planted.feedPassword },
  };
  const feed = (await post('feed-poller', '/v1/feeds', feedBody, m)).id;

  // An event project A's member logs: it belongs to project A (the event log's tenancy).
  const eventId = randomUUID();
  await post(
    'event-log',
    '/v1/events',
    { specversion: '1.0', id: eventId, source: '/security-check', type: 'com.example.seeded', data: {} },
    m,
  );
  const event = (
    await waitFor(() => at('event-log').get<{ id: string }>(`/v1/events/${eventId}`), {
      timeoutMs: 15_000,
      what: 'project A’s event in the event log',
    })
  ).id;
  const a: ObjectIds = {
    projects: projectA,
    tokens: memberA.id,
    'provider-accounts': account,
    'pool-families': family,
    pools: pool,
    'hardware-profiles': hw,
    images: image,
    'image-mappings': mapping,
    appliances: appliance,
    implementations: implementation,
    cimi: pool,
    machines: instance,
    machineConfigs: hw,
    machineImages: image,
    machineTemplates: `${image}.${hw}`,
    instances: instance,
    deployables: deployable,
    clusters: cluster,
    groups: group,
    policies: policy,
    webhooks: hook.id,
    'lifecycle-hooks': 'drain',
    feeds: feed,
    events: event,
  };
  const global: ObjectIds = { providers: provider, profiles: profile, realms: realm };
  const noChange = {};
  const validBodies: Record<string, unknown> = {
    'PUT /v1/deployables/{id}': deployableBody,
    'PUT /v1/groups/{id}/config': groupConfig,
    'PUT /v1/groups/{id}/launch': launch,
    'POST /v1/groups/{id}/policies': { ...policyBody, name: 'up2' },
    'PUT /v1/groups/{id}/policies/{pid}': policyBody,
    'PUT /v1/groups/{id}/servers/{sid}/protection': { protected: true },
    'PUT /v1/groups/{id}/lifecycle-hooks/{name}': { kind: 'terminating', timeout: 60, defaultResult: 'CONTINUE' },
    'POST /v1/groups/{id}/servers/{sid}/lifecycle-action': { hook: 'drain', result: 'CONTINUE' },
    'POST /v1/groups/{id}/servers/{sid}/lifecycle-heartbeat': { hook: 'drain' },
    'POST /v1/groups/{id}/policies/{pid}/webhooks': { name: 'other' },
    'POST /v1/appliances/{applianceId}/implementations': { ...implementationBody, templateVersion: '2.0.0' },
    'PATCH /v1/appliances/{applianceId}/implementations/{id}': { description: 'x' },
    'POST /cimi/{pool}/machines': machineBody,
    'POST /cimi/{pool}/machines/{id}/{op}': { action: 'http://schemas.dmtf.org/cimi/2/action/start' },
    'PATCH /v1/feeds/{id}': { intervalMs: 2000 },
    'PATCH /v1/projects/{id}': noChange,
  };
  return {
    admin,
    projectA,
    projectB,
    memberA,
    viewerA,
    memberB,
    viewerB,
    global,
    a,
    planted,
    validBodies,
    sleepMarker,
  };
}
