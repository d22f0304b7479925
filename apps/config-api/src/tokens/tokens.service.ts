import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { LoggerLike } from '@nephele/bus';
import { AppLogger } from '@nephele/observability';
import {
  decodeCursor,
  encodeCursor,
  LOGGER,
  Page,
  parseLimit,
  Principal,
  ProblemException,
  Role,
  sha256Hex,
  TOKEN_REVOCATIONS,
  TokenRevocations,
  TokenVerifier,
} from '@nephele/service-kit';
import { ChangeRecorder } from '../common/change-recorder';
import { mapDbError } from '../common/db-errors.util';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceSpec } from '../common/resource.types';
import { isUuid, noSuchProject } from '../common/scope.util';
import { ConfigApiConfig } from '../config/env';
import { CONFIG_API_CONFIG } from '../config-api.tokens';
import { CreateTokenDto, ListTokensQueryDto } from './dto/token.dto';
import { TokenRow, TokensRepository } from './tokens.repository';

/** `nph_` + 32 random bytes, base64url: 256 bits, recognisable in secret scanners. */
const TOKEN_FORMAT = /^nph_[A-Za-z0-9_-]{43}$/;

export function newTokenValue(): string {
  return `nph_${randomBytes(32).toString('base64url')}`;
}

export interface TokenView {
  id: string;
  name: string;
  role: Role;
  project: string | null;
  createdBy: string;
  revokedAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const SPEC: ResourceSpec = {
  resource: 'tokens',
  label: 'token',
  table: 'tokens',
  scope: 'project',
  columns: [],
  conflicts: { tokens_hash_key: 'token collision; try again' },
};

// Note [Tokens]
// A token is shown once, at creation; only its SHA-256 is stored (a 256-bit random value needs no
// slow hash: there is nothing to brute-force). Revoking keeps the row (the audit trail names it)
// and takes effect at once here and, through the revocation event, in the verdict caches of the
// other services, which ask over the bus (TOKEN_INTROSPECT); see Note [Revocation] in service-kit. Admin tokens have no project; member and viewer tokens have
// exactly one. A member may mint member and viewer tokens for its own project, never admin ones.
@Injectable()
export class TokensService implements TokenVerifier {
  private readonly log: LoggerLike;

  constructor(
    private readonly repo: ResourceRepository,
    private readonly tokens: TokensRepository,
    private readonly changes: ChangeRecorder,
    @Inject(CONFIG_API_CONFIG) private readonly config: ConfigApiConfig,
    @Inject(LOGGER) log: AppLogger,
    @Optional() @Inject(TOKEN_REVOCATIONS) private readonly revocations?: TokenRevocations,
  ) {
    this.log = log;
  }

  private view(r: TokenRow): TokenView {
    return {
      id: r.id,
      name: r.name,
      role: r.role,
      project: r.project_id,
      createdBy: r.created_by,
      revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
      version: r.version,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
    };
  }

  private visible(p: Principal, r: TokenRow): boolean {
    return p.role === 'admin' || (r.project_id !== null && r.project_id === p.project);
  }

  /** Resolves a bearer token against the database: the principal, or null if unknown or revoked. */
  async verify(token: string): Promise<Principal | null> {
    if (!TOKEN_FORMAT.test(token)) return null;
    const r = await this.tokens.liveByHash(sha256Hex(token));
    if (!r) return null;
    return r.project_id
      ? { tokenId: r.id, role: r.role, project: r.project_id }
      : { tokenId: r.id, role: r.role };
  }

  async create(
    p: Principal,
    dto: CreateTokenDto,
    createdBy = p.tokenId,
  ): Promise<TokenView & { token: string }> {
    let project: string | null;
    if (dto.role === 'admin') {
      if (p.role !== 'admin')
        throw new ProblemException(403, 'only an admin token can create an admin token');
      if (dto.project !== undefined) {
        throw ProblemException.badRequest('validation failed', [
          { field: 'project', message: 'admin tokens act in every project and take no project' },
        ]);
      }
      project = null;
    } else if (p.role === 'admin') {
      if (!dto.project) {
        throw ProblemException.badRequest('validation failed', [
          { field: 'project', message: 'a member or viewer token needs its project' },
        ]);
      }
      project = dto.project;
    } else {
      if (dto.project !== undefined && dto.project !== p.project) throw noSuchProject();
      project = p.project!;
    }
    const token = newTokenValue();
    const id = randomUUID();
    try {
      const view = await this.tokens.transaction(async (tx) => {
        if (project && !(await this.repo.exists(tx, 'projects', project))) throw noSuchProject();
        const row = await this.tokens.insert(tx, {
          id,
          name: dto.name,
          role: dto.role,
          project,
          hash: sha256Hex(token),
          createdBy,
        });
        const v = this.view(row);
        await this.changes.record(tx, {
          actor: createdBy,
          resource: 'tokens',
          action: 'created',
          id,
          project,
          version: v.version,
          after: { ...v },
        });
        return v;
      });
      this.changes.committed();
      return { ...view, token };
    } catch (e) {
      mapDbError(e, SPEC, 'write');
    }
  }

