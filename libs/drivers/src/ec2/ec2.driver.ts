import { createHash } from 'node:crypto';
import {
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Filter,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import type { InstanceState } from '@nephele/contracts';
import type {
  CloudDriver,
  CreateInstanceRequest,
  DriverCapabilities,
  ListInstancesOptions,
  ProviderHardwareProfile,
  ProviderImage,
  ProviderInstance,
  ProviderRealm,
} from '../cloud-driver.types';
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

// Note [EC2 idempotency]
// RunInstances takes a ClientToken (at most 64 ASCII characters; longer keys are hashed): EC2
// answers a repeated call with the same token with the same reservation. The driver also looks
// the token up first (DescribeInstances, filter `client-token`), so the key keeps working after
// EC2 forgets the token. The key, the name and the metadata are instance tags.

export interface Ec2DriverConfig {
  region: string;
  /** Endpoint override (another region's URL, a private endpoint, a compatible cloud, a test server). */
  endpoint?: string;
  /** SDK attempts per call; the default 1 leaves retries to the caller, who sees the typed errors. */
  maxAttempts: number;
  /** DescribeImages owners (default: self). */
  imageOwners: string[];
  /** Instance types offered as hardware profiles (default: all the region has). */
  instanceTypes?: string[];
  /** Instances per DescribeInstances page (5..1000). */
  listPageSize: number;
  requestTimeoutMs: number;
}

export interface Ec2Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Reads an `ec2` provider config. */
export function parseEc2DriverConfig(config: unknown): Ec2DriverConfig {
  const r = new ConfigReader('ec2 driver config', config);
  const out: Ec2DriverConfig = {
    region: r.requiredString('region'),
    endpoint: r.string('endpoint'),
    maxAttempts: r.number('maxAttempts', 1, { min: 1, integer: true }),
    imageOwners: r.stringArray('imageOwners') ?? ['self'],
    instanceTypes: r.stringArray('instanceTypes'),
    listPageSize: r.number('listPageSize', 1000, { min: 5, max: 1000, integer: true }),
    requestTimeoutMs: r.number('requestTimeoutMs', 30_000, { min: 1 }),
  };
  r.done();
  return out;
}

/** Reads `ec2` credentials: `{ accessKeyId, secretAccessKey, sessionToken? }`. */
export function parseEc2Credentials(credentials: unknown): Ec2Credentials {
  const r = new ConfigReader('ec2 credentials', credentials);
  const out = {
    accessKeyId: r.requiredString('accessKeyId'),
    secretAccessKey: r.requiredString('secretAccessKey'),
    sessionToken: r.string('sessionToken'),
  };
  r.done();
  return out;
}

/** Tag holding the idempotency key (see Note [EC2 idempotency]). */
export const EC2_KEY_TAG = 'nephele:idempotency-key';

/** EC2 instance state name → instance state. */
export function ec2InstanceState(name: string | undefined): InstanceState {
  switch (name) {
    case 'pending':
      return 'pending';
    case 'running':
      return 'running';
    case 'stopping':
      return 'stopping';
    case 'stopped':
      return 'stopped';
    case 'shutting-down':
      return 'terminating';
    case 'terminated':
      return 'terminated';
    default:
      return 'error';
  }
}

/** The ClientToken for an idempotency key (at most 64 ASCII characters). */
export function ec2ClientToken(key: string): string {
  return key.length <= 64 && /^[\x20-\x7e]+$/.test(key)
    ? key
    : createHash('sha256').update(key).digest('hex');
}

/** An EC2 instance as a ProviderInstance. */
export function ec2InstanceToProvider(i: Instance): ProviderInstance {
  const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const { Name: name, [EC2_KEY_TAG]: key, ...metadata } = tags;
  const launched = i.LaunchTime ? new Date(i.LaunchTime).toISOString() : new Date(0).toISOString();
  // EC2 has no last-modified time; a state transition reason sometimes carries one.
  const transition = /\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) GMT\)/.exec(i.StateTransitionReason ?? '');
  const updated = transition ? new Date(`${transition[1]!.replace(' ', 'T')}Z`).toISOString() : launched;
  return {
    id: i.InstanceId ?? '',
    name: name ?? i.InstanceId ?? '',
    state: ec2InstanceState(i.State?.Name),
    addresses: [i.PublicIpAddress, i.PrivateIpAddress].filter((a): a is string => !!a),
    image: i.ImageId,
    profile: i.InstanceType,
    realm: i.Placement?.AvailabilityZone,
    createdAt: launched,
    updatedAt: updated > launched ? updated : launched,
    metadata,
    idempotencyKey: key ?? (i.ClientToken || undefined),
  };
}

const QUOTA_CODES = new Set([
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'ResourceLimitExceeded',
  'MaxSpotInstanceCountExceeded',
  'AddressLimitExceeded',
]);
const THROTTLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);
const NOT_FOUND_CODES = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);
const CONFLICT_CODES = new Set([
  'IncorrectInstanceState',
  'IncorrectState',
  'IdempotentParameterMismatch',
  'OperationNotPermitted',
]);
const TRANSIENT_CODES = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'InsufficientInstanceCapacity',
]);

/** An SDK error as a typed DriverError (EC2 error codes, then the HTTP status). */
export function ec2Error(e: unknown, what: string): DriverError {
  if (e instanceof DriverError) return e;
  const err = e as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const code = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const msg = `${what}: ${code}: ${err.message ?? String(e)}`;
  const opts = { status, code, cause: e };
  if (QUOTA_CODES.has(code)) return new QuotaExceededError(msg, opts);
  if (THROTTLE_CODES.has(code) || status === 429) return new RateLimitedError(msg, 1_000, opts);
  if (NOT_FOUND_CODES.has(code)) return new NotFoundError(msg, opts);
  if (CONFLICT_CODES.has(code)) return new ConflictError(msg, opts);
  if (TRANSIENT_CODES.has(code) || status === undefined || status >= 500)
    return new TransientDriverError(msg, opts);
  return new PermanentDriverError(msg, opts);
}

