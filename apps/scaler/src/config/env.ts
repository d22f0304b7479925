import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { createLoadBalancerDriver } from '@nephele/drivers';
import { loadEnv, ServiceEnv, serviceConfig, ServiceConfig } from '@nephele/service-kit';

export class ScalerEnv extends ServiceEnv {
  @IsInt() @Min(0) @Max(65535) PORT: number = 8086;
  /** Seals the HMAC secrets of customer webhooks at rest (AES-256-GCM envelope). */
  @IsOptional() @IsString() NEPHELE_MASTER_KEY?: string = undefined;
  /** Upper bound of a group's maxEntities. */
  @IsInt() @Min(1) @Max(100_000) SCALER_MAX_ENTITIES_LIMIT: number = 1000;
  /** Pool used by launch configs that name none. */
  @IsString() SCALER_DEFAULT_POOL: string = 'default';
  /** How often a replica looks for groups to converge when nobody nudged it. */
  @IsInt() @Min(10) SCALER_CONVERGE_POLL_MS: number = 500;
  /** Requeue-after of a pass whose verdict is `retry`. */
  @IsInt() @Min(10) SCALER_CONVERGE_RETRY_MS: number = 2000;
  /** Requeue-after of a pass whose verdict is `limited-retry`. */
  @IsInt() @Min(10) SCALER_CONVERGE_LIMITED_RETRY_MS: number = 10_000;
  /** A replica holds a group for at most this long per pass (another replica takes over after). */
  @IsInt() @Min(1000) SCALER_CONVERGE_LEASE_MS: number = 60_000;
  /** Consecutive launch failures after which the group goes to ERROR and stops launching. */
  @IsInt() @Min(1) SCALER_MAX_LAUNCH_FAILURES: number = 3;
  /** Poll period of the schedule loop (it also wakes up at the next firing). */
  @IsInt() @Min(10) SCALER_SCHEDULE_POLL_MS: number = 1000;
  /**
   * Firings due within this time are prepared ahead and commit at their time (rows locked
   * meanwhile; Note [Staged firings]); 0: fired only once due. Off on the embedded database.
   */
  @IsInt() @Min(0) SCALER_SCHEDULE_LEAD_MS: number = 2000;
  /** A firing missed during downtime still runs when it is at most this old. */
  @IsInt() @Min(0) SCALER_SCHEDULE_GRACE_MS: number = 300_000;
  /** How often target-tracking policies are evaluated (also soon after a metric arrives). */
  @IsInt() @Min(50) SCALER_TARGET_EVAL_MS: number = 15_000;
  /** An observation older than this decides nothing (a silent source does not scale a group). */
  @IsInt() @Min(1000) SCALER_METRIC_MAX_AGE_MS: number = 180_000;
  /** Token bucket of one capability URL: burst and refill per second. */
  @IsInt() @Min(1) SCALER_WEBHOOK_BURST: number = 10;
  @IsInt() @Min(1) SCALER_WEBHOOK_RATE: number = 1;
  /** Token bucket of every capability URL together. */
  @IsInt() @Min(1) SCALER_WEBHOOK_GLOBAL_BURST: number = 500;
  @IsInt() @Min(1) SCALER_WEBHOOK_GLOBAL_RATE: number = 200;
  /** Bearer token of the Alertmanager receiver (unset: the receiver answers 503). */
  @IsOptional() @IsString() SCALER_ALERTMANAGER_TOKEN?: string = undefined;
  /** Customer webhooks may target loopback, link-local and private addresses (tests, labs). */
  @IsBoolean() SCALER_WEBHOOK_ALLOW_PRIVATE: boolean = false;
  /** A customer webhook delivery is retried with exponential backoff for at most this long. */
  @IsInt() @Min(0) SCALER_WEBHOOK_RETRY_FOR_MS: number = 3_600_000;
  @IsInt() @Min(10) SCALER_WEBHOOK_RETRY_BASE_MS: number = 1000;
  @IsInt() @Min(100) SCALER_WEBHOOK_TIMEOUT_MS: number = 10_000;
  /**
   * Load balancers that launch configs may name: a JSON array of
   * `{id, kind: "haproxy", socket | host+port, backend?}`.
   */
  @IsString() SCALER_LOAD_BALANCERS: string = '[]';
}

