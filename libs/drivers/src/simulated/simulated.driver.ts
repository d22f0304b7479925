import type { InstanceState } from '@nephele/contracts';
import { createPrng, type Prng } from '@nephele/util';
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
import {
  ConflictError,
  DriverError,
  NotFoundError,
  PermanentDriverError,
  QuotaExceededError,
  RateLimitedError,
  TransientDriverError,
} from '../driver.errors';
import { type LatencyDistribution, sampleLatency } from './random.util';
import { TokenBucket } from './token-bucket';

// Note [Simulated cloud]
// A cloud in memory for scale and fault tests. Instances live in one Map; a state change that
// takes time (boot, stop, reboot, terminate) is stored as "now in `state`, becomes `next` at
// `nextAt`" and applied lazily whenever the instance is read, against the injected clock — so
// 150,000 instances cost nothing between polls and a test moves time with a ManualClock instead
// of waiting. Randomness (latencies, boot failures, error rolls) comes from one seeded PRNG in
// call order: the same seed and the same calls at the same clock times give the same cloud.
//
// State machine (the same as the real drivers report):
//   create → pending ─boot→ running            (or → error, with probability failureRate)
//   running ─stop→ stopping → stopped ─start→ pending → running
//   running ─reboot→ rebooting → running
//   any but terminated ─destroy→ terminating → terminated (listed for terminatedRetentionMs)
// An operation that the current state refuses is a `conflict`.

export interface SimulatedDriverConfig {
  seed: number;
  bootLatency: LatencyDistribution;
  stopLatency: LatencyDistribution;
  rebootLatency: LatencyDistribution;
  terminateLatency: LatencyDistribution;
  /** Probability that a boot ends in `error`. */
  failureRate: number;
  /** Quota: live (not terminated) instances. */
  maxInstances: number;
  /** Probability that a create fails with a quota error anyway. */
  quotaErrorRate: number;
  /** Probability that any call fails with a transient error. */
  transientErrorRate: number;
  /** Latency of every API call (waited on the clock); none when absent. */
  apiLatency?: LatencyDistribution;
  /** Token bucket over API calls; beyond it calls fail `rate-limited` with a retry-after. */
  rateLimit?: { ratePerSec: number; burst: number };
  /** Instances per list call (list() pages, one API call per page). */
  maxListPage: number;
  /** How long a terminated instance stays visible. */
  terminatedRetentionMs: number;
  idPrefix: string;
  images: ProviderImage[];
  profiles: ProviderHardwareProfile[];
  realms: ProviderRealm[];
}

/** The API calls the simulated cloud counts (see `SimulatedDriver.stats`). */
export type SimulatedOperation =
  | 'listImages'
  | 'listHardwareProfiles'
  | 'listRealms'
  | 'create'
  | 'destroy'
  | 'start'
  | 'stop'
  | 'reboot'
  | 'get'
  | 'list';

export interface SimulatedStats {
  /** Calls that reached the cloud, per operation (a paged list counts each page). */
  calls: Record<SimulatedOperation, number>;
  totalCalls: number;
  rateLimited: number;
  /** Instances in the map (terminated ones included until purged). */
  instances: number;
}

interface SimInstance {
  id: string;
  name: string;
  image: string;
  profile: string;
  realm: string;
  metadata: Record<string, string>;
  addresses: string[];
  idempotencyKey: string;
  createdAt: string;
  state: InstanceState;
  /** When `state` began (ms); drives updatedAt and list({since}). */
  since: number;
  sinceIso?: string;
  next?: InstanceState;
  nextAt: number;
  /** A boot in progress ends in error. */
  failsBoot: boolean;
}

const DEFAULT_IMAGES: ProviderImage[] = [
  { id: 'sim-image', name: 'simulated image', status: 'active', arch: 'x86_64' },
];
const DEFAULT_PROFILES: ProviderHardwareProfile[] = [
  { id: 'sim.small', name: 'small', cpu: 1, memoryMb: 2048, storageGb: 20, arch: 'x86_64' },
  { id: 'sim.medium', name: 'medium', cpu: 2, memoryMb: 4096, storageGb: 40, arch: 'x86_64' },
  { id: 'sim.large', name: 'large', cpu: 4, memoryMb: 8192, storageGb: 80, arch: 'x86_64' },
];
const DEFAULT_REALMS: ProviderRealm[] = [
  { id: 'sim-a', name: 'zone a', available: true },
  { id: 'sim-b', name: 'zone b', available: true },
];

