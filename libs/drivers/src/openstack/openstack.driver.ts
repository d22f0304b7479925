import { createHash } from 'node:crypto';
import type { InstanceState } from '@nephele/contracts';
import type {
  Clock,
  CloudDriver,
  CreateInstanceRequest,
  DriverCapabilities,
  ListInstancesOptions,
  ProviderHardwareProfile,
  ProviderImage,
  ProviderInstance,
  ProviderRealm,
} from '../cloud-driver.types';
import { sinceMs, systemClock } from '../cloud-driver.types';
import { ConfigReader } from '../config.util';
import { ConflictError, DriverError, NotFoundError, PermanentDriverError } from '../driver.errors';
import { KeyedMutex } from '../mutex.util';
import { errorFromResponse, fetchOrTransient } from './http.util';
import { KeystoneSession } from './keystone.client';

// Note [OpenStack idempotency]
// Nova has no idempotency token. The driver stores the key in the server's metadata
// (`nephele_key`) and, before creating, looks for a server of the same name carrying that key
// (GET /servers/detail?name=^<name>$ — the name filter is open to every user, metadata filters are
// not). A retried create therefore returns the server the first attempt made, even when the first
// attempt's answer was lost. Creates with one key are serialised inside a driver object; two
// gateway replicas racing on one key could still both create (the command bus delivers a command
// to one consumer at a time, which is what keeps that from happening).

export interface OpenStackDriverConfig {
  /** Keystone endpoint, e.g. `https://cloud.example.com:5000` (a trailing /v3 is fine). */
  authUrl: string;
  /** Catalog region; the first matching endpoint when absent. */
  region?: string;
  /** Catalog interface of the endpoints to use. */
  interface: 'public' | 'internal' | 'admin';
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  userDomainName?: string;
  userDomainId?: string;
  /** Override the catalog's compute endpoint. */
  computeUrl?: string;
  /** Override the catalog's image endpoint. */
  imageUrl?: string;
  requestTimeoutMs: number;
  /** Renew the token this long before it expires. */
  tokenRenewMarginMs: number;
  /** Servers per page of GET /servers/detail (Nova's default max_limit is 1000). */
  listPageSize: number;
}

export interface OpenStackCredentials {
  username?: string;
  userId?: string;
  password: string;
  /** Credentials may name the project instead of the provider config (one account per project). */
  projectName?: string;
  projectId?: string;
  userDomainName?: string;
  projectDomainName?: string;
}

/** Reads an `openstack` provider config. */
export function parseOpenStackDriverConfig(config: unknown): OpenStackDriverConfig {
  const r = new ConfigReader('openstack driver config', config);
  const iface = r.string('interface', 'public');
  if (!['public', 'internal', 'admin'].includes(iface))
    r.problem('interface must be public, internal or admin');
  const out: OpenStackDriverConfig = {
    authUrl: r.requiredString('authUrl'),
    region: r.string('region'),
    interface: iface as OpenStackDriverConfig['interface'],
    projectName: r.string('projectName'),
    projectId: r.string('projectId'),
    projectDomainName: r.string('projectDomainName'),
    projectDomainId: r.string('projectDomainId'),
    userDomainName: r.string('userDomainName'),
    userDomainId: r.string('userDomainId'),
    computeUrl: r.string('computeUrl'),
    imageUrl: r.string('imageUrl'),
    requestTimeoutMs: r.number('requestTimeoutMs', 30_000, { min: 1 }),
    tokenRenewMarginMs: r.number('tokenRenewMarginMs', 60_000, { min: 0 }),
    listPageSize: r.number('listPageSize', 1_000, { min: 1, integer: true }),
  };
  r.done();
  return out;
}

/** Reads `openstack` credentials: `{ username | userId, password, projectName?, projectId?, … }`. */
export function parseOpenStackCredentials(credentials: unknown): OpenStackCredentials {
  const r = new ConfigReader('openstack credentials', credentials);
  const out: OpenStackCredentials = {
    username: r.string('username'),
    userId: r.string('userId'),
    password: r.requiredString('password'),
    projectName: r.string('projectName'),
    projectId: r.string('projectId'),
    userDomainName: r.string('userDomainName'),
    projectDomainName: r.string('projectDomainName'),
  };
  if (!out.username && !out.userId) r.problem('username or userId is required');
  r.done();
  return out;
}

