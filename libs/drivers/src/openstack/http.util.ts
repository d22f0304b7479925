import {
  ConflictError,
  DriverError,
  NotFoundError,
  PermanentDriverError,
  QuotaExceededError,
  RateLimitedError,
  TransientDriverError,
  parseRetryAfter,
} from '../driver.errors';

/** fetch, with network failures and timeouts as `transient` DriverErrors. */
export async function fetchOrTransient(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    const reason = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
    throw new TransientDriverError(`${init.method ?? 'GET'} ${url} failed: ${reason}`, { cause: e });
  }
}

/**
 * The message of an OpenStack error body: Nova wraps it as `{"<fault>": {"code", "message"}}`
 * (itemNotFound, forbidden, conflictingRequest, overLimit, …), Keystone as `{"error": {…}}`,
 * Glance often answers plain text.
 */
export function openStackErrorMessage(text: string): { message: string; fault?: string } {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    for (const [fault, v] of Object.entries(body)) {
      if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') {
        return { message: (v as { message: string }).message, fault };
      }
    }
    if (typeof body['message'] === 'string') return { message: body['message'] };
  } catch {
    // not JSON
  }
  return { message: text.trim().slice(0, 500) };
}

/**
 * Maps an HTTP error answer to the typed errors: 403 mentioning quota and 413 → quota, 404 →
 * not-found, 409 → conflict, 429 → rate-limited (Retry-After), 5xx → transient, others → permanent.
 */
export function errorFromResponse(status: number, text: string, headers: Headers, what: string): DriverError {
  const { message, fault } = openStackErrorMessage(text);
  const msg = `${what}: HTTP ${status}${message ? ` ${message}` : ''}`;
  const opts = { status, code: fault };
  const retryAfter = headers.get('retry-after');
  if (status === 413 || (status === 403 && /quota/i.test(message))) {
    return new QuotaExceededError(msg, {
      ...opts,
      retryAfterMs: retryAfter ? parseRetryAfter(retryAfter, 0) : undefined,
    });
  }
  if (status === 404) return new NotFoundError(msg, opts);
  if (status === 409)
    return /quota/i.test(message) ? new QuotaExceededError(msg, opts) : new ConflictError(msg, opts);
  if (status === 429) return new RateLimitedError(msg, parseRetryAfter(retryAfter, 1_000), opts);
  if (status >= 500)
    return new TransientDriverError(msg, {
      ...opts,
      retryAfterMs: retryAfter ? parseRetryAfter(retryAfter, 0) : undefined,
    });
  return new PermanentDriverError(msg, opts);
}
