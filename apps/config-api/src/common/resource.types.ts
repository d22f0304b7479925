/** How a column travels between the API (camelCase JSON) and PostgreSQL. */
export type ColumnKind = 'text' | 'int' | 'bool' | 'json' | 'uuid' | 'num';

export interface ColumnSpec {
  /** Field name in the API. */
  api: string;
  /** Column name in the table. */
  col: string;
  kind: ColumnKind;
  /** Usable as an exact-match list filter (`?providerId=…`). */
  filter?: boolean;
  /** Set on create only (a reference that defines what the row is, such as a mapping's image). */
  createOnly?: boolean;
}

/**
 * Who may see a row: `project` rows belong to one project (admins see all, others their own);
 * `global` rows are visible to every token (writes are admin-only at the controller); `self` is the
 * projects table itself (a scoped token sees its own project only).
 */
export type Scope = 'project' | 'global' | 'self';

/** A resource nested under another one in the URL (`/v1/providers/{id}/profiles`). */
export interface ParentSpec {
  /** API field carrying the parent's id (`providerId`). */
  api: string;
  col: string;
  table: string;
  label: string;
}

/** A field that references another resource: checked on write (400 when missing or foreign). */
export interface RefSpec {
  api: string;
  table: string;
  label: string;
  /** The referenced row must be in the same project (project-owned targets). */
  sameProject: boolean;
}

/**
 * Something that stops a delete while it exists: rows of `table` whose `column` holds the id
 * (the repository writes the query). `via` reaches `table` through a join table whose `column`
 * holds the id and whose `key` is the row's id; `active` is a condition the row must meet.
 */
export interface ReferrerSpec {
  resource: string;
  label: string;
  table: string;
  column: string;
  /** Column shown as the referrer's name (default `name`). */
  name?: string;
  via?: { table: string; key: string };
  /** Only rows where this nullable column is NULL count (a revoked token does not). */
  unlessSet?: string;
}

export interface ResourceSpec {
  /** URL segment and the `resource` of config events (`pools`, `provider-accounts`). */
  resource: string;
  /** Human name in messages (`pool`, `provider account`). */
  label: string;
  table: string;
  scope: Scope;
  parent?: ParentSpec;
  columns: ColumnSpec[];
  /** Read-only values computed in SQL (`t` is the row's alias). */
  computed?: { api: string; sql: string }[];
  refs?: RefSpec[];
  referrers?: ReferrerSpec[];
  /** Unique constraint name → message for a 409. */
  conflicts?: Record<string, string>;
}

/** A row as the repository returns it: columns by their names plus the common stamps. */
export type Row = Record<string, unknown> & {
  id: string;
  project_id?: string | null;
  version: number;
  seq: string;
};

/** The API representation of a resource. */
export type Resource = Record<string, unknown> & { id: string; version: number };