/** The metadata key holding the idempotency key (see Note [OpenStack idempotency]). */
export const OPENSTACK_KEY_METADATA = 'nephele_key';

/** Nova server status (and task state) → instance state. */
export function novaServerState(status: string | undefined, taskState?: string | null): InstanceState {
  switch (taskState) {
    case 'deleting':
      return 'terminating';
    case 'powering-off':
      return 'stopping';
    case 'rebooting':
    case 'reboot_pending':
    case 'reboot_started':
    case 'rebooting_hard':
    case 'reboot_pending_hard':
    case 'reboot_started_hard':
      return 'rebooting';
    default:
      break;
  }
  switch ((status ?? '').toUpperCase()) {
    case 'BUILD':
    case 'REBUILD':
      return 'pending';
    case 'ACTIVE':
    case 'RESIZE':
    case 'VERIFY_RESIZE':
    case 'REVERT_RESIZE':
    case 'MIGRATING':
    case 'PASSWORD':
    case 'RESCUE':
      return 'running';
    case 'SHUTOFF':
    case 'STOPPED':
    case 'SUSPENDED':
    case 'PAUSED':
    case 'SHELVED':
    case 'SHELVED_OFFLOADED':
      return 'stopped';
    case 'REBOOT':
    case 'HARD_REBOOT':
      return 'rebooting';
    case 'DELETED':
    case 'SOFT_DELETED':
      return 'terminated';
    default:
      // ERROR, UNKNOWN (host unreachable) and anything newer than this table.
      return 'error';
  }
}

/** The parts of a Nova server this driver reads (compute API, GET /servers/{id}). */
export interface NovaServer {
  id: string;
  name: string;
  status?: string;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-AZ:availability_zone'?: string;
  addresses?: Record<string, { addr: string; version?: number }[]>;
  accessIPv4?: string;
  accessIPv6?: string;
  image?: { id?: string } | string;
  flavor?: { id?: string; original_name?: string };
  created?: string;
  updated?: string;
  metadata?: Record<string, string>;
}

function iso(s: string | undefined, fallback: string): string {
  const ms = s ? Date.parse(s) : NaN;
  return Number.isNaN(ms) ? fallback : new Date(ms).toISOString();
}

/** A Nova server as a ProviderInstance. */
export function novaServerToInstance(s: NovaServer): ProviderInstance {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(s.addresses ?? {})) {
    for (const a of list) (a.version === 6 ? v6 : v4).push(a.addr);
  }
  if (s.accessIPv4 && !v4.includes(s.accessIPv4)) v4.unshift(s.accessIPv4);
  if (s.accessIPv6 && !v6.includes(s.accessIPv6)) v6.push(s.accessIPv6);
  const { [OPENSTACK_KEY_METADATA]: key, ...metadata } = s.metadata ?? {};
  const created = iso(s.created, new Date(0).toISOString());
  return {
    id: s.id,
    name: s.name,
    state: novaServerState(s.status, s['OS-EXT-STS:task_state']),
    addresses: [...v4, ...v6],
    image: typeof s.image === 'object' ? s.image?.id || undefined : undefined,
    profile: s.flavor?.id ?? s.flavor?.original_name,
    realm: s['OS-EXT-AZ:availability_zone'] || undefined,
    createdAt: created,
    updatedAt: iso(s.updated, created),
    metadata,
    idempotencyKey: key,
  };
}

