import { ServiceName, World } from './world';

/** One operation of a service's OpenAPI document. */
export interface Route {
  service: ServiceName;
  method: string;
  /** The OpenAPI path template, e.g. `/v1/groups/{id}/policies/{pid}`. */
  path: string;
  /** Path parameter names in order. */
  params: string[];
  query: { name: string; schema?: Record<string, unknown> }[];
  /** Has a `security` requirement (bearer token). */
  secured: boolean;
  summary: string;
  /** The JSON schema of the request body, `$ref`s resolved, when the document has one. */
  bodySchema?: Record<string, unknown>;
  bodyTypes: string[];
}

interface OpenApiDoc {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, Record<string, unknown>> };
}
interface OpenApiOperation {
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
  security?: unknown[];
  summary?: string;
  requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Resolves `$ref`s (depth-bounded: the DTOs are trees). */
function deref(schema: unknown, doc: OpenApiDoc, depth = 0): unknown {
  if (depth > 8 || schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map((s) => deref(s, doc, depth + 1));
  const o = schema as Record<string, unknown>;
  if (typeof o.$ref === 'string') {
    const name = o.$ref.split('/').pop()!;
    return deref(doc.components?.schemas?.[name] ?? {}, doc, depth + 1);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, deref(v, doc, depth + 1)]));
}

/** Every operation of every service, read from its `/docs/openapi.json`. */
export async function readRoutes(w: World): Promise<Route[]> {
  const out: Route[] = [];
  for (const [service, proc] of Object.entries(w.procs) as [ServiceName, World['procs'][ServiceName]][]) {
    const res = await fetch(`${proc.url}/docs/openapi.json`);
    if (!res.ok) throw new Error(`${service}: /docs/openapi.json answered ${res.status}`);
    const doc = (await res.json()) as OpenApiDoc;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = ops[method];
        if (!op) continue;
        const content = op.requestBody?.content ?? {};
        const first = Object.values(content)[0]?.schema;
        out.push({
          service,
          method: method.toUpperCase(),
          path,
          params: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
          query: (op.parameters ?? [])
            .filter((p) => p.in === 'query')
            .map((p) => ({ name: p.name, schema: p.schema })),
          secured: Array.isArray(op.security) && op.security.length > 0,
          summary: op.summary ?? '',
          bodySchema: first ? (deref(first, doc) as Record<string, unknown>) : undefined,
          bodyTypes: Object.keys(content),
        });
      }
    }
  }
  return out;
}

export const routeName = (r: Pick<Route, 'method' | 'path'>): string => `${r.method} ${r.path}`;

/** Operational endpoints every service serves without a token. */
export const isOperational = (r: Route): boolean => /^\/(healthz|readyz|metrics|docs)\b/.test(r.path);

/** Anonymous capability webhook: always 202. */
export const isCapabilityWebhook = (r: Route): boolean =>
  r.method === 'POST' && r.path === '/v1/execute/1/{capability}';

/** Provider callbacks: HMAC-signed, no bearer token. */
export const isProviderCallback = (r: Route): boolean =>
  r.method === 'POST' && r.path === '/v1/callbacks/{provider}';

/** Streams (Server-Sent Events) answer headers first and then never end: read the status only. */
export const isStream = (r: Route): boolean => r.path.endsWith('/stream');

export const isWrite = (r: Route): boolean => r.method !== 'GET';

/**
 * The object a path parameter names: the collection segment before it (`/v1/pools/{id}` → `pools`),
 * or a fixed value for parameters that are not object ids.
 */
export function paramKey(path: string, param: string): string {
  const segs = path.split('/');
  const i = segs.indexOf(`{${param}}`);
  const prev = segs[i - 1] ?? '';
  if (prev === 'cimi') return 'cimi';
  if (/^\{.+\}$/.test(prev)) return `:${param}`; // {op} after {id}
  if (prev === 'versions') return ':version';
  if (prev === 'servers') return ':server';
  if (prev === '1' && segs[i - 2] === 'execute') return ':capability';
  if (prev === 'callbacks') return ':provider';
  return prev;
}

/** Fills a path template; `ids` maps the keys of paramKey() to values. Throws on an unknown key. */
export function fill(path: string, ids: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, p: string) => {
    const key = paramKey(path, p);
    const v = ids[key];
    if (v === undefined) throw new Error(`no value for {${p}} (key ${key}) in ${path}`);
    return encodeURIComponent(v);
  });
}

/** The keys of a route's path parameters. */
export const paramKeys = (r: Route): string[] => r.params.map((p) => paramKey(r.path, p));
