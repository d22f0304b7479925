import { parseDuration } from '@nephele/util';
import { UsageError } from '../errors.util';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

/** A non-negative integer flag. */
export function parseCount(flag: string, raw: string): number {
  if (!/^\d{1,9}$/.test(raw.trim()))
    throw new UsageError(`${flag} must be a non-negative integer (got "${raw}")`);
  return Number(raw);
}

/** An integer flag (negative allowed: priorities). */
export function parseInteger(flag: string, raw: string): number {
  if (!/^-?\d{1,9}$/.test(raw.trim())) throw new UsageError(`${flag} must be an integer (got "${raw}")`);
  return Number(raw);
}

export function parseNumber(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`${flag} must be a number (got "${raw}")`);
  return n;
}

/** A duration flag (`500ms`, `5s`, `10m`, `2h`; a bare number is seconds), in milliseconds. */
export function parseDurationFlag(flag: string, raw: string): number {
  try {
    return parseDuration(raw);
  } catch {
    throw new UsageError(`${flag} must be a duration such as 30s, 5m or 2h (got "${raw}")`);
  }
}

/** A hardware amount: `2` (exactly), `2..4` (a range), `2..` (at least) or `..4` (at most). */
export function parseAmount(flag: string, raw: string): number | { min?: number; max?: number } {
  const s = raw.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const m = /^(\d+)?\.\.(\d+)?$/.exec(s);
  if (m && (m[1] !== undefined || m[2] !== undefined)) {
    const out: { min?: number; max?: number } = {};
    if (m[1] !== undefined) out.min = Number(m[1]);
    if (m[2] !== undefined) out.max = Number(m[2]);
    if (out.min !== undefined && out.max !== undefined && out.min > out.max)
      throw new UsageError(`${flag}: the minimum ${out.min} is above the maximum ${out.max}`);
    return out;
  }
  throw new UsageError(`${flag} must be N, MIN..MAX, MIN.. or ..MAX (got "${raw}")`);
}

/** A JSON object flag (`--options '{"images": {}}'`). */
export function parseJsonObject(flag: string, raw: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new UsageError(`${flag} must be a JSON object (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${flag} must be a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * A point in time for `--since`/`--until`: RFC 3339 as is, or a duration back from `now`
 * (`10m` → ten minutes ago), as RFC 3339 UTC.
 */
export function parseSince(flag: string, raw: string, now: Date): string {
  const s = raw.trim();
  if (/^\d{4}-\d{2}-\d{2}T/.test(s)) {
    const t = Date.parse(s);
    if (Number.isNaN(t) || !/([Zz]|[+-]\d{2}:\d{2})$/.test(s))
      throw new UsageError(
        `${flag} must be RFC 3339 with a zone (2026-01-31T12:00:00Z) or a duration ago (15m)`,
      );
    return new Date(t).toISOString();
  }
  let ms: number;
  try {
    ms = parseDuration(s);
  } catch {
    throw new UsageError(
      `${flag} must be RFC 3339 with a zone (2026-01-31T12:00:00Z) or a duration ago (15m)`,
    );
  }
  return new Date(now.getTime() - ms).toISOString();
}

/** Sets `a.b.c` in a plain object, creating the objects on the way. */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) {
    const next = o[p];
    if (!next || typeof next !== 'object' || Array.isArray(next)) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]!] = value;
}

export function getPath(source: Record<string, unknown>, dotted: string): unknown {
  let o: unknown = source;
  for (const p of dotted.split('.')) {
    if (!o || typeof o !== 'object') return undefined;
    o = (o as Record<string, unknown>)[p];
  }
  return o;
}

/** A query string from the defined values (`?a=1&b=x`), or '' when there are none. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
