import type { InstanceState } from '@nephele/contracts';

/** What a driver kind can do; callers (the gateway, the state tracker) adapt to it. */
export interface DriverCapabilities {
  /** `list({ since })` returns only instances changed since then (otherwise it returns all). */
  listSince: boolean;
  /** The provider has realms (availability zones) worth choosing between. */
  realms: boolean;
  /** `start`/`stop` are supported (an instance can be stopped without being destroyed). */
  startStop: boolean;
  /** `reboot` is supported. */
  reboot: boolean;
  /**
   * The largest page one provider list call returns; `list()` pages internally, so a poll of N
   * instances costs about `ceil(N / maxListPage)` provider calls.
   */
  maxListPage: number;
  /**
   * Instances boot an image whose cloud-init reads the user data: the gateway hands them the
   * agent's `#cloud-config` (Note [Agent bootstrap]) instead of the DPE's identity blob.
   */
  cloudInit?: boolean;
  /**
   * The address at which an instance reaches this host's loopback (QEMU user-mode networking:
   * `10.0.2.2`); loopback URLs in the agent's user data are rewritten to it.
   */
  guestHostAddress?: string;
}

/** An image the provider can boot (a provider image id; Nephele images map to these). */
export interface ProviderImage {
  id: string;
  name: string;
  /** Provider-specific status, e.g. `active`. */
  status?: string;
  /** Architecture when the provider says (e.g. `x86_64`). */
  arch?: string;
}

/** A provider hardware profile (flavor, instance type). */
export interface ProviderHardwareProfile {
  id: string;
  name: string;
  cpu: number;
  memoryMb: number;
  storageGb: number;
  arch?: string;
}

/** A realm (availability zone) of the provider. */
export interface ProviderRealm {
  id: string;
  name: string;
  available: boolean;
}

/** What `CloudDriver.create` needs. Ids are the provider's own (already mapped by the caller). */
export interface CreateInstanceRequest {
  /**
   * The same key never makes a second instance: a create repeated with a key already used
   * returns the instance the first one made (whatever its state).
   */
  idempotencyKey: string;
  name: string;
  /** Provider image id. */
  image: string;
  /** Provider hardware profile id. */
  profile: string;
  /** Handed to the instance (cloud-init user data, the local driver's NEPHELE_USER_DATA). */
  userData?: string;
  /** Key/value tags stored with the instance at the provider. */
  metadata?: Record<string, string>;
  /** Realm (availability zone) id. */
  realm?: string;
}

/** One instance as the provider reports it. */
export interface ProviderInstance {
  /** The provider's id for it. */
  id: string;
  name: string;
  state: InstanceState;
  /** Reachable addresses, most useful first. */
  addresses: string[];
  image?: string;
  profile?: string;
  realm?: string;
  /** RFC 3339 UTC. */
  createdAt: string;
  /** RFC 3339 UTC: when the provider last saw it change (drives `list({ since })`). */
  updatedAt: string;
  metadata: Record<string, string>;
  idempotencyKey?: string;
}

export interface ListInstancesOptions {
  /** Only instances changed at or after this time (when `capabilities.listSince`). */
  since?: Date | string;
}

/**
 * A cloud driver: one provider account of one kind (ARCHITECTURE §4).
 *
 * Every method fails with a `DriverError` whose `kind` says what the caller may do about it
 * (`quota` → try another account, `rate-limited` → wait `retryAfterMs`, `transient` → retry,
 * `permanent` → give up, `not-found`, `conflict`). `destroy`, `start`, `stop` and `reboot` are
 * asynchronous at most providers: they return once the provider accepted the request, and the
 * instance moves through the transitional states (`stopping`, `terminating`, …) on its own.
 */
export interface CloudDriver {
  /** The driver kind (`local`, `simulated`, `openstack`, `ec2`, …). */
  readonly kind: string;
  readonly capabilities: DriverCapabilities;
  listImages(): Promise<ProviderImage[]>;
  listHardwareProfiles(): Promise<ProviderHardwareProfile[]>;
  listRealms(): Promise<ProviderRealm[]>;
  /** Launches an instance, or returns the one an earlier create with the same idempotency key made. */
  create(request: CreateInstanceRequest): Promise<ProviderInstance>;
  /** Destroys an instance; `not-found` when the provider does not know it (already gone). */
  destroy(id: string): Promise<void>;
  /** Starts a stopped instance (no-op when it already runs). */
  start(id: string): Promise<void>;
  /** Stops a running instance (no-op when it is already stopped). */
  stop(id: string): Promise<void>;
  reboot(id: string): Promise<void>;
  /** One instance, or null when the provider does not know it. */
  get(id: string): Promise<ProviderInstance | null>;
  /** Every instance of this account (or those changed since `since`), all pages. */
  list(options?: ListInstancesOptions): Promise<ProviderInstance[]>;
  /** Releases timers, sockets and the like; the instances keep running. */
  close(): Promise<void>;
}

/** Milliseconds since the epoch, injectable so tests and simulations control time. */
export interface Clock {
  now(): number;
  /** Waits `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Normalises a `since` option to epoch milliseconds. */
export function sinceMs(since: Date | string | undefined): number | undefined {
  if (since === undefined) return undefined;
  const ms = since instanceof Date ? since.getTime() : Date.parse(since);
  if (Number.isNaN(ms)) throw new TypeError(`invalid since: ${String(since)}`);
  return ms;
}