export interface LoadBalancerConfig {
  id: string;
  /** Driver kind of @nephele/drivers' createLoadBalancerDriver (`haproxy`). */
  kind: string;
  /** Default backend (pool) when a launch config names none. */
  backend?: string;
  /** The driver's own config (haproxy: `{socketPath}` or `{host, port}`, timeouts). */
  driver: Record<string, unknown>;
}

export interface ScalerConfig extends ServiceConfig {
  masterKey?: string;
  maxEntitiesLimit: number;
  defaultPool: string;
  target: { evalMs: number; maxAgeMs: number };
  converge: {
    pollMs: number;
    retryMs: number;
    limitedRetryMs: number;
    leaseMs: number;
    maxLaunchFailures: number;
  };
  schedule: { pollMs: number; graceMs: number; leadMs: number };
  rateLimit: { burst: number; perSecond: number; globalBurst: number; globalPerSecond: number };
  alertmanagerToken?: string;
  webhooks: { allowPrivate: boolean; retryForMs: number; retryBaseMs: number; timeoutMs: number };
  loadBalancers: LoadBalancerConfig[];
}

function parseLoadBalancers(raw: string): LoadBalancerConfig[] {
  const bad = (why: string) => new Error(`invalid environment:\n  SCALER_LOAD_BALANCERS: ${why}`);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v)) throw bad('must be a JSON array of {id, kind, backend?, ...driver config}');
  const ids = new Set<string>();
  return v.map((x: unknown, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad(`[${i}] must be an object`);
    const { id, kind, backend, ...driver } = x as Record<string, unknown>;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(id)) throw bad(`[${i}].id must be a name`);
    if (ids.has(id)) throw bad(`[${i}].id ${id} is used twice`);
    ids.add(id);
    if (typeof kind !== 'string') throw bad(`[${i}].kind must be a driver kind (haproxy)`);
    if (backend !== undefined && typeof backend !== 'string') throw bad(`[${i}].backend must be a string`);
    try {
      createLoadBalancerDriver(kind, driver); // checks the driver config; no I/O
    } catch (e) {
      throw bad(`[${i}]: ${(e as Error).message}`);
    }
    return { id, kind, backend, driver };
  });
}

export function loadScalerConfig(env: NodeJS.ProcessEnv = process.env): ScalerConfig {
  const e = loadEnv(ScalerEnv, env);
  return {
    ...serviceConfig(e),
    masterKey: e.NEPHELE_MASTER_KEY,
    maxEntitiesLimit: e.SCALER_MAX_ENTITIES_LIMIT,
    defaultPool: e.SCALER_DEFAULT_POOL,
    converge: {
      pollMs: e.SCALER_CONVERGE_POLL_MS,
      retryMs: e.SCALER_CONVERGE_RETRY_MS,
      limitedRetryMs: e.SCALER_CONVERGE_LIMITED_RETRY_MS,
      leaseMs: e.SCALER_CONVERGE_LEASE_MS,
      maxLaunchFailures: e.SCALER_MAX_LAUNCH_FAILURES,
    },
    schedule: {
      pollMs: e.SCALER_SCHEDULE_POLL_MS,
      graceMs: e.SCALER_SCHEDULE_GRACE_MS,
      leadMs: e.SCALER_SCHEDULE_LEAD_MS,
    },
    target: { evalMs: e.SCALER_TARGET_EVAL_MS, maxAgeMs: e.SCALER_METRIC_MAX_AGE_MS },
    rateLimit: {
      burst: e.SCALER_WEBHOOK_BURST,
      perSecond: e.SCALER_WEBHOOK_RATE,
      globalBurst: e.SCALER_WEBHOOK_GLOBAL_BURST,
      globalPerSecond: e.SCALER_WEBHOOK_GLOBAL_RATE,
    },
    alertmanagerToken: e.SCALER_ALERTMANAGER_TOKEN,
    webhooks: {
      allowPrivate: e.SCALER_WEBHOOK_ALLOW_PRIVATE,
      retryForMs: e.SCALER_WEBHOOK_RETRY_FOR_MS,
      retryBaseMs: e.SCALER_WEBHOOK_RETRY_BASE_MS,
      timeoutMs: e.SCALER_WEBHOOK_TIMEOUT_MS,
    },
    loadBalancers: parseLoadBalancers(e.SCALER_LOAD_BALANCERS),
  };
}
