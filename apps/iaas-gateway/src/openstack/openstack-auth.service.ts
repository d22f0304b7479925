import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Bus } from '@nephele/bus';
import { BrokerConfigSnapshot, PoolConfig } from '@nephele/broker';
import { createEvent, ProjectResolve } from '@nephele/contracts';
import { BUS, Principal, TOKEN_VERIFIER, TokenVerifier } from '@nephele/service-kit';
import { BrokerConfigService } from '../config-cache/broker-config.service';
import { SERVICE } from '../gateway.tokens';
import { OsError } from './openstack.errors';

/** Keystone tokens live this long (the Nephele token inside may be revoked earlier: checked on every use). */
export const OS_TOKEN_TTL_MS = 12 * 3600_000;
const PREFIX = 'nos1.';

/** What an OpenStack token carries. */
export interface OsToken {
  /** The Nephele API token it was issued for (the caller's own credential). */
  t: string;
  /** The project it is scoped to, if any. */
  p?: string;
  /** The project's name. */
  n?: string;
  /** Expiry, epoch ms. */
  e: number;
  /** Issue time, epoch ms. */
  i: number;
  /** The auth method used (token | application_credential). */
  m: string;
}

/** A request authenticated with X-Auth-Token. */
export interface OsContext {
  principal: Principal;
  project: { id: string; name: string };
  token: OsToken;
}

// Note [OpenStack tokens]
// A Keystone token here is stateless: `nos1.` + base64url(JSON {t, p, e, i, m}) where `t` is the
// Nephele API token the client authenticated with (it already holds that secret) and `p` the
// project scope. Every use verifies `t` again through the usual token verifier (so revoking the
// Nephele token revokes its OpenStack tokens at once), checks the expiry, and checks that the
// principal may act in `p` (a member or viewer in its own project; an admin in any). Nothing is
// stored, so every gateway replica accepts every token and a restart loses nothing.
@Injectable()
export class OpenStackAuthService {
  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(BUS) private readonly bus: Bus,
    private readonly brokerConfig: BrokerConfigService,
  ) {}

  encode(t: OsToken): string {
    return PREFIX + Buffer.from(JSON.stringify(t)).toString('base64url');
  }

  decode(s: string): OsToken | undefined {
    if (!s.startsWith(PREFIX) || s.length > 4096) return undefined;
    try {
      const t = JSON.parse(Buffer.from(s.slice(PREFIX.length), 'base64url').toString()) as OsToken;
      if (typeof t.t !== 'string' || typeof t.e !== 'number') return undefined;
      return t;
    } catch {
      return undefined;
    }
  }

  /** Resolves a Nephele API token (401 when unknown). */
  async principal(token: string): Promise<Principal> {
    let p: Principal | null;
    try {
      p = await this.verifier.verify(token);
    } catch {
      throw new OsError(503, 'the token service is not reachable; try again');
    }
    if (!p) throw new OsError(401, 'The request you have made requires authentication.');
    return p;
  }

  /** A project by id or name, as the principal may see it; 401 like Keystone for one it may not. */
  async project(p: Principal, ref: { id?: string; name?: string }): Promise<{ id: string; name: string }> {
    const key = ref.id ?? ref.name;
    if (!key) throw new OsError(400, 'a project scope needs an id or a name');
    const found = await this.bus
      .request<{ id: string; name: string } | null>(
        createEvent(SERVICE, ProjectResolve.type, { project: key }),
        {
          timeoutMs: 10_000,
        },
      )
      .catch((e: Error) => {
        throw new OsError(503, `the project registry is not reachable: ${e.message}`);
      });
    const ok = found && (ref.id ? found.id === ref.id : found.name === ref.name);
    if (!ok || (p.role !== 'admin' && found.id !== p.project))
      throw new OsError(401, `No project ${key} in domain default is available to this token.`);
    return found;
  }

  /** Authenticates `X-Auth-Token` (a token from POST /auth/tokens); viewers cannot write. */
  async authenticate(req: Request, needProject = true): Promise<OsContext> {
    const raw = req.get('x-auth-token');
    const token = raw ? this.decode(raw.trim()) : undefined;
    if (!token || token.e < Date.now())
      throw new OsError(401, 'The request you have made requires authentication.');
    const principal = await this.principal(token.t);
    if (needProject && !token.p) throw new OsError(401, 'This token is not scoped to a project.');
    if (token.p && principal.role !== 'admin' && principal.project !== token.p)
      throw new OsError(401, 'The request you have made requires authentication.');
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method) && principal.role === 'viewer')
      throw new OsError(403, 'a viewer (reader) token cannot change anything');
    return { principal, project: { id: token.p ?? '', name: token.n ?? token.p ?? '' }, token };
  }

  /** The pools of a project (the regions of its catalog). */
  async pools(project: string): Promise<{ pools: PoolConfig[]; snapshot: BrokerConfigSnapshot }> {
    const snapshot = await this.brokerConfig.get().catch((e: Error) => {
      throw new OsError(503, e.message);
    });
    return { pools: snapshot.pools.filter((x) => x.project === project), snapshot };
  }

  /** The pool a regional endpoint names (its id in the URL), in the token's project. */
  async pool(ctx: OsContext, ref: string): Promise<{ pool: PoolConfig; snapshot: BrokerConfigSnapshot }> {
    const { pools, snapshot } = await this.pools(ctx.project.id);
    const pool = pools.find((x) => x.id === ref || x.name === ref);
    if (!pool) throw new OsError(404, `no region ${ref} in this project`);
    return { pool, snapshot };
  }
}

/** Keystone roles for a Nephele role. */
export function osRoles(role: Principal['role']): { id: string; name: string }[] {
  const names =
    role === 'admin' ? ['admin', 'member', 'reader'] : role === 'member' ? ['member', 'reader'] : ['reader'];
  return names.map((n) => ({ id: n, name: n }));
}

export function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host')}/openstack`;
}
