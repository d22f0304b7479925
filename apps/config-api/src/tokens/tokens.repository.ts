import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { advisoryKey, SqlRepository, Tx } from '@nephele/persistence';
import { Role } from '@nephele/service-kit';
import { CONFIG_API_DB } from '../config-api.tokens';

export interface TokenRow {
  id: string;
  seq: string;
  name: string;
  role: Role;
  project_id: string | null;
  created_by: string;
  revoked_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface TokenFilter {
  /** null matches no row (a scoped principal without a project). */
  project?: string | null;
  role?: string;
  name?: string;
  afterSeq?: string;
  limit: number;
}

export interface NewToken {
  id: string;
  name: string;
  role: Role;
  project: string | null;
  hash: string;
  createdBy: string;
}

const COLS = `id, seq::text AS seq, name, role, project_id, created_by, revoked_at, version, created_at, updated_at`;
const INITIAL_ADMIN_LOCK = advisoryKey('nephele-config-api-initial-admin');

/** The API tokens table (only hashes: see Note [Tokens]). */
@Injectable()
export class TokensRepository extends SqlRepository {
  constructor(@Inject(CONFIG_API_DB) db: DataSource) {
    super(db);
  }

  /** The live (unrevoked) token with this hash. */
  async liveByHash(hash: string): Promise<Pick<TokenRow, 'id' | 'role' | 'project_id'> | undefined> {
    const rows: Pick<TokenRow, 'id' | 'role' | 'project_id'>[] = await this.db.query(
      `SELECT id, role, project_id FROM config_api.tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    return rows[0];
  }

  async insert(tx: Tx, t: NewToken): Promise<TokenRow> {
    const rows: TokenRow[] = await tx.query(
      `INSERT INTO config_api.tokens (id, name, role, project_id, token_hash, created_by)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLS}`,
      [t.id, t.name, t.role, t.project, t.hash, t.createdBy],
    );
    return rows[0]!;
  }

  /** Live tokens matching the filter, in creation order, up to `limit` rows. */
  async listLive(f: TokenFilter): Promise<TokenRow[]> {
    const where = ['revoked_at IS NULL'];
    const params: unknown[] = [];
    const add = (cond: string, v: unknown) => {
      params.push(v);
      where.push(cond.replace('?', `$${params.length}`));
    };
    if (f.project !== undefined) add('project_id = ?', f.project);
    if (f.role) add('role = ?', f.role);
    if (f.name) add('name = ?', f.name);
    if (f.afterSeq) add('seq > ?::bigint', f.afterSeq);
    params.push(f.limit);
    return this.db.query(
      `SELECT ${COLS} FROM config_api.tokens WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
  }

  async byId(id: string, tx?: Tx, lock = false): Promise<TokenRow | undefined> {
    const rows: TokenRow[] = await (tx ?? this.db).query(
      `SELECT ${COLS} FROM config_api.tokens WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0];
  }

  async markRevoked(tx: Tx, id: string): Promise<void> {
    await tx.query(
      `UPDATE config_api.tokens SET revoked_at = now(), updated_at = now(), version = version + 1 WHERE id = $1`,
      [id],
    );
  }

  /** Serialises the first-start check across replicas (released at commit). */
  async lockInitialAdmin(tx: Tx): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(${INITIAL_ADMIN_LOCK})`);
  }

  /** How many tokens were ever created (revoked ones included). */
  async countAll(tx: Tx): Promise<number> {
    const rows: { n: number }[] = await tx.query(`SELECT count(*)::int AS n FROM config_api.tokens`);
    return rows[0]!.n;
  }
}