function readLatency(r: ConfigReader, key: string, fallback: LatencyDistribution): LatencyDistribution {
  return (
    r.nested(key, (n) => {
      const medianMs = n.number('medianMs', fallback.medianMs, { min: 0 });
      return { medianMs, p99Ms: n.number('p99Ms', Math.max(medianMs, fallback.p99Ms), { min: 0 }) };
    }) ?? fallback
  );
}

/** Reads a `simulated` provider config; every field is optional (see SimulatedDriverConfig). */
export function parseSimulatedDriverConfig(config: unknown): SimulatedDriverConfig {
  const r = new ConfigReader('simulated driver config', config);
  const out: SimulatedDriverConfig = {
    seed: r.number('seed', 1, { integer: true }),
    bootLatency: readLatency(r, 'bootLatency', { medianMs: 2_000, p99Ms: 10_000 }),
    stopLatency: readLatency(r, 'stopLatency', { medianMs: 500, p99Ms: 2_000 }),
    rebootLatency: readLatency(r, 'rebootLatency', { medianMs: 1_000, p99Ms: 5_000 }),
    terminateLatency: readLatency(r, 'terminateLatency', { medianMs: 500, p99Ms: 2_000 }),
    failureRate: r.number('failureRate', 0, { min: 0, max: 1 }),
    maxInstances: r.number('maxInstances', 150_000, { min: 0, integer: true }),
    quotaErrorRate: r.number('quotaErrorRate', 0, { min: 0, max: 1 }),
    transientErrorRate: r.number('transientErrorRate', 0, { min: 0, max: 1 }),
    apiLatency: r.has('apiLatency') ? readLatency(r, 'apiLatency', { medianMs: 0, p99Ms: 0 }) : undefined,
    rateLimit: r.nested('rateLimit', (n) => ({
      ratePerSec: n.number('ratePerSec', 100, { min: 0.001 }),
      burst: n.number('burst', 100, { min: 1 }),
    })),
    maxListPage: r.number('maxListPage', 200_000, { min: 1, integer: true }),
    terminatedRetentionMs: r.number('terminatedRetentionMs', 60_000, { min: 0 }),
    idPrefix: r.string('idPrefix', 'sim-'),
    images: (r.raw('images') as ProviderImage[] | undefined) ?? DEFAULT_IMAGES,
    profiles: (r.raw('profiles') as ProviderHardwareProfile[] | undefined) ?? DEFAULT_PROFILES,
    realms: (r.raw('realms') as ProviderRealm[] | undefined) ?? DEFAULT_REALMS,
  };
  for (const [key, list] of [
    ['images', out.images],
    ['profiles', out.profiles],
    ['realms', out.realms],
  ] as const) {
    if (
      !Array.isArray(list) ||
      list.some((x) => typeof x !== 'object' || x === null || typeof x.id !== 'string')
    ) {
      r.problem(`${key} must be an array of objects with an id`);
    }
  }
  r.done();
  return out;
}

/** The simulated cloud (see Note [Simulated cloud]). */
export class SimulatedDriver implements CloudDriver {
  readonly kind = 'simulated';
  readonly capabilities: DriverCapabilities;
  readonly config: SimulatedDriverConfig;
  private readonly rng: Prng;
  private readonly bucket?: TokenBucket;
  private readonly instances = new Map<string, SimInstance>();
  private readonly byKey = new Map<string, string>();
  private readonly injected = new Map<SimulatedOperation, DriverError[]>();
  private counter = 0;
  private live = 0;
  private readonly calls = Object.fromEntries(
    (
      [
        'listImages',
        'listHardwareProfiles',
        'listRealms',
        'create',
        'destroy',
        'start',
        'stop',
        'reboot',
        'get',
        'list',
      ] as const
    ).map((op) => [op, 0]),
  ) as Record<SimulatedOperation, number>;
  private rateLimited = 0;
  private closed = false;

  constructor(
    config: Partial<SimulatedDriverConfig> = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.config = { ...parseSimulatedDriverConfig({}), ...config };
    this.rng = createPrng(this.config.seed);
    if (this.config.rateLimit)
      this.bucket = new TokenBucket(this.config.rateLimit.ratePerSec, this.config.rateLimit.burst, clock);
    this.capabilities = {
      listSince: true,
      realms: true,
      startStop: true,
      reboot: true,
      maxListPage: this.config.maxListPage,
    };
  }
  /** True with probability p; a zero rate draws nothing, so the other draws keep their sequence. */
  private roll(p: number): boolean {
    return p > 0 && this.rng.chance(p);
  }

