import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, SqlRepository } from '@nephele/persistence';
import { CONFIG_API_DB } from '../config-api.tokens';
import { CONFIG_API_SCHEMA } from '../data-source';
import { ColumnKind, ResourceSpec, Row } from './resource.types';

const S = CONFIG_API_SCHEMA;

export type { Db };

export interface ListOptions {
  project?: string;
  parentId?: string;
  filters: { col: string; value: unknown }[];
  afterSeq?: string;
  limit?: number;
}

export function toParam(kind: ColumnKind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  return kind === 'json' ? JSON.stringify(v) : v;
}

/** The I/O of every configuration resource: one table per resource, described by its spec. */
@Injectable()
export class ResourceRepository extends SqlRepository {
  constructor(@Inject(CONFIG_API_DB) db: DataSource) {
    super(db);
  }

  /** The pool, for reads outside a transaction (query only: transactions go through `transaction`). */
  get pool(): Db {
    return this.db;
  }

  private selectList(spec: ResourceSpec): string {
    const cols = ['t.id', 't.seq::text AS seq', 't.version', 't.created_at', 't.updated_at'];
    if (spec.scope === 'project') cols.push('t.project_id');
    if (spec.parent) cols.push(`t.${spec.parent.col}`);
    for (const c of spec.columns) cols.push(`t.${c.col}`);
    for (const c of spec.computed ?? []) cols.push(`(${c.sql}) AS "${c.api}"`);
    return cols.join(', ');
  }

  async find(db: Db, spec: ResourceSpec, id: string, lock = false): Promise<Row | undefined> {
    const rows: Row[] = await db.query(
      `SELECT ${this.selectList(spec)} FROM ${S}.${spec.table} t WHERE t.id = $1${lock ? ' FOR UPDATE OF t' : ''}`,
      [id],
    );
    return rows[0];
  }

  async list(db: Db, spec: ResourceSpec, o: ListOptions): Promise<Row[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (o.project !== undefined)
      where.push(`t.${spec.scope === 'self' ? 'id' : 'project_id'} = ${p(o.project)}`);
    if (o.parentId !== undefined && spec.parent) where.push(`t.${spec.parent.col} = ${p(o.parentId)}`);
    for (const f of o.filters) where.push(`t.${f.col} = ${p(f.value)}`);
    if (o.afterSeq !== undefined) where.push(`t.seq > ${p(o.afterSeq)}::bigint`);
    const limit = o.limit !== undefined ? ` LIMIT ${p(o.limit)}` : '';
    return db.query(
      `SELECT ${this.selectList(spec)} FROM ${S}.${spec.table} t
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.seq${limit}`,
      params,
    );
  }

  async insert(db: Db, spec: ResourceSpec, values: Record<string, unknown>): Promise<void> {
    const cols = Object.keys(values);
    await db.query(
      `INSERT INTO ${S}.${spec.table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(values),
    );
  }

  async update(db: Db, spec: ResourceSpec, id: string, values: Record<string, unknown>): Promise<void> {
    const cols = Object.keys(values);
    const sets = cols.map((c, i) => `${c} = $${i + 2}`);
    await db.query(
      `UPDATE ${S}.${spec.table} SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')} WHERE id = $1`,
      [id, ...Object.values(values)],
    );
  }

  async delete(db: Db, spec: ResourceSpec, id: string): Promise<void> {
    await db.query(`DELETE FROM ${S}.${spec.table} WHERE id = $1`, [id]);
  }

  /** Whether a row exists (in the project, when given). */
  async exists(db: Db, table: string, id: string, project?: string): Promise<boolean> {
    const rows: unknown[] = await db.query(
      `SELECT 1 FROM ${S}.${table} WHERE id = $1${project !== undefined ? ' AND project_id = $2' : ''}`,
      project !== undefined ? [id, project] : [id],
    );
    return rows.length > 0;
  }

  /** A row of `table` by id (any columns), for a nested resource's parent. */
  async findAny(db: Db, table: string, id: string): Promise<{ project_id?: string | null } | undefined> {
    const rows: { project_id?: string | null }[] = await db.query(
      `SELECT * FROM ${S}.${table} WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** Up to five things of each kind that still reference the row. */
  async referrers(
    db: Db,
    spec: ResourceSpec,
    id: string,
  ): Promise<{ resource: string; label: string; id: string; name: string }[]> {
    const out: { resource: string; label: string; id: string; name: string }[] = [];
    for (const r of spec.referrers ?? []) {
      const from = r.via
        ? `${S}.${r.via.table} v JOIN ${S}.${r.table} t ON t.id = v.${r.via.key} WHERE v.${r.column} = $1`
        : `${S}.${r.table} t WHERE t.${r.column} = $1`;
      const rows: { id: string; name: string }[] = await db.query(
        `SELECT t.id, t.${r.name ?? 'name'} AS name FROM ${from}${r.unlessSet ? ` AND t.${r.unlessSet} IS NULL` : ''} LIMIT 5`,
        [id],
      );
      out.push(...rows.map((x) => ({ resource: r.resource, label: r.label, id: x.id, name: x.name })));
    }
    return out;
  }
}
