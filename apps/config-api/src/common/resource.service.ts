import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import {
  checkIfMatch,
  decodeCursor,
  encodeCursor,
  Page,
  parseLimit,
  Principal,
  ProblemException,
} from '@nephele/service-kit';
import { ChangeRecorder } from './change-recorder';
import { mapDbError } from './db-errors.util';
import { Db, ResourceRepository, toParam } from './resource.repository';
import { ColumnKind, Resource, ResourceSpec, Row } from './resource.types';
import { canSee, isUuid, noSuchProject, targetProject, visibleProject } from './scope.util';

export interface WriteContext {
  principal: Principal;
  tx: EntityManager;
  /** The row's id (known before the insert, so secrets can be bound to it). */
  id: string;
  project?: string;
  existing?: Row;
  dto: Record<string, unknown>;
}

/** Per-resource behaviour on top of the generic store. */
export interface ResourceHooks {
  /** Adjusts or adds column values before the insert/update (seal credentials, check a template). */
  prepare?(ctx: WriteContext, values: Record<string, unknown>): Promise<void> | void;
  /** Runs after the row is written, in the same transaction (join tables). */
  written?(ctx: WriteContext): Promise<void>;
}

/** List query common to every resource: `limit`, `cursor`, `project` and the spec's filters. */
export type ListQuery = { limit?: string; cursor?: string; project?: string } & Record<string, unknown>;

function fromDb(kind: ColumnKind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (kind === 'num') return Number(v);
  return v;
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
}

const isSeqCursor = (v: unknown): v is { s: string } =>
  typeof v === 'object' && v !== null && /^\d{1,19}$/.test(String((v as { s?: unknown }).s));

/**
 * Create, read, update, delete and list for one configuration resource described by a
 * `ResourceSpec`: project scoping (another project's row is a 404), references checked on write,
 * ETag/If-Match, 409 on name clashes and on deleting what is still referenced, and the config and
 * audit events written in the same transaction as the change.
 */
export class ResourceService {
  constructor(
    protected readonly repo: ResourceRepository,
    protected readonly changes: ChangeRecorder,
    readonly spec: ResourceSpec,
    protected readonly hooks: ResourceHooks = {},
  ) {}

  toApi(row: Row): Resource {
    const s = this.spec;
    const out: Record<string, unknown> = { id: row.id };
    if (s.scope === 'project') out.project = row.project_id;
    if (s.parent) out[s.parent.api] = row[s.parent.col];
    for (const c of s.columns) out[c.api] = fromDb(c.kind, row[c.col]);
    for (const c of s.computed ?? []) out[c.api] = row[c.api];
    out.version = row.version;
    out.createdAt = iso(row.created_at);
    out.updatedAt = iso(row.updated_at);
    return out as Resource;
  }

  protected visible(p: Principal, row: Row, parentId?: string): boolean {
    if (this.spec.parent && parentId !== undefined && row[this.spec.parent.col] !== parentId) return false;
    switch (this.spec.scope) {
      case 'global':
        return true;
      case 'self':
        return canSee(p, row.id);
      case 'project':
        return canSee(p, row.project_id);
    }
  }

  protected notFound(id: string): ProblemException {
    return ProblemException.notFound(`${this.spec.label} ${id}`);
  }

  /** The parent of a nested resource, as the caller may see it; 404 otherwise. Returns its project. */
  protected async parentProject(
    db: Db,
    p: Principal,
    parentId: string | undefined,
  ): Promise<string | undefined> {
    const parent = this.spec.parent!;
    if (!isUuid(parentId)) throw ProblemException.notFound(`${parent.label} ${String(parentId)}`);
    const row = await this.repo.findAny(db, parent.table, parentId);
    if (!row || ('project_id' in row && !canSee(p, row.project_id))) {
      throw ProblemException.notFound(`${parent.label} ${parentId}`);
    }
    return row.project_id ?? undefined;
  }

  async list(p: Principal, q: ListQuery, parentId?: string): Promise<Page<Resource>> {
    const limit = parseLimit(q.limit, 100, 1000);
    const after = decodeCursor(q.cursor, isSeqCursor);
    if (this.spec.parent) await this.parentProject(this.repo.pool, p, parentId);
    const filters = this.spec.columns
      .filter((c) => c.filter && q[c.api] !== undefined)
      .map((c) => ({ col: c.col, value: c.kind === 'bool' ? q[c.api] === 'true' : q[c.api] }));
    let project: string | undefined;
    if (this.spec.scope !== 'global') {
      project = visibleProject(p);
      if (q.project !== undefined) {
        if (project !== undefined && project !== q.project) return { items: [], nextCursor: null };
        project = q.project;
      }
    }
    const rows = await this.repo.list(this.repo.pool, this.spec, {
      project,
      parentId,
      filters,
      afterSeq: after?.s,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => this.toApi(r)),
      nextCursor: rows.length > limit ? encodeCursor({ s: page[page.length - 1]!.seq }) : null,
    };
  }

  async getRow(p: Principal, id: string, parentId?: string): Promise<Row> {
    if (!isUuid(id)) throw this.notFound(id);
    const row = await this.repo.find(this.repo.pool, this.spec, id);
    if (!row || !this.visible(p, row, parentId)) throw this.notFound(id);
    return row;
  }

  async get(p: Principal, id: string, parentId?: string): Promise<Resource> {
    return this.toApi(await this.getRow(p, id, parentId));
  }