  /** Calls made so far (for benchmarks: provider calls per poll cycle). */
  stats(): SimulatedStats {
    const totalCalls = Object.values(this.calls).reduce((a, b) => a + b, 0);
    return {
      calls: { ...this.calls },
      totalCalls,
      rateLimited: this.rateLimited,
      instances: this.instances.size,
    };
  }

  /** Makes the next `times` calls of `op` fail with `error` (fault tests). */
  injectFailure(op: SimulatedOperation, error: DriverError, times = 1): void {
    const list = this.injected.get(op) ?? [];
    for (let i = 0; i < times; i++) list.push(error);
    this.injected.set(op, list);
  }

  async listImages(): Promise<ProviderImage[]> {
    await this.call('listImages');
    return this.config.images.map((i) => ({ ...i }));
  }

  async listHardwareProfiles(): Promise<ProviderHardwareProfile[]> {
    await this.call('listHardwareProfiles');
    return this.config.profiles.map((p) => ({ ...p }));
  }

  async listRealms(): Promise<ProviderRealm[]> {
    await this.call('listRealms');
    return this.config.realms.map((r) => ({ ...r }));
  }

  async create(req: CreateInstanceRequest): Promise<ProviderInstance> {
    await this.call('create');
    const now = this.clock.now();
    const existingId = this.byKey.get(req.idempotencyKey);
    if (existingId !== undefined) {
      const existing = this.instances.get(existingId);
      if (!existing) {
        throw new ConflictError(
          `idempotency key ${req.idempotencyKey} made instance ${existingId}, which is gone`,
          {
            code: 'IdempotentInstanceGone',
          },
        );
      }
      this.settle(existing, now);
      return this.view(existing);
    }
    if (!this.config.images.some((i) => i.id === req.image))
      throw new PermanentDriverError(`image ${req.image} not found`, { code: 'ImageNotFound' });
    if (!this.config.profiles.some((p) => p.id === req.profile))
      throw new PermanentDriverError(`hardware profile ${req.profile} not found`, {
        code: 'ProfileNotFound',
      });
    if (req.realm !== undefined && !this.config.realms.some((r) => r.id === req.realm))
      throw new PermanentDriverError(`realm ${req.realm} not found`, { code: 'RealmNotFound' });
    this.refreshLiveCount(now);
    if (this.live >= this.config.maxInstances) {
      throw new QuotaExceededError(
        `quota exceeded: ${this.live} of ${this.config.maxInstances} instances in use`,
        { code: 'InstanceLimitExceeded' },
      );
    }
    if (this.roll(this.config.quotaErrorRate))
      throw new QuotaExceededError('quota exceeded (simulated)', { code: 'InstanceLimitExceeded' });

    const n = ++this.counter;
    const inst: SimInstance = {
      id: `${this.config.idPrefix}${n.toString(16).padStart(8, '0')}`,
      name: req.name,
      image: req.image,
      profile: req.profile,
      realm: req.realm ?? this.config.realms[(n - 1) % this.config.realms.length]?.id ?? 'default',
      metadata: Object.freeze({ ...(req.metadata ?? {}) }) as Record<string, string>,
      addresses: Object.freeze([`10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`]) as string[],
      idempotencyKey: req.idempotencyKey,
      createdAt: new Date(now).toISOString(),
      state: 'pending',
      since: now,
      nextAt: 0,
      failsBoot: false,
    };
    this.boot(inst, now);
    this.instances.set(inst.id, inst);
    this.byKey.set(req.idempotencyKey, inst.id);
    this.live++;
    return this.view(inst);
  }

  async destroy(id: string): Promise<void> {
    await this.call('destroy');
    const inst = this.find(id);
    if (inst.state === 'terminating' || inst.state === 'terminated') return;
    this.transition(inst, 'terminating', 'terminated', sampleLatency(this.rng, this.config.terminateLatency));
    this.live--;
  }

  async start(id: string): Promise<void> {
    await this.call('start');
    const inst = this.find(id);
    switch (inst.state) {
      case 'running':
      case 'pending':
        return;
      case 'stopped':
        this.boot(inst, this.clock.now());
        return;
      default:
        throw new ConflictError(`cannot start instance ${id} while it is ${inst.state}`, {
          code: 'IncorrectInstanceState',
        });
    }
  }

  async stop(id: string): Promise<void> {
    await this.call('stop');
    const inst = this.find(id);
    switch (inst.state) {
      case 'stopped':
      case 'stopping':
        return;
      case 'running':
      case 'error':
        this.transition(inst, 'stopping', 'stopped', sampleLatency(this.rng, this.config.stopLatency));
        return;
      default:
        throw new ConflictError(`cannot stop instance ${id} while it is ${inst.state}`, {
          code: 'IncorrectInstanceState',
        });
    }
  }

