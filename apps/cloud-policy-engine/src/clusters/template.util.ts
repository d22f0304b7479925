import { parse as parseYaml } from 'yaml';
import { FieldError } from '@nephele/contracts';

export interface TemplateParameter {
  name: string;
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  required?: boolean;
  default?: unknown;
}

export interface TemplateOutput {
  name: string;
  description?: string;
  value?: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Checks values against the declared parameters (types, required, unknown names) and applies defaults. */
export function bindParameters(
  declared: TemplateParameter[],
  given: Record<string, unknown>,
): { values: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const values: Record<string, unknown> = {};
  const names = new Set(declared.map((p) => p.name));
  for (const k of Object.keys(given))
    if (!names.has(k))
      errors.push({ field: `parameters.${k}`, message: 'the template declares no such parameter' });
  for (const p of declared) {
    const v = p.name in given ? given[p.name] : p.default;
    if (v === undefined) {
      if (p.required) errors.push({ field: `parameters.${p.name}`, message: 'required' });
      continue;
    }
    const ok =
      p.type === 'string'
        ? typeof v === 'string'
        : p.type === 'number'
          ? typeof v === 'number' && Number.isFinite(v)
          : p.type === 'integer'
            ? Number.isInteger(v)
            : p.type === 'boolean'
              ? typeof v === 'boolean'
              : p.type === 'array'
                ? Array.isArray(v)
                : typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!ok) errors.push({ field: `parameters.${p.name}`, message: `must be of type ${p.type}` });
    else values[p.name] = v;
  }
  return { values, errors };
}

/** Reads a stored template (JSON or YAML text). */
export function readTemplate(text: string, format: string): unknown {
  return format === 'yaml' ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text);
}

/**
 * Fills `{{name}}` / `{{parameters.name}}` placeholders in every string of a parsed template. A
 * string that is only a placeholder takes the value with its type; inside a longer string the value
 * is written as text. Unknown placeholders are reported.
 */
export function renderTemplate(
  template: unknown,
  values: Record<string, unknown>,
  errors: FieldError[],
  path = 'template',
): unknown {
  const lookup = (key: string) =>
    values[key.startsWith('parameters.') ? key.slice('parameters.'.length) : key];
  if (typeof template === 'string') {
    const whole = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$/.exec(template);
    if (whole) {
      const v = lookup(whole[1]!);
      if (v === undefined) errors.push({ field: path, message: `no value for {{${whole[1]}}}` });
      return v;
    }
    return template.replace(PLACEHOLDER, (m, key: string) => {
      const v = lookup(key);
      if (v === undefined) {
        errors.push({ field: path, message: `no value for {{${key}}}` });
        return m;
      }
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(template))
    return template.map((x, i) => renderTemplate(x, values, errors, `${path}[${i}]`));
  if (template && typeof template === 'object') {
    return Object.fromEntries(
      Object.entries(template).map(([k, v]) => [k, renderTemplate(v, values, errors, `${path}.${k}`)]),
    );
  }
  return template;
}

/** An output's value with `{{parameters.x}}` and `{{assemblies.<name>.address}}` filled in, or null while unknown. */
export function renderOutput(
  expr: string | undefined,
  parameters: Record<string, unknown>,
  assemblies: Record<string, { address?: string; state?: string }>,
): string | null {
  if (!expr) return null;
  let missing = false;
  const out = expr.replace(PLACEHOLDER, (_m, key: string) => {
    const parts = key.split('.');
    let v: unknown;
    if (parts[0] === 'assemblies' && parts.length === 3)
      v = (assemblies[parts[1]!] as Record<string, unknown> | undefined)?.[parts[2]!];
    else v = parameters[parts[0] === 'parameters' ? parts.slice(1).join('.') : key];
    if (v === undefined || v === null) {
      missing = true;
      return '';
    }
    return String(v);
  });
  return missing ? null : out;
}