  private async checkRefs(
    tx: EntityManager,
    dto: Record<string, unknown>,
    project: string | undefined,
  ): Promise<void> {
    for (const ref of this.spec.refs ?? []) {
      const v = dto[ref.api];
      if (v === undefined || v === null) continue;
      if (!isUuid(v) || !(await this.repo.exists(tx, ref.table, v, ref.sameProject ? project : undefined))) {
        throw ProblemException.badRequest('validation failed', [
          {
            field: ref.api,
            message: `no ${ref.label} with id ${String(v)}${ref.sameProject ? ' in this project' : ''}`,
          },
        ]);
      }
    }
  }

  private values(dto: Record<string, unknown>, creating: boolean): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const c of this.spec.columns) {
      if (!creating && c.createOnly) continue;
      if (dto[c.api] !== undefined) values[c.col] = toParam(c.kind, dto[c.api]);
    }
    return values;
  }

  async create(p: Principal, dto: Record<string, unknown>, parentId?: string): Promise<Resource> {
    const id = randomUUID();
    try {
      const out = await this.repo.transaction(async (tx) => {
        let project: string | undefined;
        if (this.spec.parent) project = await this.parentProject(tx, p, parentId);
        else if (this.spec.scope === 'project') {
          project = targetProject(p, dto.project as string | undefined);
          if (!(await this.repo.exists(tx, 'projects', project))) throw noSuchProject();
        }
        await this.checkRefs(tx, dto, project);
        const values: Record<string, unknown> = { id };
        if (this.spec.scope === 'project') values.project_id = project;
        if (this.spec.parent) values[this.spec.parent.col] = parentId;
        Object.assign(values, this.values(dto, true));
        const ctx: WriteContext = { principal: p, tx, id, project, dto };
        await this.hooks.prepare?.(ctx, values);
        await this.repo.insert(tx, this.spec, values);
        await this.hooks.written?.(ctx);
        const after = this.toApi((await this.repo.find(tx, this.spec, id))!);
        await this.changes.record(tx, {
          actor: p.tokenId,
          resource: this.spec.resource,
          action: 'created',
          id,
          project: this.projectOf(after),
          version: after.version,
          after,
        });
        return after;
      });
      this.changes.committed();
      return out;
    } catch (e) {
      mapDbError(e, this.spec, 'write');
    }
  }

  private projectOf(r: Resource): string | undefined {
    return this.spec.scope === 'self' ? r.id : ((r.project as string | undefined) ?? undefined);
  }

  async update(
    p: Principal,
    id: string,
    dto: Record<string, unknown>,
    ifMatch: string | undefined,
    parentId?: string,
  ): Promise<Resource> {
    if (!isUuid(id)) throw this.notFound(id);
    try {
      const out = await this.repo.transaction(async (tx) => {
        if (this.spec.parent) await this.parentProject(tx, p, parentId);
        const existing = await this.repo.find(tx, this.spec, id, true);
        if (!existing || !this.visible(p, existing, parentId)) throw this.notFound(id);
        checkIfMatch(ifMatch, existing.version);
        const project = existing.project_id ?? undefined;
        await this.checkRefs(tx, dto, project);
        const values = this.values(dto, false);
        const ctx: WriteContext = { principal: p, tx, id, project, existing, dto };
        await this.hooks.prepare?.(ctx, values);
        const before = this.toApi(existing);
        if (!Object.keys(values).length && !this.hooks.written) return { changed: false, r: before };
        await this.repo.update(tx, this.spec, id, values);
        await this.hooks.written?.(ctx);
        const after = this.toApi((await this.repo.find(tx, this.spec, id))!);
        await this.changes.record(tx, {
          actor: p.tokenId,
          resource: this.spec.resource,
          action: 'updated',
          id,
          project: this.projectOf(after),
          version: after.version,
          before,
          after,
        });
        return { changed: true, r: after };
      });
      if (out.changed) this.changes.committed();
      return out.r;
    } catch (e) {
      mapDbError(e, this.spec, 'write');
    }
  }

  async remove(p: Principal, id: string, ifMatch: string | undefined, parentId?: string): Promise<void> {
    if (!isUuid(id)) throw this.notFound(id);
    try {
      await this.repo.transaction(async (tx) => {
        if (this.spec.parent) await this.parentProject(tx, p, parentId);
        const existing = await this.repo.find(tx, this.spec, id, true);
        if (!existing || !this.visible(p, existing, parentId)) throw this.notFound(id);
        checkIfMatch(ifMatch, existing.version);
        const refs = await this.repo.referrers(tx, this.spec, id);
        if (refs.length) {
          const list = refs.map((r) => `${r.label} "${r.name}" (${r.id})`).join(', ');
          throw ProblemException.conflict(`the ${this.spec.label} is still referenced by ${list}`, {
            references: refs.map((r) => ({ resource: r.resource, id: r.id, name: r.name })),
          });
        }
        const before = this.toApi(existing);
        await this.repo.delete(tx, this.spec, id);
        await this.changes.record(tx, {
          actor: p.tokenId,
          resource: this.spec.resource,
          action: 'deleted',
          id,
          project: this.projectOf(before),
          before,
        });
      });
      this.changes.committed();
    } catch (e) {
      mapDbError(e, this.spec, 'delete');
    }
  }
}