  async reboot(id: string): Promise<void> {
    await this.call('reboot');
    const inst = this.find(id);
    if (inst.state !== 'running') {
      throw new ConflictError(`cannot reboot instance ${id} while it is ${inst.state}`, {
        code: 'IncorrectInstanceState',
      });
    }
    this.transition(inst, 'rebooting', 'running', sampleLatency(this.rng, this.config.rebootLatency));
  }

  async get(id: string): Promise<ProviderInstance | null> {
    await this.call('get');
    const inst = this.instances.get(id);
    if (!inst) return null;
    const now = this.clock.now();
    this.settle(inst, now);
    return this.visible(inst, now) ? this.view(inst) : null;
  }

  async list(options: ListInstancesOptions = {}): Promise<ProviderInstance[]> {
    const since = sinceMs(options.since);
    const pages = Math.max(1, Math.ceil(this.instances.size / this.config.maxListPage));
    for (let i = 0; i < pages; i++) await this.call('list');
    const now = this.clock.now();
    const out: ProviderInstance[] = [];
    for (const inst of this.instances.values()) {
      this.settle(inst, now);
      if (!this.visible(inst, now)) continue;
      if (since !== undefined && inst.since < since) continue;
      out.push(this.view(inst));
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  // --- internals ----------------------------------------------------------------------

  /** Every API call: closed check, injected faults, rate limit, random transient errors, latency. */
  private async call(op: SimulatedOperation): Promise<void> {
    if (this.closed) throw new PermanentDriverError('driver is closed');
    const injected = this.injected.get(op);
    if (injected?.length) throw injected.shift()!;
    if (this.bucket) {
      const waitMs = this.bucket.take();
      if (waitMs > 0) {
        this.rateLimited++;
        throw new RateLimitedError(`rate limit exceeded for ${op}`, waitMs, {
          status: 429,
          code: 'RequestLimitExceeded',
        });
      }
    }
    this.calls[op]++;
    if (this.roll(this.config.transientErrorRate))
      throw new TransientDriverError(`${op} failed (simulated)`, { status: 503 });
    if (this.config.apiLatency) {
      const ms = sampleLatency(this.rng, this.config.apiLatency);
      if (ms > 0) await this.clock.sleep(ms);
    }
  }

  private find(id: string): SimInstance {
    const inst = this.instances.get(id);
    const now = this.clock.now();
    if (inst) this.settle(inst, now);
    if (!inst || !this.visible(inst, now))
      throw new NotFoundError(`instance ${id} not found`, { status: 404 });
    return inst;
  }

  private boot(inst: SimInstance, now: number): void {
    inst.failsBoot = this.roll(this.config.failureRate);
    inst.state = 'pending';
    inst.since = now;
    inst.sinceIso = undefined;
    inst.next = inst.failsBoot ? 'error' : 'running';
    inst.nextAt = now + sampleLatency(this.rng, this.config.bootLatency);
  }

  private transition(inst: SimInstance, now: InstanceState, next: InstanceState, afterMs: number): void {
    const t = this.clock.now();
    inst.state = now;
    inst.since = t;
    inst.sinceIso = undefined;
    inst.next = next;
    inst.nextAt = t + afterMs;
  }

  /** Applies a due transition (see Note [Simulated cloud]). */
  private settle(inst: SimInstance, now: number): void {
    if (inst.next !== undefined && inst.nextAt <= now) {
      inst.state = inst.next;
      inst.since = inst.nextAt;
      inst.sinceIso = undefined;
      inst.next = undefined;
    }
  }

  private visible(inst: SimInstance, now: number): boolean {
    return inst.state !== 'terminated' || now - inst.since < this.config.terminatedRetentionMs;
  }

  private refreshLiveCount(now: number): void {
    // `live` is kept exact by create/destroy; terminated instances past retention are purged here
    // so a long simulation does not grow without bound.
    if (this.instances.size - this.live > 10_000) {
      for (const [id, inst] of this.instances) {
        this.settle(inst, now);
        if (!this.visible(inst, now)) this.instances.delete(id);
      }
    }
  }

  private view(inst: SimInstance): ProviderInstance {
    inst.sinceIso ??= new Date(inst.since).toISOString();
    return {
      id: inst.id,
      name: inst.name,
      state: inst.state,
      addresses: inst.addresses,
      image: inst.image,
      profile: inst.profile,
      realm: inst.realm,
      createdAt: inst.createdAt,
      updatedAt: inst.sinceIso,
      metadata: inst.metadata,
      idempotencyKey: inst.idempotencyKey,
    };
  }
}