/** Nova's name filter is a regular expression: match the name exactly. */
function exactNameFilter(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

type Service = 'compute' | 'image';

/** Keystone v3 + Nova + Glance over HTTP (see Note [Keystone tokens], Note [OpenStack idempotency]). */
export class OpenStackDriver implements CloudDriver {
  readonly kind = 'openstack';
  readonly capabilities: DriverCapabilities;
  readonly session: KeystoneSession;
  private readonly creates = new KeyedMutex();

  constructor(
    readonly config: OpenStackDriverConfig,
    credentials: OpenStackCredentials,
    clock: Clock = systemClock,
  ) {
    this.capabilities = {
      listSince: true,
      realms: true,
      startStop: true,
      reboot: true,
      maxListPage: config.listPageSize,
      cloudInit: true,
    };
    this.session = new KeystoneSession(
      {
        authUrl: config.authUrl,
        username: credentials.username,
        userId: credentials.userId,
        password: credentials.password,
        userDomainName: credentials.userDomainName ?? config.userDomainName,
        userDomainId: config.userDomainId,
        projectName: credentials.projectName ?? config.projectName,
        projectId: credentials.projectId ?? config.projectId,
        projectDomainName: credentials.projectDomainName ?? config.projectDomainName,
        projectDomainId: config.projectDomainId,
        renewMarginMs: config.tokenRenewMarginMs,
        requestTimeoutMs: config.requestTimeoutMs,
      },
      clock,
    );
  }

  async listImages(): Promise<ProviderImage[]> {
    const out: ProviderImage[] = [];
    let next: string | undefined = `/v2/images?limit=${this.config.listPageSize}`;
    while (next) {
      const page: {
        images?: { id: string; name?: string; status?: string; architecture?: string }[];
        next?: string;
      } = await this.call('image', 'GET', next);
      for (const i of page.images ?? [])
        out.push({ id: i.id, name: i.name ?? i.id, status: i.status, arch: i.architecture });
      // Glance's `next` is a path from the endpoint's root (e.g. /v2/images?marker=…).
      next = page.next;
    }
    return out;
  }

  async listHardwareProfiles(): Promise<ProviderHardwareProfile[]> {
    const out: ProviderHardwareProfile[] = [];
    let marker: string | undefined;
    for (;;) {
      const q = new URLSearchParams({ limit: String(this.config.listPageSize) });
      if (marker) q.set('marker', marker);
      const page: {
        flavors?: { id: string; name: string; vcpus: number; ram: number; disk: number }[];
        flavors_links?: { rel: string }[];
      } = await this.call('compute', 'GET', `/flavors/detail?${q}`);
      const flavors = page.flavors ?? [];
      for (const f of flavors)
        out.push({ id: f.id, name: f.name, cpu: f.vcpus, memoryMb: f.ram, storageGb: f.disk });
      if (!flavors.length || !page.flavors_links?.some((l) => l.rel === 'next')) return out;
      marker = flavors[flavors.length - 1]!.id;
    }
  }

  async listRealms(): Promise<ProviderRealm[]> {
    const body: { availabilityZoneInfo?: { zoneName: string; zoneState?: { available?: boolean } }[] } =
      await this.call('compute', 'GET', '/os-availability-zone');
    return (body.availabilityZoneInfo ?? []).map((z) => ({
      id: z.zoneName,
      name: z.zoneName,
      available: z.zoneState?.available !== false,
    }));
  }

  async create(req: CreateInstanceRequest): Promise<ProviderInstance> {
    // Nova metadata values are at most 255 characters.
    const key =
      req.idempotencyKey.length <= 255
        ? req.idempotencyKey
        : `sha256:${createHash('sha256').update(req.idempotencyKey).digest('hex')}`;
    return this.creates.run(key, async () => {
      const existing = await this.findByKey(req.name, key);
      if (existing) return existing;
      const server: Record<string, unknown> = {
        name: req.name,
        imageRef: req.image,
        flavorRef: req.profile,
        metadata: { ...(req.metadata ?? {}), [OPENSTACK_KEY_METADATA]: key },
      };
      if (req.userData !== undefined)
        server['user_data'] = Buffer.from(req.userData, 'utf8').toString('base64');
      if (req.realm !== undefined) server['availability_zone'] = req.realm;
      const created: { server: { id: string } } = await this.call('compute', 'POST', '/servers', { server });
      const now = new Date().toISOString();
      try {
        const full = await this.get(created.server.id);
        if (full) return full;
      } catch (e) {
        if (!(e instanceof DriverError) || !e.retryable) throw e;
      }
      // Accepted but not readable yet: report what we know.
      return {
        id: created.server.id,
        name: req.name,
        state: 'pending',
        addresses: [],
        image: req.image,
        profile: req.profile,
        realm: req.realm,
        createdAt: now,
        updatedAt: now,
        metadata: { ...(req.metadata ?? {}) },
        idempotencyKey: key,
      };
    });
  }

  async destroy(id: string): Promise<void> {
    await this.call('compute', 'DELETE', `/servers/${encodeURIComponent(id)}`);
  }

  async start(id: string): Promise<void> {
    await this.action(id, { 'os-start': null }, 'running');
  }

  async stop(id: string): Promise<void> {
    await this.action(id, { 'os-stop': null }, 'stopped');
  }

  async reboot(id: string): Promise<void> {
    await this.action(id, { reboot: { type: 'SOFT' } });
  }

  async get(id: string): Promise<ProviderInstance | null> {
    try {
      const body: { server: NovaServer } = await this.call(
        'compute',
        'GET',
        `/servers/${encodeURIComponent(id)}`,
      );
      return novaServerToInstance(body.server);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  async list(options: ListInstancesOptions = {}): Promise<ProviderInstance[]> {
    const since = sinceMs(options.since);
    return this.listServers(since === undefined ? {} : { 'changes-since': new Date(since).toISOString() });
  }

  async close(): Promise<void> {
    // fetch keeps no per-driver state worth closing; the token simply expires.
  }

  // --- internals ----------------------------------------------------------------------

  private async findByKey(name: string, key: string): Promise<ProviderInstance | null> {
    const candidates = await this.listServers({ name: exactNameFilter(name) });
    return candidates.find((s) => s.idempotencyKey === key && s.state !== 'terminated') ?? null;
  }

  private async listServers(filters: Record<string, string>): Promise<ProviderInstance[]> {
    const out: ProviderInstance[] = [];
    let marker: string | undefined;
    for (;;) {
      const q = new URLSearchParams({ ...filters, limit: String(this.config.listPageSize) });
      if (marker) q.set('marker', marker);
      const page: { servers?: NovaServer[]; servers_links?: { rel: string; href: string }[] } =
        await this.call('compute', 'GET', `/servers/detail?${q}`);
      const servers = page.servers ?? [];
      for (const s of servers) out.push(novaServerToInstance(s));
      if (!servers.length || !page.servers_links?.some((l) => l.rel === 'next')) return out;
      marker = servers[servers.length - 1]!.id;
    }
  }

  /** POST /servers/{id}/action; a conflict because the server is already there counts as done. */
  private async action(id: string, body: Record<string, unknown>, target?: InstanceState): Promise<void> {
    try {
      await this.call('compute', 'POST', `/servers/${encodeURIComponent(id)}/action`, body);
    } catch (e) {
      if (e instanceof ConflictError && target) {
        const now = await this.get(id);
        if (now?.state === target) return;
      }
      throw e;
    }
  }

  private baseUrl(service: Service, catalog: Parameters<typeof KeystoneSession.endpoint>[0]): string {
    const override = service === 'compute' ? this.config.computeUrl : this.config.imageUrl;
    if (override) return override.replace(/\/+$/, '');
    const url = KeystoneSession.endpoint(catalog, service, this.config.interface, this.config.region);
    // Glance paths below carry their own /v2.
    return service === 'image' ? url.replace(/\/v2(\.\d+)?$/, '') : url;
  }

  /** One authenticated call; a 401 renews the token and retries once (see Note [Keystone tokens]). */
  private async call<T>(service: Service, method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.session.token();
      const url = `${this.baseUrl(service, token.catalog)}${path}`;
      const headers: Record<string, string> = { 'X-Auth-Token': token.value, Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetchOrTransient(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
      const text = await res.text();
      if (res.status === 401 && attempt === 0) {
        this.session.invalidate(token.value);
        continue;
      }
      if (res.status === 401)
        throw new PermanentDriverError(`${method} ${path}: HTTP 401 after re-authenticating`, {
          status: 401,
        });
      if (!res.ok) throw errorFromResponse(res.status, text, res.headers, `${method} ${path}`);
      if (!text) return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new DriverError('transient', `${method} ${path}: invalid JSON in the answer`, {
          status: res.status,
          cause: e,
        });
      }
    }
  }
}
