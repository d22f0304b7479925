import type { Clock } from '../cloud-driver.types';
import { DriverError, PermanentDriverError } from '../driver.errors';
import { errorFromResponse, fetchOrTransient } from './http.util';

// Note [Keystone tokens]
// One password authentication (POST /v3/auth/tokens, project-scoped) gives a token (response
// header X-Subject-Token), its expiry (token.expires_at) and the service catalog (token.catalog:
// services by type, each with endpoints by interface and region). The token is cached and
// renewed `renewMarginMs` before it expires (the margin shrinks to a third of the lifetime for
// short-lived tokens); concurrent callers share one authentication in flight. A 401 from a service
// means the token was revoked early: the caller invalidates it and retries once.

export interface KeystoneAuthOptions {
  /** Identity endpoint, with or without the trailing /v3. */
  authUrl: string;
  username?: string;
  userId?: string;
  password: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  renewMarginMs: number;
  requestTimeoutMs: number;
}

export interface CatalogEndpoint {
  interface: string;
  region?: string;
  region_id?: string;
  url: string;
}

export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

export interface KeystoneToken {
  value: string;
  expiresAt: number;
  renewAt: number;
  catalog: CatalogService[];
}

/** A cached, self-renewing Keystone v3 token (see Note [Keystone tokens]). */
export class KeystoneSession {
  private current?: KeystoneToken;
  private inflight?: Promise<KeystoneToken>;
  /** How many times this session authenticated (for tests and metrics). */
  authentications = 0;

  constructor(
    private readonly opts: KeystoneAuthOptions,
    private readonly clock: Clock,
  ) {}

  /** A valid token, authenticating when there is none or it is about to expire. */
  async token(): Promise<KeystoneToken> {
    if (this.current && this.clock.now() < this.current.renewAt) return this.current;
    this.inflight ??= this.authenticate().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Drops the cached token if it is still `value` (a 401 said it is no longer good). */
  invalidate(value: string): void {
    if (this.current?.value === value) this.current = undefined;
  }

  /** The URL of a service in the catalog, by type, interface and (optional) region. */
  static endpoint(catalog: CatalogService[], type: string, iface: string, region?: string): string {
    const service = catalog.find((s) => s.type === type);
    const ep = service?.endpoints.find(
      (e) => e.interface === iface && (region === undefined || e.region_id === region || e.region === region),
    );
    if (!ep) {
      throw new PermanentDriverError(
        `no ${iface} ${type} endpoint${region ? ` in region ${region}` : ''} in the service catalog`,
        { code: 'EndpointNotFound' },
      );
    }
    return ep.url.replace(/\/+$/, '');
  }

  private async authenticate(): Promise<KeystoneToken> {
    const o = this.opts;
    const user = o.userId
      ? { id: o.userId, password: o.password }
      : {
          name: o.username,
          domain: o.userDomainId ? { id: o.userDomainId } : { name: o.userDomainName ?? 'Default' },
          password: o.password,
        };
    const project = o.projectId
      ? { id: o.projectId }
      : {
          name: o.projectName,
          domain: o.projectDomainId ? { id: o.projectDomainId } : { name: o.projectDomainName ?? 'Default' },
        };
    const body = { auth: { identity: { methods: ['password'], password: { user } }, scope: { project } } };
    const url = `${o.authUrl.replace(/\/+$/, '').replace(/\/v3$/, '')}/v3/auth/tokens`;
    const res = await fetchOrTransient(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(o.requestTimeoutMs),
    });
    const text = await res.text();
    if (!res.ok) {
      const err = errorFromResponse(res.status, text, res.headers, 'keystone authentication');
      // Bad credentials are not a missing object: the account is misconfigured.
      if (res.status === 401 || res.status === 404)
        throw new PermanentDriverError(err.message, { status: res.status, code: 'AuthenticationFailed' });
      throw err;
    }
    const value = res.headers.get('x-subject-token');
    let parsed: { token?: { expires_at?: string; catalog?: CatalogService[] } };
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new DriverError('transient', 'keystone answered with invalid JSON', {
        status: res.status,
        cause: e,
      });
    }
    const expiresAt = Date.parse(parsed.token?.expires_at ?? '');
    if (!value || Number.isNaN(expiresAt))
      throw new PermanentDriverError('keystone answered without X-Subject-Token or token.expires_at');
    const now = this.clock.now();
    const margin = Math.min(this.opts.renewMarginMs, Math.max(0, (expiresAt - now) / 3));
    this.authentications++;
    this.current = { value, expiresAt, renewAt: expiresAt - margin, catalog: parsed.token?.catalog ?? [] };
    return this.current;
  }
}