  async list(p: Principal, q: ListTokensQueryDto): Promise<Page<TokenView>> {
    const limit = parseLimit(q.limit, 100, 1000);
    const after = decodeCursor(
      q.cursor,
      (v): v is { s: string } =>
        typeof v === 'object' && v !== null && /^\d{1,19}$/.test(String((v as { s?: unknown }).s)),
    );
    // A scoped token sees its own project only: asking for another one finds nothing.
    if (p.role !== 'admin' && q.project && q.project !== p.project) return { items: [], nextCursor: null };
    const rows = await this.tokens.listLive({
      project: p.role !== 'admin' ? (p.project ?? null) : q.project || undefined,
      role: q.role,
      name: q.name,
      afterSeq: after?.s,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => this.view(r)),
      nextCursor: rows.length > limit ? encodeCursor({ s: page[page.length - 1]!.seq }) : null,
    };
  }

  async get(p: Principal, id: string): Promise<TokenView> {
    if (!isUuid(id)) throw ProblemException.notFound(`token ${id}`);
    const row = await this.tokens.byId(id);
    if (!row || !this.visible(p, row)) throw ProblemException.notFound(`token ${id}`);
    return this.view(row);
  }

  /** Revokes a token (idempotent). */
  async revoke(p: Principal, id: string): Promise<void> {
    if (!isUuid(id)) throw ProblemException.notFound(`token ${id}`);
    const changed = await this.tokens.transaction(async (tx) => {
      const r = await this.tokens.byId(id, tx, true);
      if (!r || !this.visible(p, r)) throw ProblemException.notFound(`token ${id}`);
      if (r.revoked_at) return false;
      await this.tokens.markRevoked(tx, id);
      const before = this.view(r);
      const after = this.view((await this.tokens.byId(id, tx))!);
      await this.changes.record(tx, {
        actor: p.tokenId,
        resource: 'tokens',
        action: 'deleted',
        auditAction: 'revoked',
        id,
        project: r.project_id,
        version: after.version,
        before: { ...before },
        after: { ...after },
      });
      return true;
    });
    if (changed) {
      this.changes.committed();
      // This process at once; the others through the event (see Note [Revocation]).
      this.revocations?.revoked(id);
    }
  }

  /**
   * First start without NEPHELE_BOOTSTRAP_TOKEN: creates an admin token and prints it once on
   * stderr (not through the logger, which would keep it in log storage). "First" = no token was
   * ever created; an advisory lock keeps concurrent replicas from minting two.
   */
  async ensureInitialAdmin(): Promise<void> {
    if (this.config.bootstrapToken) return;
    const created = await this.tokens.transaction(async (tx) => {
      await this.tokens.lockInitialAdmin(tx);
      if ((await this.tokens.countAll(tx)) > 0) return undefined;
      const token = newTokenValue();
      const id = randomUUID();
      await this.tokens.insert(tx, {
        id,
        name: 'initial-admin',
        role: 'admin',
        project: null,
        hash: sha256Hex(token),
        createdBy: 'system',
      });
      await this.changes.record(tx, {
        actor: 'system',
        resource: 'tokens',
        action: 'created',
        id,
        after: { id, name: 'initial-admin', role: 'admin', project: null },
      });
      return { id, token };
    });
    if (!created) return;
    this.changes.committed();
    process.stderr.write(
      `\nNephele: no NEPHELE_BOOTSTRAP_TOKEN was set, so an admin API token was created (id ${created.id}).\n` +
        `It is shown this once; store it now:\n\n    ${created.token}\n\n`,
    );
    this.log.warn({ tokenId: created.id }, 'created the initial admin token (printed once on stderr)');
  }
}
