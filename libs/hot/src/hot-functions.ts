import { HotContext } from './hot.types';

/** The intrinsic functions served. */
export const SUPPORTED_FUNCTIONS = [
  'get_param',
  'get_resource',
  'get_attr',
  'str_replace',
  'list_join',
] as const;

/** Every intrinsic function HOT defines (any version): one of these outside the subset is refused by name. */
export const HOT_FUNCTIONS = new Set<string>([
  ...SUPPORTED_FUNCTIONS,
  'get_file',
  'digest',
  'repeat',
  'resource_facade',
  'str_replace_strict',
  'str_replace_vstrict',
  'str_split',
  'map_merge',
  'map_replace',
  'yaql',
  'equals',
  'if',
  'not',
  'and',
  'or',
  'filter',
  'make_url',
  'list_concat',
  'list_concat_unique',
  'contains',
  'Fn::GetAZs',
  'Fn::Base64',
  'Fn::Join',
  'Fn::Select',
  'Ref',
]);

/** The function a value calls (a map with exactly one key that names a function), if any. */
export function functionOf(v: unknown): { name: string; args: unknown } | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1 || !HOT_FUNCTIONS.has(keys[0]!)) return undefined;
  return { name: keys[0]!, args: (v as Record<string, unknown>)[keys[0]!] };
}

/** Thrown by `evaluate` for a call whose arguments are wrong (the template validator reports these first). */
export class HotEvaluationError extends Error {}

/** Text of a value inside a string (str_replace, list_join): strings as they are, others as JSON. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function walk(obj: unknown, path: (string | number)[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) cur = cur[typeof k === 'number' ? k : Number(k)];
    else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[String(k)];
    else return undefined;
  }
  return cur;
}

/**
 * Evaluates the intrinsic functions in a value (recursively, arguments first), as Heat does:
 * get_param (with a path into json/list values and the OS:: pseudo parameters), get_resource,
 * get_attr, str_replace, list_join. `undefined` comes back where a resource is not made yet.
 */
export function evaluate(value: unknown, ctx: HotContext): unknown {
  if (Array.isArray(value)) return value.map((x) => evaluate(x, ctx));
  const fn = functionOf(value);
  if (!fn) {
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, ctx)]));
    return value;
  }
  const args = evaluate(fn.args, ctx);
  switch (fn.name) {
    case 'get_param': {
      const [name, ...path] = Array.isArray(args) ? args : [args];
      if (typeof name !== 'string') throw new HotEvaluationError('get_param takes a parameter name');
      const v = name in ctx.pseudo ? ctx.pseudo[name] : ctx.params[name];
      if (v === undefined && !(name in ctx.params))
        throw new HotEvaluationError(`get_param: no parameter ${name}`);
      return walk(v, path as (string | number)[]);
    }
    case 'get_resource':
      if (typeof args !== 'string') throw new HotEvaluationError('get_resource takes a resource name');
      return ctx.ref(args);
    case 'get_attr': {
      if (!Array.isArray(args) || args.length < 2 || typeof args[0] !== 'string')
        throw new HotEvaluationError('get_attr takes [resource, attribute, path…]');
      return ctx.attr(args[0], args.slice(1) as (string | number)[]);
    }
    case 'str_replace': {
      const a = args as { template?: unknown; params?: unknown } | null;
      if (
        !a ||
        typeof a.template !== 'string' ||
        !a.params ||
        typeof a.params !== 'object' ||
        Array.isArray(a.params)
      )
        throw new HotEvaluationError('str_replace takes {template: <string>, params: <map>}');
      const params = Object.entries(a.params as Record<string, unknown>).sort(
        (x, y) => y[0].length - x[0].length,
      );
      if (!params.length) return a.template;
      // One pass over the template, longest key first at each position (Heat's order), so a value
      // that contains another key is not replaced again.
      const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const re = new RegExp(params.map(([k]) => escape(k)).join('|'), 'g');
      const map = new Map(params.map(([k, v]) => [k, text(v)]));
      return a.template.replace(re, (m) => map.get(m) ?? m);
    }
    case 'list_join': {
      if (!Array.isArray(args) || args.length < 2 || typeof args[0] !== 'string')
        throw new HotEvaluationError('list_join takes [delimiter, list, …]');
      const items: unknown[] = [];
      for (const l of args.slice(1)) {
        if (!Array.isArray(l)) throw new HotEvaluationError('list_join joins lists');
        items.push(...l);
      }
      return items.map(text).join(args[0]);
    }
    default:
      throw new HotEvaluationError(`the function ${fn.name} is not supported`);
  }
}

/** The resources a value refers to through get_resource and get_attr (for ordering). */
export function references(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const x of value) references(x, out);
    return out;
  }
  const fn = functionOf(value);
  if (fn?.name === 'get_resource' && typeof fn.args === 'string') out.add(fn.args);
  if (fn?.name === 'get_attr' && Array.isArray(fn.args) && typeof fn.args[0] === 'string')
    out.add(fn.args[0]);
  if (value && typeof value === 'object') for (const v of Object.values(value)) references(v, out);
  return out;
}
