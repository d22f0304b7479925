import fc from 'fast-check';
import { Answer, isProblem } from './http';
import { Route } from './routes';

/** A request body as sent: text (or bytes) with a content type. */
export interface FuzzBody {
  label: string;
  raw: string;
  contentType?: string;
}

/** Field names a DTO schema mentions (recursively), so generated objects hit real validators. */
export function schemaFieldNames(schema: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 10 || schema === null || typeof schema !== 'object') return out;
  if (Array.isArray(schema)) {
    for (const s of schema) schemaFieldNames(s, out, depth + 1);
    return out;
  }
  const o = schema as Record<string, unknown>;
  if (o.properties && typeof o.properties === 'object') {
    for (const [k, v] of Object.entries(o.properties)) {
      out.add(k);
      schemaFieldNames(v, out, depth + 1);
    }
  }
  for (const k of ['items', 'oneOf', 'anyOf', 'allOf']) if (o[k]) schemaFieldNames(o[k], out, depth + 1);
  return out;
}

/** Field names of a sample body (recursively). */
export function sampleFieldNames(v: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 10 || v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) for (const x of v) sampleFieldNames(x, out, depth + 1);
  else
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      sampleFieldNames(x, out, depth + 1);
    }
  return out;
}

/** Names every Nephele body uses somewhere, tried on every route. */
export const COMMON_FIELDS = [
  'name',
  'project',
  'id',
  'type',
  'kind',
  'role',
  'config',
  'launchConfig',
  'policies',
  'url',
  'credentials',
  'password',
  'template',
  'assemblies',
  'services',
  'specversion',
  'source',
  'data',
  'action',
  'machineTemplate',
  'minEntities',
  'maxEntities',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
];

/** Values of every JSON type, with strings that tend to break things. */
const nasty = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '%00',
  '../../etc/passwd',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>',
  '\ud800',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '00000000-0000-0000-0000-000000000000',
  'not-a-uuid',
  'W/"1"',
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER),
);
const leaf = fc.oneof(fc.string({ maxLength: 40 }), nasty, number, fc.boolean(), fc.constant(null));

/** Arbitrary JSON values with the given field names used as keys. */
export function jsonWith(names: string[]): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...names) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 6 }),
    ),
  }));
  return value;
}

/** Bodies for one route: objects with its own and random field names, wrong types, arrays, huge and deep values, bad JSON, wrong content types. */
export function bodyArb(route: Route, sample: unknown, maxBytes: number): fc.Arbitrary<FuzzBody> {
  const names = [
    ...new Set([...schemaFieldNames(route.bodySchema), ...sampleFieldNames(sample), ...COMMON_FIELDS]),
  ];
  const json = jsonWith(names);
  const obj = fc.dictionary(fc.constantFrom(...names), json, { maxKeys: 8 });
  const asJson =
    (label: string) =>
    (v: unknown): FuzzBody => ({
      label,
      raw: JSON.stringify(v) ?? 'null',
      contentType: 'application/json',
    });
  const mutatedSample =
    sample && typeof sample === 'object' && !Array.isArray(sample) && Object.keys(sample).length > 0
      ? fc
          .tuple(fc.constantFrom(...Object.keys(sample)), json)
          .map(([k, v]) => asJson('sample with one field changed')({ ...(sample as object), [k]: v }))
      : obj.map(asJson('object'));
  const hugeString = fc
    .tuple(fc.constantFrom(...names), fc.integer({ min: 10_000, max: Math.floor(maxBytes * 0.9) }))
    .map(([k, n]) => asJson('huge string')({ [k]: 'x'.repeat(n) }));
  const deep = fc.tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean()).map(([n, arrays]): FuzzBody => ({
    label: `nested ${n} deep`,
    raw: arrays ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`,
    contentType: 'application/json',
  }));
  const malformed = fc
    .oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '{',
        '{"a":',
        '[1,]',
        '{"a":1}}',
        "{'a':1}",
        'nul',
        '\u0000',
        '{"a":"\\ud800"}',
        '{"a":1e999}',
      ),
    )
    .map((raw): FuzzBody => ({ label: 'malformed JSON', raw, contentType: 'application/json' }));
  const wrongType = fc
    .tuple(
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/merge-patch+json',
        'text/xml',
        'application/yaml',
        'image/png',
      ),
      fc.oneof(
        obj.map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 100 }),
      ),
    )
    .map(([contentType, raw]): FuzzBody => ({ label: `sent as ${contentType}`, raw, contentType }));
  const noType = obj.map((v): FuzzBody => ({ label: 'no content type', raw: JSON.stringify(v) }));
  return fc.oneof(
    { weight: 4, arbitrary: obj.map(asJson('object')) },
    { weight: 3, arbitrary: mutatedSample },
    { weight: 2, arbitrary: json.map(asJson('any JSON')) },
    { weight: 1, arbitrary: fc.array(obj, { maxLength: 3 }).map(asJson('array instead of object')) },
    { weight: 1, arbitrary: hugeString },
    { weight: 1, arbitrary: deep },
    { weight: 2, arbitrary: malformed },
    { weight: 2, arbitrary: wrongType },
    { weight: 1, arbitrary: noType },
  );
}

/** Percent-encoding; a lone surrogate becomes bytes that are not UTF-8 (servers must cope). */
const enc = (v: string) => {
  try {
    return encodeURIComponent(v);
  } catch {
    return `%ED%A0%80${v.length}`;
  }
};

/** Query strings: the route's own parameters and random ones, repeated, bracketed, badly encoded. */
export function queryArb(route: Route): fc.Arbitrary<string> {
  const names = [...route.query.map((q) => q.name), 'limit', 'cursor', 'project', 'since', 'until'];
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    nasty,
    number.map(String),
    fc.constantFrom('0', '-1', '1001', '1.5', 'true', 'x'.repeat(5000), 'eyJpZCI6MX0', 'e30', '%', '%zz'),
  );
  const pair = fc.tuple(
    fc.oneof(
      fc.constantFrom(...names),
      fc.string({ maxLength: 10 }),
      fc.constantFrom(...names).map((n) => `${n}[a]`),
    ),
    value,
    fc.boolean(),
  );
  return fc
    .array(pair, { minLength: 1, maxLength: 6 })
    .map((pairs) =>
      pairs
        .map(([k, v, raw]) => (raw ? `${k}=${v.replace(/[#&\s]/g, '')}` : `${enc(k)}=${enc(v)}`))
        .join('&'),
    );
}

/** What every answer to bad input must be: no 5xx; a 4xx is a problem document, a 400 says what is wrong. */
export function answerProblem(a: Answer): string | undefined {
  if (a.status >= 500) return `${a.status}: ${a.text.slice(0, 300)}`;
  if (a.status >= 400) {
    if (!isProblem(a))
      return `${a.status} is not application/problem+json with its status: ${a.contentType} ${a.text.slice(0, 200)}`;
    const p = a.json as { errors?: unknown; detail?: unknown };
    if (
      a.status === 400 &&
      !(Array.isArray(p.errors) && p.errors.length > 0) &&
      !(typeof p.detail === 'string' && p.detail.length > 0)
    )
      return `400 without errors[] or detail: ${a.text.slice(0, 200)}`;
  }
  return undefined;
}
