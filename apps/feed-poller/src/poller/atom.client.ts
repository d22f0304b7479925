import { Injectable, Inject } from '@nestjs/common';
import { FEED_POLLER_CONFIG } from '../feed-poller.tokens';
import { FeedPollerConfig } from '../config/env';
import { FeedCredentials } from '../feeds/feed.types';
import { FeedProblem } from './feed-problem';

/** A URL for logs and events: no userinfo, no query values that could carry secrets beyond markers. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

/** `base` with AtomHopper's paging parameters set (marker, direction, limit). */
export function pageUrl(
  base: string,
  params: { marker?: string; direction?: 'forward' | 'backward'; limit: number },
): string {
  const u = new URL(base);
  if (params.marker !== undefined) u.searchParams.set('marker', params.marker);
  else u.searchParams.delete('marker');
  if (params.direction !== undefined) u.searchParams.set('direction', params.direction);
  else u.searchParams.delete('direction');
  u.searchParams.set('limit', String(params.limit));
  return u.toString();
}

function authorization(c: FeedCredentials | undefined): Record<string, string> {
  if (!c) return {};
  if (c.type === 'basic') {
    return { authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` };
  }
  return { authorization: `Bearer ${c.token}` };
}

/**
 * Reads feed pages over HTTP with a timeout and a byte limit (the body is cut off, never
 * buffered whole, when it grows past the limit). Redirects are not followed.
 */
@Injectable()
export class AtomClient {
  constructor(@Inject(FEED_POLLER_CONFIG) private readonly config: FeedPollerConfig) {}

  async get(url: string, credentials?: FeedCredentials, signal?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.config.httpTimeoutMs);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: 'application/atom+xml, application/xml;q=0.9', ...authorization(credentials) },
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      const err = e as Error;
      if (timeout.aborted) throw new FeedProblem(`no answer within ${this.config.httpTimeoutMs} ms`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new FeedProblem(`request failed: ${cause?.code ?? cause?.message ?? err.message}`);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      const what = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
      throw new FeedProblem(`HTTP ${res.status}${what}`, res.status);
    }
    const max = this.config.maxResponseBytes;
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > max) {
      await res.body?.cancel().catch(() => undefined);
      throw new FeedProblem(`response of ${declared} bytes is over the limit of ${max} bytes`);
    }
    if (!res.body) return '';
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > max) {
          await reader.cancel().catch(() => undefined);
          throw new FeedProblem(`response is over the limit of ${max} bytes`);
        }
        chunks.push(Buffer.from(value));
      }
    } catch (e) {
      if (e instanceof FeedProblem) throw e;
      if (timeout.aborted) throw new FeedProblem(`no complete answer within ${this.config.httpTimeoutMs} ms`);
      throw new FeedProblem(`reading the response failed: ${(e as Error).message}`);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
