import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { ProblemException } from './problem';
import { TokenRevocations } from './revocation';
import { TOKEN_VERIFIER } from './tokens';

export type Role = 'admin' | 'member' | 'viewer';

/** Who is calling: resolved from the bearer token. */
export interface Principal {
  /** Token id (`bootstrap` for NEPHELE_BOOTSTRAP_TOKEN). Used as the actor in audit events. */
  tokenId: string;
  role: Role;
  /** The token's project; admins have none and may act in every project. */
  project?: string;
}

/** Resolves a bearer token. Returns null for an unknown, revoked or expired token. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal | null>;
}

export const IS_PUBLIC = 'nephele:public';
export const ADMIN_ONLY = 'nephele:admin-only';
/** No token needed (health, capability webhooks). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
/** Only `admin` tokens (providers, projects, tokens of other projects). */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
  return req.principal!;
});

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(sha256Hex(a));
  const y = Buffer.from(sha256Hex(b));
  return timingSafeEqual(x, y);
}

/** Verifies the bootstrap admin token locally, then defers to another verifier (the config-api). */
export class BootstrapTokenVerifier implements TokenVerifier {
  constructor(
    private readonly bootstrapToken: string | undefined,
    private readonly next?: TokenVerifier,
  ) {}

  async verify(token: string): Promise<Principal | null> {
    if (this.bootstrapToken && safeEqual(token, this.bootstrapToken))
      return { tokenId: 'bootstrap', role: 'admin' };
    return this.next ? this.next.verify(token) : null;
  }
}

/**
 * Caches verdicts briefly so a busy API does not ask the config-api on every request. `revoke(id)`
 * drops a token's verdict at once (see Note [Revocation]); a lookup that was in flight when the
 * revocation arrived is not cached.
 */
export class CachingTokenVerifier implements TokenVerifier {
  private readonly cache = new Map<string, { at: number; p: Principal | null }>();
  private generation = 0;
  constructor(
    private readonly inner: TokenVerifier,
    private readonly ttlMs = 30_000,
    private readonly negativeTtlMs = 3_000,
  ) {}

  async verify(token: string): Promise<Principal | null> {
    const key = sha256Hex(token);
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && now - hit.at < (hit.p ? this.ttlMs : this.negativeTtlMs)) return hit.p;
    const generation = this.generation;
    const p = await this.inner.verify(token);
    if (generation !== this.generation) return p;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: now, p });
    return p;
  }

  /** Forgets the verdicts of one token (by its id). */
  revoke(tokenId: string): void {
    this.generation++;
    for (const [k, v] of this.cache) if (v.p?.tokenId === tokenId) this.cache.delete(k);
  }

  /** Follows a process's revocations. */
  follow(revocations: TokenRevocations): this {
    revocations.onTokenRevoked((id) => this.revoke(id));
    return this;
  }

  forget(): void {
    this.generation++;
    this.cache.clear();
  }
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Authenticates `Authorization: Bearer <token>` and authorises by role: viewers read, members
 * read and write in their project, admins do everything. Project scoping of individual objects is
 * the services' job (another project's object answers 404).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new ProblemException(401, 'missing bearer token (Authorization: Bearer <token>)');
    let principal: Principal | null;
    try {
      principal = await this.verifier.verify(m[1]!);
    } catch {
      throw new ProblemException(503, 'the token service is not reachable; try again');
    }
    if (!principal) throw new ProblemException(401, 'invalid or revoked token');
    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) && principal.role !== 'admin') {
      throw new ProblemException(403, 'this operation needs an admin token');
    }
    if (WRITE.has(req.method) && principal.role === 'viewer') {
      throw new ProblemException(403, 'a viewer token cannot change anything');
    }
    req.principal = principal;
    return true;
  }
}

/**
 * The project a request acts in: a scoped token's own project; for an admin, the `project` given
 * (body or query) if any.
 */
export function projectScope(p: Principal, requested?: string): string | undefined {
  if (p.role === 'admin') return requested;
  return p.project;
}