/** Amazon EC2 (or an EC2-compatible endpoint) through @aws-sdk/client-ec2. */
export class Ec2Driver implements CloudDriver {
  readonly kind = 'ec2';
  readonly capabilities: DriverCapabilities;
  readonly client: EC2Client;

  constructor(
    readonly config: Ec2DriverConfig,
    credentials: Ec2Credentials,
  ) {
    this.capabilities = {
      listSince: false,
      realms: true,
      startStop: true,
      reboot: true,
      maxListPage: config.listPageSize,
      cloudInit: true,
    };
    this.client = new EC2Client({
      region: config.region,
      endpoint: config.endpoint,
      credentials,
      maxAttempts: config.maxAttempts,
      requestHandler: { requestTimeout: config.requestTimeoutMs, connectionTimeout: config.requestTimeoutMs },
    });
  }

  async listImages(): Promise<ProviderImage[]> {
    const out = await this.send('DescribeImages', () =>
      this.client.send(new DescribeImagesCommand({ Owners: this.config.imageOwners })),
    );
    return (out.Images ?? []).map((i) => ({
      id: i.ImageId ?? '',
      name: i.Name ?? i.ImageId ?? '',
      status: i.State,
      arch: i.Architecture,
    }));
  }

  async listHardwareProfiles(): Promise<ProviderHardwareProfile[]> {
    const profiles: ProviderHardwareProfile[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.send('DescribeInstanceTypes', () =>
        this.client.send(
          new DescribeInstanceTypesCommand({
            InstanceTypes: this.config.instanceTypes as _InstanceType[] | undefined,
            MaxResults: this.config.instanceTypes ? undefined : 100,
            NextToken,
          }),
        ),
      );
      for (const t of page.InstanceTypes ?? []) {
        profiles.push({
          id: t.InstanceType ?? '',
          name: t.InstanceType ?? '',
          cpu: t.VCpuInfo?.DefaultVCpus ?? 0,
          memoryMb: t.MemoryInfo?.SizeInMiB ?? 0,
          storageGb: t.InstanceStorageInfo?.TotalSizeInGB ?? 0,
          arch: t.ProcessorInfo?.SupportedArchitectures?.[0],
        });
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    return profiles;
  }

  async listRealms(): Promise<ProviderRealm[]> {
    const out = await this.send('DescribeAvailabilityZones', () =>
      this.client.send(new DescribeAvailabilityZonesCommand({})),
    );
    return (out.AvailabilityZones ?? []).map((z) => ({
      id: z.ZoneName ?? '',
      name: z.ZoneName ?? '',
      available: z.State === 'available',
    }));
  }

  async create(req: CreateInstanceRequest): Promise<ProviderInstance> {
    const token = ec2ClientToken(req.idempotencyKey);
    const existing = await this.describe([{ Name: 'client-token', Values: [token] }]);
    if (existing.length) return existing[0]!;
    const tags = [
      { Key: 'Name', Value: req.name },
      { Key: EC2_KEY_TAG, Value: req.idempotencyKey.slice(0, 256) },
      ...Object.entries(req.metadata ?? {}).map(([Key, Value]) => ({ Key, Value })),
    ];
    const out = await this.send('RunInstances', () =>
      this.client.send(
        new RunInstancesCommand({
          ImageId: req.image,
          InstanceType: req.profile as _InstanceType,
          MinCount: 1,
          MaxCount: 1,
          ClientToken: token,
          UserData:
            req.userData === undefined ? undefined : Buffer.from(req.userData, 'utf8').toString('base64'),
          Placement: req.realm ? { AvailabilityZone: req.realm } : undefined,
          TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
        }),
      ),
    );
    const inst = out.Instances?.[0];
    if (!inst?.InstanceId) throw new TransientDriverError('RunInstances answered without an instance');
    return ec2InstanceToProvider(inst);
  }

  async destroy(id: string): Promise<void> {
    await this.send('TerminateInstances', () =>
      this.client.send(new TerminateInstancesCommand({ InstanceIds: [id] })),
    );
  }

  async start(id: string): Promise<void> {
    await this.send('StartInstances', () =>
      this.client.send(new StartInstancesCommand({ InstanceIds: [id] })),
    );
  }

  async stop(id: string): Promise<void> {
    await this.send('StopInstances', () => this.client.send(new StopInstancesCommand({ InstanceIds: [id] })));
  }

  async reboot(id: string): Promise<void> {
    await this.send('RebootInstances', () =>
      this.client.send(new RebootInstancesCommand({ InstanceIds: [id] })),
    );
  }

  async get(id: string): Promise<ProviderInstance | null> {
    try {
      return (await this.describe(undefined, [id]))[0] ?? null;
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /** Every instance: EC2 cannot filter by change time (capabilities.listSince is false), so `since` is ignored. */
  async list(_options: ListInstancesOptions = {}): Promise<ProviderInstance[]> {
    return this.describe();
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async describe(Filters?: Filter[], InstanceIds?: string[]): Promise<ProviderInstance[]> {
    const out: ProviderInstance[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.send('DescribeInstances', () =>
        this.client.send(
          new DescribeInstancesCommand({
            Filters,
            InstanceIds,
            MaxResults: InstanceIds ? undefined : this.config.listPageSize,
            NextToken,
          }),
        ),
      );
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) out.push(ec2InstanceToProvider(i));
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    return out;
  }

  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw ec2Error(e, what);
    }
  }
}
