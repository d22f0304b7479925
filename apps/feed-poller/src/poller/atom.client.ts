import { Injectable, Inject } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { parseAddressAllowList, ResolvedTarget, resolveTarget } from '@nephele/service-kit';
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

/** What `lastError` and `nephele.feed.error` say when no HTTP answer came (see Note [Feed targets]). */
export const UNREACHABLE = 'unreachable';

// Note [Feed targets]
// Feed URLs are user input, fetched from inside the control plane: without a guard a feed could
// read the cloud metadata service (169.254.169.254), the database, or scan ports. Each request
// resolves the host, refuses loopback, link-local and private addresses (the SSRF guard shared with
// customer webhooks, @nephele/service-kit) unless the admin allow-list FEED_POLLER_ALLOW_PRIVATE
// names them, and connects to the checked address. Redirects are not followed; paging links must
// stay on the feed's origin and are checked again. Whatever went wrong before an HTTP answer
// (refused address, DNS, closed port, timeout) is reported as "unreachable", the same for all, so
// `lastError` cannot tell an open port from a closed one; an answer is reported by its status.

/**
 * Reads feed pages over HTTP with a timeout and a byte limit (the body is cut off, never
 * buffered whole, when it grows past the limit). Redirects are not followed.
 */
@Injectable()
export class AtomClient {
  private readonly allow: BlockList | undefined;
  constructor(@Inject(FEED_POLLER_CONFIG) private readonly config: FeedPollerConfig) {
    this.allow = parseAddressAllowList(config.allowPrivate);
  }

  /** The page's body, at most FEED_POLLER_MAX_RESPONSE_BYTES. */
  async get(url: string, credentials?: FeedCredentials, signal?: AbortSignal): Promise<string> {
    let target: ResolvedTarget;
    try {
      target = await resolveTarget(url, this.allow);
    } catch {
      throw new FeedProblem(UNREACHABLE);
    }
    const max = this.config.maxResponseBytes;
    const timeoutMs = this.config.httpTimeoutMs;
    const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<string>((resolve, reject) => {
      let answered = false;
      const fail = (e: FeedProblem) => {
        req.destroy();
        reject(e);
      };
      const req = request(
        target.url,
        {
          method: 'GET',
          headers: {
            accept: 'application/atom+xml, application/xml;q=0.9',
            'user-agent': 'nephele-feed-poller',
            ...authorization(credentials),
          },
          servername: isIP(target.url.hostname) ? undefined : target.url.hostname,
          // Connect to the address that was checked, never to a second DNS answer.
          lookup: (_host, opts, cb) => {
            if ((opts as { all?: boolean }).all) {
              (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
                { address: target.address, family: target.family },
              ]);
            } else cb(null, target.address, target.family);
          },
          timeout: timeoutMs,
          signal,
        },
        (res) => {
          answered = true;
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            res.resume();
            const what = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
            return fail(new FeedProblem(`HTTP ${status}${what}`, status));
          }
          const declared = Number(res.headers['content-length'] ?? NaN);
          if (declared > max) {
            res.resume();
            return fail(new FeedProblem(`HTTP 200: response over the limit of ${max} bytes`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.byteLength;
            if (size > max) return fail(new FeedProblem(`HTTP 200: response over the limit of ${max} bytes`));
            chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', () => fail(new FeedProblem('HTTP 200: the response was cut off')));
        },
      );
      req.on('timeout', () =>
        fail(new FeedProblem(answered ? `HTTP 200: no complete answer within ${timeoutMs} ms` : UNREACHABLE)),
      );
      req.on('error', () =>
        reject(new FeedProblem(answered ? 'HTTP 200: the response was cut off' : UNREACHABLE)),
      );
      req.end();
    });
  }
}
