// A class-validator class → JSON Schema (the subset its decorators say) and → rows of a field table.
// Reads the decorators' metadata (class-validator's storage, class-transformer's @Type, the
// compiler's design:type), so the schema is exactly what the validation accepts, as far as the
// decorators can be read: a custom validator shows as its name and message.
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { getMetadataStorage } from 'class-validator';
import type { MetadataStorage as TransformerStorage } from 'class-transformer/types/MetadataStorage';

type ValidationMetadata = ReturnType<
  ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']
>[number];
// class-transformer keeps @Type metadata in a module its package index does not export.
const { defaultMetadataStorage } = createRequire(__filename)('class-transformer/cjs/storage') as {
  defaultMetadataStorage: TransformerStorage;
};

export type JsonSchema = Record<string, unknown>;
type Ctor = new () => object;

export interface FieldRow {
  /** Dotted path; `[]` marks array elements (`assemblies[].name`). */
  path: string;
  type: string;
  required: 'yes' | 'no' | 'conditional';
  rules: string;
  description: string;
}

/** `Class` / `Class.property` → description (from the source's JSDoc). */
export type Describe = (cls: string, property?: string) => string | undefined;

function metadataOf(cls: Ctor): Map<string, ValidationMetadata[]> {
  const all = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const out = new Map<string, ValidationMetadata[]>();
  for (const m of all) {
    if (!out.has(m.propertyName)) out.set(m.propertyName, []);
    out.get(m.propertyName)!.push(m);
  }
  return out;
}

function nestedClass(cls: Ctor, prop: string): Ctor | undefined {
  const t = defaultMetadataStorage.findTypeMetadata(cls, prop);
  const fromType = t?.typeFunction?.() as Ctor | undefined;
  if (fromType && fromType !== Object) return fromType;
  return undefined;
}

const fmt = (v: unknown): string => (v instanceof RegExp ? String(v) : JSON.stringify(v));

interface Described {
  schema: JsonSchema;
  optional: boolean;
  conditional: boolean;
  rules: string[];
  nested?: Ctor;
  array: boolean;
}

/** One property's schema and its rules in words. */
function describeProperty(cls: Ctor, prop: string, ms: ValidationMetadata[]): Described {
  const s: JsonSchema = {};
  const item: JsonSchema = {};
  const rules: string[] = [];
  let optional = false;
  let conditional = false;
  let array = false;
  const designType = Reflect.getMetadata('design:type', (cls as { prototype: object }).prototype, prop) as
    unknown | undefined;
  if (designType === Array) array = true;
  for (const m of ms) {
    const target = m.each ? item : s;
    const c = m.constraints ?? [];
    const name = m.name ?? '';
    if (m.type === 'conditionalValidation') {
      if (name === 'isOptional' || name === '') optional = true;
      else conditional = true;
      if (name !== 'isOptional' && name !== '') rules.push('validated only when its condition holds');
      continue;
    }
    if (m.type === 'nestedValidation') continue;
    switch (name) {
      case 'isString':
        target.type = 'string';
        break;
      case 'isInt':
        target.type = 'integer';
        break;
      case 'isNumber':
        target.type = 'number';
        break;
      case 'isBoolean':
        target.type = 'boolean';
        break;
      case 'isArray':
        array = true;
        break;
      case 'isObject':
        target.type = 'object';
        break;
      case 'isIn':
        target.enum = c[0];
        break;
      case 'equals':
        target.const = c[0];
        break;
      case 'min':
        target.minimum = c[0];
        break;
      case 'max':
        target.maximum = c[0];
        break;
      case 'minLength':
        target.minLength = c[0];
        break;
      case 'maxLength':
        target.maxLength = c[0];
        break;
      case 'matches':
        target.pattern = (c[0] instanceof RegExp ? c[0].source : String(c[0])) as string;
        break;
      case 'arrayMaxSize':
        s.maxItems = c[0];
        array = true;
        break;
      case 'arrayMinSize':
        s.minItems = c[0];
        array = true;
        break;
      case 'isUUID':
        target.type = 'string';
        target.format = 'uuid';
        break;
      case 'isISO8601':
      case 'isDateString':
      case 'isRFC3339':
        target.type = 'string';
        target.format = 'date-time';
        break;
      case 'isUrl':
        target.type = 'string';
        target.format = 'uri';
        break;
      case 'isDefined':
      case 'isNotEmpty':
        break;
      default:
        rules.push(`${name}${c.length ? `(${c.map(fmt).join(', ')})` : ''}`);
    }
  }
  const nested = nestedClass(cls, prop);
  if (nested) Object.assign(array ? item : s, { $ref: `#/$defs/${nested.name}` });
  if (!s.type && !s.enum && !s.const && !nested && !array) {
    if (designType === String) s.type = 'string';
    else if (designType === Number) s.type = 'number';
    else if (designType === Boolean) s.type = 'boolean';
  }
  if (array) {
    const out: JsonSchema = { type: 'array', ...s };
    delete out.$ref;
    if (Object.keys(item).length) out.items = item;
    return { schema: out, optional, conditional, rules, nested, array };
  }
  return { schema: s, optional, conditional, rules, nested, array };
}

