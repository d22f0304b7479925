import { HotConstraint, HotError, HotParameter, HotTemplate } from './hot.types';

export const PARAMETER_TYPES = ['string', 'number', 'json', 'comma_delimited_list', 'boolean'] as const;
const PARAMETER_KEYS = new Set([
  'type',
  'label',
  'description',
  'default',
  'hidden',
  'constraints',
  'immutable',
  'tags',
]);
const CONSTRAINT_KEYS = new Set([
  'length',
  'range',
  'allowed_values',
  'allowed_pattern',
  'custom_constraint',
  'description',
]);

/** Checks a custom constraint (`nova.flavor`, `glance.image`, `nova.keypair`) against the cloud; returns a message when it fails. */
export type CustomConstraintCheck = (constraint: string, value: unknown) => string | undefined;

/** Custom constraints served (the cloud checks them, see `CustomConstraintCheck`). */
export const CUSTOM_CONSTRAINTS = new Set(['nova.flavor', 'glance.image', 'nova.keypair']);

/** Problems with a template's `parameters` section itself. */
export function checkParameterDeclarations(params: unknown): HotError[] {
  const errors: HotError[] = [];
  if (params === undefined || params === null) return errors;
  if (typeof params !== 'object' || Array.isArray(params))
    return [{ field: 'parameters', message: 'must be a map of parameter names to definitions' }];
  for (const [name, def] of Object.entries(params as Record<string, unknown>)) {
    const at = `parameters.${name}`;
    if (!def || typeof def !== 'object' || Array.isArray(def)) {
      errors.push({ field: at, message: 'must be a map with a type' });
      continue;
    }
    const d = def as Record<string, unknown>;
    for (const k of Object.keys(d))
      if (!PARAMETER_KEYS.has(k))
        errors.push({ field: `${at}.${k}`, message: `unknown parameter attribute ${k}` });
    if (!PARAMETER_TYPES.includes(d.type as never))
      errors.push({ field: `${at}.type`, message: `must be one of ${PARAMETER_TYPES.join(', ')}` });
    if (d.constraints !== undefined) {
      if (!Array.isArray(d.constraints))
        errors.push({ field: `${at}.constraints`, message: 'must be a list' });
      else
        d.constraints.forEach((c: unknown, i) => {
          const cat = `${at}.constraints[${i}]`;
          if (!c || typeof c !== 'object' || Array.isArray(c))
            return errors.push({ field: cat, message: 'must be a map' });
          const keys = Object.keys(c).filter((k) => k !== 'description');
          for (const k of keys)
            if (!CONSTRAINT_KEYS.has(k))
              errors.push({ field: `${cat}.${k}`, message: `the constraint ${k} is not supported` });
          const cc = (c as HotConstraint).custom_constraint;
          if (cc !== undefined && !CUSTOM_CONSTRAINTS.has(String(cc)))
            errors.push({
              field: `${cat}.custom_constraint`,
              message: `the custom constraint ${String(cc)} is not supported`,
            });
          const p = (c as HotConstraint).allowed_pattern;
          if (p !== undefined) {
            try {
              new RegExp(String(p));
            } catch {
              errors.push({ field: `${cat}.allowed_pattern`, message: 'is not a valid regular expression' });
            }
          }
          return undefined;
        });
    }
  }
  return errors;
}

/** A given value (the CLI gives strings) as the parameter's type, or an error message. */
export function coerce(type: HotParameter['type'], v: unknown): { value?: unknown; error?: string } {
  switch (type) {
    case 'string':
      if (typeof v === 'string') return { value: v };
      if (typeof v === 'number' || typeof v === 'boolean') return { value: String(v) };
      return { error: 'must be a string' };
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? { value: n } : { error: `"${String(v)}" is not a number` };
    }
    case 'boolean': {
      if (typeof v === 'boolean') return { value: v };
      const s = String(v).toLowerCase();
      if (['true', 't', 'yes', 'y', 'on', '1'].includes(s)) return { value: true };
      if (['false', 'f', 'no', 'n', 'off', '0'].includes(s)) return { value: false };
      return { error: `"${String(v)}" is not a boolean` };
    }
    case 'comma_delimited_list':
      if (Array.isArray(v)) return { value: v.map(String) };
      if (typeof v === 'string') return { value: v === '' ? [] : v.split(',').map((x) => x.trim()) };
      return { error: 'must be a comma-delimited list' };
    case 'json':
      if (typeof v === 'string') {
        try {
          return { value: JSON.parse(v) };
        } catch {
          return { error: 'is not valid JSON' };
        }
      }
      return v !== null && typeof v === 'object' ? { value: v } : { error: 'must be a JSON map or list' };
  }
}

