import { parse as parseYaml } from 'yaml';
import { functionOf, references, SUPPORTED_FUNCTIONS } from './hot-functions';
import { checkParameterDeclarations } from './hot-parameters';
import { HotError, HotResource, HotTemplate } from './hot.types';

/** Resource types served, with the properties each takes and the attributes it has. */
export const RESOURCE_TYPES: Record<
  string,
  { properties: string[]; attributes: string[]; ignored?: string[] }
> = {
  'OS::Nova::Server': {
    properties: ['name', 'image', 'flavor', 'key_name', 'user_data', 'user_data_format', 'metadata'],
    // Accepted and ignored: every server sits on the pool's one network.
    ignored: ['networks', 'security_groups', 'config_drive', 'availability_zone'],
    attributes: ['first_address', 'addresses', 'networks', 'name', 'show', 'accessIPv4', 'accessIPv6'],
  },
  'OS::Heat::SoftwareConfig': {
    properties: ['config', 'group'],
    attributes: ['config'],
  },
  'OS::Heat::ResourceGroup': {
    properties: ['count', 'resource_def', 'index_var'],
    attributes: ['refs'],
  },
};

const SECTIONS = new Set([
  'heat_template_version',
  'description',
  'parameter_groups',
  'parameters',
  'resources',
  'outputs',
]);
const RESOURCE_KEYS = new Set(['type', 'properties', 'depends_on', 'metadata']);
const VERSION =
  /^(\d{4}-\d{2}-\d{2}|newton|ocata|pike|queens|rocky|stein|train|ussuri|victoria|wallaby|xena|yoga|zed|antelope|bobcat|caracal|dalmatian|epoxy)$/;

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Reads a template given as text (YAML or JSON) or already parsed. */
export function readHot(input: unknown): { doc?: unknown; error?: string } {
  if (typeof input !== 'string') return { doc: input };
  try {
    return { doc: parseYaml(input, { maxAliasCount: 100 }) };
  } catch (e) {
    return { error: `the template is not YAML or JSON: ${(e as Error).message}` };
  }
}

function checkFunctions(v: unknown, at: string, errors: HotError[]): void {
  if (Array.isArray(v)) return v.forEach((x, i) => checkFunctions(x, `${at}[${i}]`, errors));
  const fn = functionOf(v);
  if (fn && !(SUPPORTED_FUNCTIONS as readonly string[]).includes(fn.name))
    errors.push({
      field: at,
      message: `the intrinsic function ${fn.name} is not supported (supported: ${SUPPORTED_FUNCTIONS.join(', ')})`,
    });
  if (isMap(v)) for (const [k, x] of Object.entries(v)) checkFunctions(x, `${at}.${k}`, errors);
}

function checkResource(
  name: string,
  r: unknown,
  names: Set<string>,
  errors: HotError[],
  at = `resources.${name}`,
): void {
  if (!isMap(r)) return void errors.push({ field: at, message: 'must be a map with a type' });
  for (const k of Object.keys(r))
    if (!RESOURCE_KEYS.has(k))
      errors.push({ field: `${at}.${k}`, message: `the resource attribute ${k} is not supported` });
  const spec = typeof r.type === 'string' ? RESOURCE_TYPES[r.type] : undefined;
  if (!spec) {
    errors.push({
      field: `${at}.type`,
      message: `The Resource Type (${String(r.type)}) is not supported here (supported: ${Object.keys(RESOURCE_TYPES).join(', ')})`,
    });
    return;
  }
  const props = r.properties ?? {};
  if (!isMap(props)) return void errors.push({ field: `${at}.properties`, message: 'must be a map' });
  for (const k of Object.keys(props))
    if (!spec.properties.includes(k) && !spec.ignored?.includes(k))
      errors.push({ field: `${at}.properties.${k}`, message: `Unknown Property ${k} of ${String(r.type)}` });
  checkFunctions(props, `${at}.properties`, errors);
  const deps = r.depends_on === undefined ? [] : Array.isArray(r.depends_on) ? r.depends_on : [r.depends_on];
  for (const d of deps)
    if (typeof d !== 'string' || !names.has(d))
      errors.push({
        field: `${at}.depends_on`,
        message: `The specified reference "${String(d)}" (in ${name}) is incorrect.`,
      });
  for (const ref of references(props))
    if (!names.has(ref))
      errors.push({
        field: `${at}.properties`,
        message: `The specified reference "${ref}" (in ${name}) is incorrect.`,
      });
  if (r.type === 'OS::Nova::Server') {
    const f = props.user_data_format;
    if (f !== undefined && f !== 'RAW' && !functionOf(f))
      errors.push({
        field: `${at}.properties.user_data_format`,
        message: `user_data_format ${String(f)} is not supported (only RAW)`,
      });
    for (const k of ['image', 'flavor'])
      if (props[k] === undefined)
        errors.push({ field: `${at}.properties.${k}`, message: `Property ${k} not assigned` });
  }
  if (r.type === 'OS::Heat::ResourceGroup') {
    const def = props.resource_def;
    if (!isMap(def))
      errors.push({ field: `${at}.properties.resource_def`, message: 'Property resource_def not assigned' });
    else if (def.type === 'OS::Heat::ResourceGroup')
      errors.push({
        field: `${at}.properties.resource_def.type`,
        message: 'nested resource groups are not supported',
      });
    else checkResource(name, def, names, errors, `${at}.properties.resource_def`);
  }
}

