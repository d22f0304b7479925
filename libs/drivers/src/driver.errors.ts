/** Why a driver call failed, as far as the caller's next move is concerned. */
export type DriverErrorKind = 'quota' | 'not-found' | 'conflict' | 'rate-limited' | 'transient' | 'permanent';

export interface DriverErrorOptions {
  /** For `rate-limited` (and where the provider says so): how long to wait before retrying. */
  retryAfterMs?: number;
  /** The provider's HTTP status, when there was one. */
  status?: number;
  /** The provider's own error code (e.g. `InstanceLimitExceeded`). */
  code?: string;
  cause?: unknown;
}

/** Every failure of a `CloudDriver` or `LoadBalancerDriver` call. */
export class DriverError extends Error {
  readonly retryAfterMs?: number;
  readonly status?: number;
  readonly code?: string;

  constructor(
    readonly kind: DriverErrorKind,
    message: string,
    options: DriverErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.code = options.code;
  }

  /** Whether the same call may succeed later (rate-limited or transient). */
  get retryable(): boolean {
    return this.kind === 'rate-limited' || this.kind === 'transient';
  }
}

/** The account is out of quota (instances, cores, RAM…): another account may still have room. */
export class QuotaExceededError extends DriverError {
  constructor(message: string, options: DriverErrorOptions = {}) {
    super('quota', message, options);
  }
}

/** The provider does not know the object. */
export class NotFoundError extends DriverError {
  constructor(message: string, options: DriverErrorOptions = {}) {
    super('not-found', message, options);
  }
}

/** The object is in a state that refuses the operation (e.g. start while building). */
export class ConflictError extends DriverError {
  constructor(message: string, options: DriverErrorOptions = {}) {
    super('conflict', message, options);
  }
}

/** The provider throttled the call; retry after `retryAfterMs`. */
export class RateLimitedError extends DriverError {
  declare readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: DriverErrorOptions = {}) {
    super('rate-limited', message, { ...options, retryAfterMs });
  }
}

/** A failure that may pass (5xx, network, timeout). */
export class TransientDriverError extends DriverError {
  constructor(message: string, options: DriverErrorOptions = {}) {
    super('transient', message, options);
  }
}

/** A failure that will not pass by retrying (bad request, bad credentials, bad config). */
export class PermanentDriverError extends DriverError {
  constructor(message: string, options: DriverErrorOptions = {}) {
    super('permanent', message, options);
  }
}

export function isDriverError(e: unknown): e is DriverError {
  return e instanceof DriverError;
}

/**
 * Parses an HTTP `Retry-After` header (delta seconds or an HTTP date) into milliseconds;
 * `fallbackMs` when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  fallbackMs: number,
  now = Date.now(),
): number {
  if (!value) return fallbackMs;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? fallbackMs : Math.max(0, at - now);
}