/** The first constraint a value breaks, as Heat words it; undefined when it meets them all. */
export function violated(
  type: HotParameter['type'],
  value: unknown,
  constraints: HotConstraint[],
  custom?: CustomConstraintCheck,
): string | undefined {
  for (const c of constraints) {
    const why = (m: string) => c.description ?? m;
    if (c.length) {
      const n =
        typeof value === 'string' || Array.isArray(value)
          ? value.length
          : type === 'json'
            ? Object.keys(value as object).length
            : NaN;
      if (c.length.min !== undefined && !(n >= c.length.min))
        return why(`length must be at least ${c.length.min}`);
      if (c.length.max !== undefined && !(n <= c.length.max))
        return why(`length must be no greater than ${c.length.max}`);
    }
    if (c.range) {
      const n = Number(value);
      if (c.range.min !== undefined && !(n >= c.range.min))
        return why(`${String(value)} must be at least ${c.range.min}`);
      if (c.range.max !== undefined && !(n <= c.range.max))
        return why(`${String(value)} must be no greater than ${c.range.max}`);
    }
    if (c.allowed_values) {
      const items = Array.isArray(value) ? value : [value];
      const allowed = c.allowed_values.map((x) => String(x));
      const bad = items.find((x) => !allowed.includes(String(x)));
      if (bad !== undefined) return why(`"${String(bad)}" is not an allowed value [${allowed.join(', ')}]`);
    }
    if (c.allowed_pattern !== undefined) {
      const re = new RegExp(`^(?:${c.allowed_pattern})$`);
      if (typeof value !== 'string' || !re.test(value))
        return why(`"${String(value)}" does not match pattern "${c.allowed_pattern}"`);
    }
    if (c.custom_constraint && custom) {
      const m = custom(c.custom_constraint, value);
      if (m) return why(m);
    }
  }
  return undefined;
}

/**
 * Binds given parameter values to a template's declarations: unknown names refused, types
 * converted (the CLI sends strings), defaults applied, missing values and broken constraints
 * reported (defaults are checked against the constraints too, as Heat does).
 */
export function bindParameters(
  t: Pick<HotTemplate, 'parameters'>,
  given: Record<string, unknown>,
  custom?: CustomConstraintCheck,
): { values: Record<string, unknown>; errors: HotError[] } {
  const errors: HotError[] = [];
  const values: Record<string, unknown> = {};
  const declared = t.parameters ?? {};
  for (const k of Object.keys(given))
    if (!(k in declared))
      errors.push({ field: `parameters.${k}`, message: `The Parameter (${k}) was not defined in template.` });
  for (const [name, p] of Object.entries(declared)) {
    const raw = name in given ? given[name] : p.default;
    if (raw === undefined || raw === null) {
      errors.push({ field: `parameters.${name}`, message: `The Parameter (${name}) was not provided.` });
      continue;
    }
    const c = coerce(p.type, raw);
    if (c.error) {
      errors.push({ field: `parameters.${name}`, message: `Parameter '${name}' is invalid: ${c.error}` });
      continue;
    }
    const bad = violated(p.type, c.value, p.constraints ?? [], custom);
    if (bad) {
      errors.push({ field: `parameters.${name}`, message: `Parameter '${name}' is invalid: ${bad}` });
      continue;
    }
    values[name] = c.value;
  }
  return { values, errors };
}