/** JSON Schema of a class; nested classes go to `defs` by name (call again for each). */
export function schemaOf(cls: Ctor, defs: Record<string, JsonSchema>, describe?: Describe): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [prop, ms] of metadataOf(cls)) {
    const d = describeProperty(cls, prop, ms);
    const doc = describe?.(cls.name, prop);
    const rules = d.rules.length ? `${doc ? ' ' : ''}(${d.rules.join('; ')})` : '';
    properties[prop] = { ...d.schema, ...(doc || rules ? { description: `${doc ?? ''}${rules}` } : {}) };
    if (!d.optional && !d.conditional) required.push(prop);
    if (d.nested && !defs[d.nested.name]) {
      defs[d.nested.name] = {};
      defs[d.nested.name] = schemaOf(d.nested, defs, describe);
    }
  }
  const doc = describe?.(cls.name);
  return {
    type: 'object',
    ...(doc ? { description: doc } : {}),
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

/** A schema in a few words for a table cell. */
export function typeWords(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return (s.enum as unknown[]).map((v) => `\`${String(v)}\``).join(' | ');
  if (s.$ref) return 'object';
  if (s.type === 'array') return `${s.items ? typeWords(s.items as JsonSchema) : 'any'}[]`;
  return `${(s.type as string | undefined) ?? 'any'}${s.format ? ` (${String(s.format)})` : ''}`;
}

function ruleWords(s: JsonSchema): string {
  const r: string[] = [];
  const i = (s.items as JsonSchema | undefined) ?? {};
  for (const x of [s, i]) {
    if (x.minimum !== undefined && x.maximum !== undefined)
      r.push(`${String(x.minimum)}–${String(x.maximum)}`);
    else if (x.minimum !== undefined) r.push(`≥ ${String(x.minimum)}`);
    else if (x.maximum !== undefined) r.push(`≤ ${String(x.maximum)}`);
    if (x.minLength !== undefined) r.push(`length ≥ ${String(x.minLength)}`);
    if (x.maxLength !== undefined) r.push(`length ≤ ${String(x.maxLength)}`);
    if (x.pattern !== undefined) r.push(`matches \`${String(x.pattern)}\``);
  }
  if (s.maxItems !== undefined) r.push(`at most ${String(s.maxItems)} items`);
  if (s.minItems !== undefined) r.push(`at least ${String(s.minItems)} items`);
  return r.join('; ');
}

/** The fields of a class, nested classes flattened with dotted paths (depth-first, in order). */
export function fieldRows(cls: Ctor, describe?: Describe, prefix = '', seen = new Set<Ctor>()): FieldRow[] {
  const rows: FieldRow[] = [];
  if (seen.has(cls)) return rows;
  const inner = new Set(seen).add(cls);
  for (const [prop, ms] of metadataOf(cls)) {
    const d = describeProperty(cls, prop, ms);
    const p = `${prefix}${prop}`;
    const extra = d.rules.join('; ');
    rows.push({
      path: p,
      type: typeWords(d.schema),
      required: d.conditional ? 'conditional' : d.optional ? 'no' : 'yes',
      rules: [ruleWords(d.schema), extra].filter(Boolean).join('; '),
      description: describe?.(cls.name, prop) ?? '',
    });
    if (d.nested) rows.push(...fieldRows(d.nested, describe, `${p}${d.array ? '[]' : ''}.`, inner));
  }
  return rows;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A Markdown table of field rows. */
export function fieldTable(rows: FieldRow[]): string[] {
  if (!rows.length) return ['*(no fields)*'];
  return [
    '| field | type | required | rules | meaning |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.path}\` | ${cell(r.type)} | ${r.required} | ${cell(r.rules)} | ${cell(r.description)} |`,
    ),
  ];
}
