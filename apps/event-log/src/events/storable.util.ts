import { FieldError } from '@nephele/contracts';

// PostgreSQL's jsonb refuses the escape \u0000 and lone UTF-16 surrogates (SQLSTATE 22P05
// "unsupported Unicode escape sequence"). An event carrying one would be accepted and then refused
// by the store, so such content is a 400 at the door, naming the field.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function badString(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'must not contain an unpaired UTF-16 surrogate escape';
  return undefined;
}

/** Field errors for content the event store would refuse, anywhere in `value` (keys included). */
export function unstorableFields(value: unknown, path = '', depth = 0): FieldError[] {
  if (typeof value === 'string') {
    const why = badString(value);
    return why ? [{ field: path || '(value)', message: why }] : [];
  }
  if (value === null || typeof value !== 'object') return [];
  if (depth > 64) return [{ field: path, message: 'nested too deeply (at most 64 levels)' }];
  const errors: FieldError[] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => errors.push(...unstorableFields(v, `${path}[${i}]`, depth + 1)));
    return errors;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const field = path ? `${path}.${k}` : k;
    const why = badString(k);
    if (why) errors.push({ field, message: `key ${why}` });
    errors.push(...unstorableFields(v, field, depth + 1));
  }
  return errors;
}
