import { ProblemException } from '@nephele/service-kit';
import { ResourceSpec } from './resource.types';

interface PgError {
  code?: string;
  constraint?: string;
  column?: string;
  detail?: string;
}

function pgError(e: unknown): PgError | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const inner = (e as { driverError?: PgError }).driverError ?? (e as PgError);
  return typeof inner.code === 'string' ? inner : undefined;
}

function apiField(spec: ResourceSpec, col: string | undefined): string {
  if (!col) return '';
  return spec.columns.find((c) => c.col === col)?.api ?? spec.parent?.api ?? col;
}

/**
 * Turns what PostgreSQL refused into the problem a client can act on: a unique name → 409, a
 * vanished reference → 400 (write) or 409 (delete), a bad value → 400. Anything else is rethrown
 * (a 500: a bug or an outage, logged by the problem filter).
 */
export function mapDbError(e: unknown, spec: ResourceSpec, op: 'write' | 'delete'): never {
  const pg = pgError(e);
  if (!pg?.code) throw e;
  switch (pg.code) {
    case '23505':
      throw ProblemException.conflict(
        spec.conflicts?.[pg.constraint ?? ''] ??
          `conflicts with an existing ${spec.label} (${pg.constraint ?? 'unique'})`,
      );
    case '23503':
      if (op === 'delete') throw ProblemException.conflict(`the ${spec.label} is still referenced`);
      throw ProblemException.badRequest('a referenced resource does not exist', [
        { field: '', message: 'a referenced resource was deleted meanwhile' },
      ]);
    case '23502':
      throw ProblemException.badRequest('validation failed', [
        { field: apiField(spec, pg.column), message: `${apiField(spec, pg.column)} must not be null` },
      ]);
    case '23514':
      throw ProblemException.badRequest('validation failed', [
        { field: '', message: `the value breaks the rule ${pg.constraint ?? 'check'}` },
      ]);
    default:
      if (pg.code.startsWith('22')) {
        throw ProblemException.badRequest('validation failed', [
          { field: '', message: 'a value is out of range' },
        ]);
      }
      throw e;
  }
}
