import { ProblemException } from './problem';

/** List responses: `{items, nextCursor}` (ARCHITECTURE §2). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Opaque keyset cursor: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(v)) return v;
  } catch {
    /* fall through */
  }
  throw ProblemException.badRequest('invalid cursor', [
    { field: 'cursor', message: 'not a cursor this API issued' },
  ]);
}

export function parseLimit(raw: unknown, def = 100, max = 1000): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw ProblemException.badRequest('invalid limit', [
      { field: 'limit', message: `limit must be an integer from 1 to ${max}` },
    ]);
  }
  return n;
}

/** Weak ETag from a row version. */
export function etagOf(version: number | string): string {
  return `W/"${version}"`;
}

/** Checks If-Match against the current version: 412 when stale. Absent If-Match passes. */
export function checkIfMatch(ifMatch: string | undefined, version: number | string): void {
  if (!ifMatch) return;
  const tags = ifMatch.split(',').map((t) => t.trim());
  if (tags.includes('*')) return;
  const want = etagOf(version);
  const strong = `"${version}"`;
  if (!tags.includes(want) && !tags.includes(strong)) throw ProblemException.preconditionFailed();
}