/** Checks get_attr calls name an attribute their resource has. */
function checkAttributes(v: unknown, at: string, t: Record<string, unknown>, errors: HotError[]): void {
  if (Array.isArray(v)) return v.forEach((x, i) => checkAttributes(x, `${at}[${i}]`, t, errors));
  const fn = functionOf(v);
  if (fn?.name === 'get_attr' && Array.isArray(fn.args) && typeof fn.args[0] === 'string') {
    const r = t[fn.args[0]] as HotResource | undefined;
    const attr = fn.args[1];
    if (r && typeof attr === 'string') {
      let type = r.type;
      let name = attr;
      if (type === 'OS::Heat::ResourceGroup') {
        const def = (r.properties?.resource_def ?? {}) as HotResource;
        if (/^resource\.\d+$/.test(attr)) {
          type = def.type;
          name = typeof fn.args[2] === 'string' ? fn.args[2] : '';
        } else if (attr !== 'refs') type = def.type;
      }
      const spec = RESOURCE_TYPES[type];
      if (spec && name && !spec.attributes.includes(name) && !(type === r.type && attr === 'refs'))
        errors.push({ field: at, message: `The Referenced Attribute (${fn.args[0]} ${name}) is incorrect.` });
    }
  }
  if (isMap(v)) for (const [k, x] of Object.entries(v)) checkAttributes(x, `${at}.${k}`, t, errors);
}

/**
 * Validates a HOT document against the subset served. Anything outside it (a section, a resource
 * type, a property, a function, a constraint) is an error that names it.
 */
export function validateHot(doc: unknown): { template?: HotTemplate; errors: HotError[] } {
  const errors: HotError[] = [];
  if (!isMap(doc)) return { errors: [{ field: 'template', message: 'must be a map (a HOT document)' }] };
  for (const k of Object.keys(doc))
    if (!SECTIONS.has(k)) errors.push({ field: k, message: `the template section ${k} is not supported` });
  const v = doc.heat_template_version;
  if (typeof v !== 'string' || !VERSION.test(v))
    errors.push({ field: 'heat_template_version', message: 'required: a HOT version such as 2018-08-31' });
  errors.push(...checkParameterDeclarations(doc.parameters));
  const resources = doc.resources ?? {};
  if (!isMap(resources)) errors.push({ field: 'resources', message: 'must be a map' });
  const res = isMap(resources) ? resources : {};
  const names = new Set(Object.keys(res));
  for (const [name, r] of Object.entries(res)) checkResource(name, r, names, errors);
  const outputs = doc.outputs ?? {};
  if (!isMap(outputs)) errors.push({ field: 'outputs', message: 'must be a map' });
  else
    for (const [name, o] of Object.entries(outputs)) {
      if (!isMap(o) || !('value' in o))
        errors.push({ field: `outputs.${name}`, message: 'must be a map with a value' });
      else {
        checkFunctions(o.value, `outputs.${name}.value`, errors);
        for (const ref of references(o.value))
          if (!names.has(ref))
            errors.push({
              field: `outputs.${name}`,
              message: `The specified reference "${ref}" (in outputs) is incorrect.`,
            });
      }
    }
  if (!errors.length) {
    for (const [name, r] of Object.entries(res))
      checkAttributes((r as HotResource).properties, `resources.${name}.properties`, res, errors);
    for (const [name, o] of Object.entries(outputs as Record<string, { value: unknown }>))
      checkAttributes(o.value, `outputs.${name}.value`, res, errors);
  }
  if (!errors.length) {
    try {
      resourceOrder(res as Record<string, HotResource>);
    } catch (e) {
      errors.push({ field: 'resources', message: (e as Error).message });
    }
  }
  if (errors.length) return { errors };
  return {
    template: {
      heat_template_version: v as string,
      description: typeof doc.description === 'string' ? doc.description : undefined,
      parameters: (doc.parameters ?? {}) as HotTemplate['parameters'],
      resources: res as HotTemplate['resources'],
      outputs: outputs as HotTemplate['outputs'],
    },
    errors,
  };
}

/** The resources' dependencies: depends_on plus every get_resource/get_attr reference. */
export function dependencies(r: HotResource): string[] {
  const deps = new Set(references(r.properties ?? {}));
  for (const d of r.depends_on === undefined
    ? []
    : Array.isArray(r.depends_on)
      ? r.depends_on
      : [r.depends_on])
    deps.add(d);
  return [...deps];
}

/** Resource names in creation order (dependencies first, then template order); throws on a cycle. */
export function resourceOrder(resources: Record<string, HotResource>): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, path: string[]) => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting')
      throw new Error(`Circular Dependency Found: ${[...path, n].join(' -> ')}`);
    state.set(n, 'visiting');
    for (const d of dependencies(resources[n]!)) if (d !== n && resources[d]) visit(d, [...path, n]);
    if (dependencies(resources[n]!).includes(n)) throw new Error(`Circular Dependency Found: ${n} -> ${n}`);
    state.set(n, 'done');
    out.push(n);
  };
  for (const n of Object.keys(resources)) visit(n, []);
  return out;
}

/** A ResourceGroup member's definition: the index variable replaced by its index in every string. */
export function groupMember(def: HotResource, index: number, indexVar = '%index%'): HotResource {
  const sub = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.split(indexVar).join(String(index))
      : Array.isArray(v)
        ? v.map(sub)
        : isMap(v)
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sub(x)]))
          : v;
  return sub(def) as HotResource;
}
