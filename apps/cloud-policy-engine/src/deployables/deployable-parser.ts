import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import {
  AssemblyDoc,
  ConstraintDoc,
  DeployableDocument,
  FieldError,
  ParameterValueDoc,
  ServiceDoc,
  validateData,
} from '@nephele/contracts';
import { orderLoop } from '@nephele/policy';
import { parseDuration, yamlDepth } from '@nephele/util';
import { DeployableManifestDto } from './dto/manifest.dto';

export type DeployableFormat = 'json' | 'yaml' | 'xml';

export const MAX_DEPLOYABLE_BYTES = 1_000_000;
/** Deepest nesting of a YAML deployable (the YAML parser recurses per level). */
const MAX_DEPTH = 64;
export const DEFAULT_MONITOR = { heartbeatIntervalMs: 1000, missedHeartbeats: 3 };
const DEFAULT_SERVICE_MONITOR = { intervalMs: 10_000, timeoutMs: 5_000 };
const INFINITY = 1_000_000;

export class DeployableParseError extends Error {
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(message);
  }
}

const fail = (message: string, errors: FieldError[] = []): never => {
  throw new DeployableParseError(message, errors);
};

/** Guesses the format of a text body: XML starts with `<`, JSON with `{`, anything else is YAML. */
export function sniffFormat(text: string): DeployableFormat {
  const t = text.trimStart();
  if (t.startsWith('<')) return 'xml';
  if (t.startsWith('{')) return 'json';
  return 'yaml';
}

/**
 * Parses a deployable in any accepted format into the normalised document, or throws a
 * DeployableParseError listing every problem with its field. Safe on hostile input: a size limit,
 * no DTDs or entities in XML, YAML without custom tags or unbounded aliases.
 */
export function parseDeployable(input: string | object, format?: DeployableFormat): DeployableDocument {
  try {
    return parseAny(input, format);
  } catch (e) {
    if (e instanceof DeployableParseError) throw e;
    // A document nested deeper than the stack (JSON text over AMQP, a YAML tree) is bad input too.
    if (e instanceof RangeError) return fail(`unreadable deployable: ${e.message}`);
    throw e;
  }
}

function parseAny(input: string | object, format?: DeployableFormat): DeployableDocument {
  if (typeof input !== 'string') return fromManifest(input);
  if (Buffer.byteLength(input) > MAX_DEPLOYABLE_BYTES)
    fail(`a deployable may be at most ${MAX_DEPLOYABLE_BYTES} bytes`);
  const f = format ?? sniffFormat(input);
  switch (f) {
    case 'xml':
      return fromXml(input);
    case 'json': {
      let v: unknown;
      try {
        v = JSON.parse(input);
      } catch (e) {
        return fail(`malformed JSON: ${(e as Error).message}`);
      }
      return fromManifest(v);
    }
    case 'yaml': {
      if (yamlDepth(input, MAX_DEPTH) > MAX_DEPTH) return fail(`YAML nested deeper than ${MAX_DEPTH} levels`);
      let v: unknown;
      try {
        v = parseYaml(input, { maxAliasCount: 100, customTags: [], uniqueKeys: true });
      } catch (e) {
        return fail(`malformed YAML: ${(e as Error).message.split('\n')[0]}`);
      }
      return fromManifest(v);
    }
  }
}

function durationMs(
  v: string | number | undefined,
  field: string,
  errors: FieldError[],
  def: number,
): number {
  if (v === undefined) return def;
  try {
    return parseDuration(v);
  } catch (e) {
    errors.push({ field, message: (e as Error).message });
    return def;
  }
}

function scoreOf(v: number | string | undefined, field: string, errors: FieldError[]): number {
  if (v === undefined) return INFINITY;
  if (typeof v === 'number' && Number.isInteger(v)) return Math.max(-INFINITY, Math.min(INFINITY, v));
  const t = String(v).trim().toUpperCase();
  if (t === 'INFINITY' || t === '+INFINITY') return INFINITY;
  if (t === '-INFINITY') return -INFINITY;
  if (/^[+-]?\d+$/.test(t)) return Math.max(-INFINITY, Math.min(INFINITY, Number(t)));
  errors.push({ field, message: 'score must be an integer or ±INFINITY' });
  return 0;
}

/** Numbers written where durations go (`period: 60`) are seconds, as in pacemaker-cloud. */
function normaliseDurations(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normaliseDurations);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] =
        [
          'period',
          'interval',
          'timeout',
          'heartbeatInterval',
          'startTimeout',
          'stopTimeout',
          'initial',
          'max',
        ].includes(k) && typeof x === 'number'
          ? `${x}s`
          : normaliseDurations(x);
    }
    return out;
  }
  return v;
}

/** Nephele YAML/JSON → document, with field-level validation and cross-reference checks. */
export function fromManifest(raw: unknown): DeployableDocument {
  const v = validateData(DeployableManifestDto, normaliseDurations(raw), '');
  if (!v.ok) {
    return fail(
      'invalid deployable',
      v.errors.map((e) => ({ ...e, field: e.field.replace(/^\./, '') })),
    );
  }
  const m = v.value;
  const errors: FieldError[] = [];
  const assemblies: AssemblyDoc[] = m.assemblies.map((a, i) => ({
    name: a.name,
    image: a.image,
    hardwareProfile: a.hardwareProfile,
    escalation: a.escalation
      ? {
          failures: a.escalation.failures,
          periodMs: durationMs(a.escalation.period, `assemblies[${i}].escalation.period`, errors, 600_000),
        }
      : undefined,
    services: (a.services ?? []).map((s, j) => serviceDoc(s, `assemblies[${i}].services[${j}]`, errors)),
  }));
  const constraints = (m.constraints ?? []).flatMap((c, i) => constraintDoc(c, i, errors));
  const doc: DeployableDocument = {
    name: m.name,
    pool: m.pool ?? 'default',
    monitor: {
      heartbeatIntervalMs: durationMs(
        m.monitor?.heartbeatInterval,
        'monitor.heartbeatInterval',
        errors,
        DEFAULT_MONITOR.heartbeatIntervalMs,
      ),
      missedHeartbeats: m.monitor?.missedHeartbeats ?? DEFAULT_MONITOR.missedHeartbeats,
    },
    assemblies,
    constraints,
  };
  if (m.groups?.length) doc.groups = m.groups.map((g) => ({ name: g.name, services: [...g.services] }));
  if (m.recovery) doc.recovery = recoveryDoc(m.recovery, errors);
  checkReferences(doc, errors);
  if (errors.length) fail('invalid deployable', errors);
  return doc;
}

type ManifestService = NonNullable<DeployableManifestDto['assemblies'][number]['services']>[number];
type ManifestConstraint = NonNullable<DeployableManifestDto['constraints']>[number];
type ManifestRecovery = NonNullable<DeployableManifestDto['recovery']>;

function serviceDoc(s: ManifestService, at: string, errors: FieldError[]): ServiceDoc {
  const parameters = manifestParameters(s.parameters, at, errors);
  return {
    name: s.name,
    class: s.class,
    provider: s.provider,
    type: s.type,
    command: s.command,
    parameters,
    monitor: {
      intervalMs: durationMs(
        s.monitor?.interval,
        `${at}.monitor.interval`,
        errors,
        DEFAULT_SERVICE_MONITOR.intervalMs,
      ),
      timeoutMs: durationMs(
        s.monitor?.timeout,
        `${at}.monitor.timeout`,
        errors,
        DEFAULT_SERVICE_MONITOR.timeoutMs,
      ),
      ...(s.monitor?.http ? { http: { port: s.monitor.http.port, path: s.monitor.http.path ?? '/' } } : {}),
      ...(s.monitor?.tcp ? { tcp: { port: s.monitor.tcp.port } } : {}),
    },
    escalation: s.escalation
      ? {
          failures: s.escalation.failures,
          periodMs: durationMs(s.escalation.period, `${at}.escalation.period`, errors, 60_000),
        }
      : undefined,
    placement: s.placement ? { assemblies: s.placement.assemblies } : undefined,
    priority: s.priority,
    enabled: s.enabled,
    ...(s.startTimeout !== undefined
      ? { startTimeoutMs: durationMs(s.startTimeout, `${at}.startTimeout`, errors, 20_000) }
      : {}),
    ...(s.stopTimeout !== undefined
      ? { stopTimeoutMs: durationMs(s.stopTimeout, `${at}.stopTimeout`, errors, 10_000) }
      : {}),
    ...(s.backoff ? { backoff: backoffOf(s.backoff, `${at}.backoff`, errors) } : {}),
  };
}

function manifestParameters(
  given: ManifestService['parameters'],
  at: string,
  errors: FieldError[],
): Record<string, ParameterValueDoc> {
  const parameters: Record<string, ParameterValueDoc> = {};
  for (const [k, p] of Object.entries(given ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(k))
      errors.push({
        field: `${at}.parameters.${k}`,
        message: 'parameter names are letters, digits and _',
      });
    else if (typeof p === 'string' || typeof p === 'number' || typeof p === 'boolean')
      parameters[k] = String(p);
    else if (p && typeof p === 'object' && 'ref' in p) {
      const ref = (p as { ref: unknown }).ref as { assembly?: unknown; parameter?: unknown } | null;
      if (!ref || typeof ref.assembly !== 'string' || typeof ref.parameter !== 'string') {
        errors.push({
          field: `${at}.parameters.${k}.ref`,
          message: 'a reference needs {assembly, parameter}',
        });
      } else parameters[k] = { ref: { assembly: ref.assembly, parameter: ref.parameter } };
    } else
      errors.push({
        field: `${at}.parameters.${k}`,
        message: 'a parameter is a string or {ref: {assembly, parameter}}',
      });
  }
  return parameters;
}

function constraintDoc(c: ManifestConstraint, i: number, errors: FieldError[]): ConstraintDoc[] {
  const kinds = [c.order, c.colocation, c.location].filter(Boolean).length;
  if (kinds !== 1) {
    errors.push({
      field: `constraints[${i}]`,
      message: 'a constraint is exactly one of order, colocation, location',
    });
    return [];
  }
  if (c.order) return [{ kind: 'order', id: c.id, first: c.order.first, then: c.order.then }];
  if (c.colocation) {
    return [
      {
        kind: 'colocation',
        id: c.id,
        service: c.colocation.service,
        with: c.colocation.with,
        score: scoreOf(c.colocation.score, `constraints[${i}].colocation.score`, errors),
      },
    ];
  }
  return [
    {
      kind: 'location',
      id: c.id,
      service: c.location!.service,
      assembly: c.location!.assembly,
      score: scoreOf(c.location!.score, `constraints[${i}].location.score`, errors),
    },
  ];
}

function recoveryDoc(r: ManifestRecovery, errors: FieldError[]): DeployableDocument['recovery'] {
  const esc = (e: { failures: number; period: string } | undefined, field: string, def: number) =>
    e ? { failures: e.failures, periodMs: durationMs(e.period, field, errors, def) } : undefined;
  return {
    ...(r.escalation ? { escalation: esc(r.escalation, 'recovery.escalation.period', 600_000) } : {}),
    ...(r.assemblyEscalation
      ? { assemblyEscalation: esc(r.assemblyEscalation, 'recovery.assemblyEscalation.period', 1_800_000) }
      : {}),
    ...(r.moves !== undefined ? { moves: r.moves } : {}),
    ...(r.launchAttempts !== undefined ? { launchAttempts: r.launchAttempts } : {}),
    ...(r.backoff ? { backoff: backoffOf(r.backoff, 'recovery.backoff', errors) } : {}),
  };
}

function backoffOf(
  b: { initial: string; max: string },
  field: string,
  errors: FieldError[],
): { initialMs: number; maxMs: number } {
  const initialMs = durationMs(b.initial, `${field}.initial`, errors, 1000);
  const maxMs = durationMs(b.max, `${field}.max`, errors, 60_000);
  if (maxMs < initialMs) errors.push({ field: `${field}.max`, message: 'must be at least initial' });
  return { initialMs, maxMs };
}

/**
 * Groups: unique names; each service `<assembly>/<service>` exists, is in one group only, all of
 * a group's services are on its first service's assembly (a group runs on one assembly) and may run
 * on the same assemblies (it moves as one: Pacemaker would leave a member that cannot follow stopped).
 */
function checkGroups(doc: DeployableDocument, serviceIds: Set<string>, errors: FieldError[]): void {
  const groupOf = new Map<string, string>();
  const names = new Set<string>();
  /** The assemblies a service may run on, sorted and joined (default: its own). */
  const allowedOf = (id: string): string => {
    const [a, name] = id.split('/') as [string, string];
    const svc = doc.assemblies.find((x) => x.name === a)?.services.find((x) => x.name === name);
    return [...new Set(svc?.placement?.assemblies ?? [a])].sort().join(', ');
  };
  (doc.groups ?? []).forEach((g, i) => {
    if (names.has(g.name))
      errors.push({ field: `groups[${i}].name`, message: `group ${g.name} is defined twice` });
    names.add(g.name);
    let home: string | undefined;
    let firstAllowed: string | undefined;
    g.services.forEach((id, j) => {
      const field = `groups[${i}].services[${j}]`;
      const slash = id.indexOf('/');
      if (slash <= 0 || slash === id.length - 1) {
        errors.push({
          field,
          message: `write the service as <assembly>/<service>, not ${JSON.stringify(id)}`,
        });
        return;
      }
      const assembly = id.slice(0, slash);
      const service = id.slice(slash + 1);
      if (!serviceIds.has(id)) {
        errors.push({ field, message: `no service ${JSON.stringify(service)} on assembly ${assembly}` });
        return;
      }
      home ??= assembly;
      if (assembly !== home)
        errors.push({
          field,
          message: `a group runs on one assembly: ${id} is not on ${home}, where ${g.services[0]} is`,
        });
      else {
        // The group moves as one: a member that may not follow would be left stopped.
        const allowed = allowedOf(id);
        firstAllowed ??= allowed;
        if (allowed !== firstAllowed)
          errors.push({
            field,
            message: `a group moves as one: ${id} may run on [${allowed}], ${g.services[0]} on [${firstAllowed}] (give them the same placement)`,
          });
      }
      const other = groupOf.get(id);
      if (other !== undefined)
        errors.push({
          field,
          message:
            other === g.name ? `${id} is listed twice in this group` : `${id} is already in group ${other}`,
        });
      groupOf.set(id, g.name);
    });
  });
}

/** Cross-references: names unique, constraints, placements and parameter refs name things that exist. */
export function checkReferences(doc: DeployableDocument, errors: FieldError[]): void {
  if (doc.assemblies.length === 0)
    errors.push({ field: 'assemblies', message: 'a deployable has at least one assembly' });
  const assemblyNames = new Set<string>();
  const serviceIds = new Set<string>();
  doc.assemblies.forEach((a, i) => {
    if (assemblyNames.has(a.name))
      errors.push({ field: `assemblies[${i}].name`, message: `assembly ${a.name} is defined twice` });
    assemblyNames.add(a.name);
    a.services.forEach((s, j) => {
      const id = `${a.name}/${s.name}`;
      if (serviceIds.has(id))
        errors.push({
          field: `assemblies[${i}].services[${j}].name`,
          message: `service ${id} is defined twice`,
        });
      serviceIds.add(id);
      if (s.class === 'process' && !s.command?.length)
        errors.push({
          field: `assemblies[${i}].services[${j}].command`,
          message: 'a process service needs a command',
        });
      if (s.class !== 'process' && !s.type)
        errors.push({
          field: `assemblies[${i}].services[${j}].type`,
          message: `a ${s.class} service needs a type`,
        });
      if (s.class === 'ocf' && !s.provider)
        errors.push({
          field: `assemblies[${i}].services[${j}].provider`,
          message: 'an ocf service needs a provider',
        });
    });
  });
  doc.assemblies.forEach((a, i) =>
    a.services.forEach((s, j) => {
      s.placement?.assemblies.forEach((p, k) => {
        if (!assemblyNames.has(p))
          errors.push({
            field: `assemblies[${i}].services[${j}].placement.assemblies[${k}]`,
            message: `unknown assembly ${p}`,
          });
      });
      for (const [k, p] of Object.entries(s.parameters)) {
        if (typeof p !== 'string' && !assemblyNames.has(p.ref.assembly)) {
          errors.push({
            field: `assemblies[${i}].services[${j}].parameters.${k}.ref.assembly`,
            message: `unknown assembly ${p.ref.assembly}`,
          });
        }
      }
    }),
  );
  checkGroups(doc, serviceIds, errors);
  doc.constraints.forEach((c, i) => {
    const svc = (id: string, field: string) => {
      if (!serviceIds.has(id))
        errors.push({
          field: `constraints[${i}].${field}`,
          message: `unknown service ${id} (write <assembly>/<service>)`,
        });
    };
    if (c.kind === 'order') {
      svc(c.first, 'first');
      svc(c.then, 'then');
      if (c.first === c.then)
        errors.push({ field: `constraints[${i}]`, message: 'a service cannot be ordered after itself' });
    } else if (c.kind === 'colocation') {
      svc(c.service, 'service');
      svc(c.with, 'with');
    } else {
      svc(c.service, 'service');
      if (!assemblyNames.has(c.assembly))
        errors.push({ field: `constraints[${i}].assembly`, message: `unknown assembly ${c.assembly}` });
    }
  });
  checkOrderLoops(doc, errors);
}

/**
 * Orders (with each group's start order) must not form a loop: no start order could satisfy them,
 * and Pacemaker's transition would stall (see Note [Order loops] in libs/policy cib-reader.ts).
 */
function checkOrderLoops(doc: DeployableDocument, errors: FieldError[]): void {
  const edges: Array<readonly [string, string]> = [];
  const origin = new Map<string, number>(); // "first\0then" → constraint index
  doc.constraints.forEach((c, i) => {
    if (c.kind !== 'order' || c.first === c.then) return;
    edges.push([c.first, c.then]);
    if (!origin.has(`${c.first}\0${c.then}`)) origin.set(`${c.first}\0${c.then}`, i);
  });
  for (const g of doc.groups ?? []) for (let k = 1; k < g.services.length; k++) edges.push([g.services[k - 1]!, g.services[k]!]);
  const loop = orderLoop(edges);
  if (!loop) return;
  let index: number | undefined;
  for (let k = 1; k < loop.length && index === undefined; k++) index = origin.get(`${loop[k - 1]}\0${loop[k]}`);
  errors.push({ field: index === undefined ? 'constraints' : `constraints[${index}]`, message: `orders form a loop (${loop.join(' → ')})` });
}

// ---------------------------------------------------------------------------------------------
// pacemaker-cloud XML

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
type XmlNode = Record<string, unknown>;

const attr = (n: XmlNode, k: string) => (typeof n[`@${k}`] === 'string' ? (n[`@${k}`] as string) : undefined);

/** Well-formed XML parsed with no entity expansion, or a 400 naming `xml`. */
function parseXml(xml: string): XmlNode {
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true)
    fail(`malformed XML: ${valid.err.msg} (line ${valid.err.line})`, [
      { field: 'xml', message: valid.err.msg },
    ]);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    processEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    parseTagValue: false,
    parseAttributeValue: false,
    isArray: (name) => ['assembly', 'service', 'parameter', 'service_dependancy', 'value'].includes(name),
  });
  try {
    return parser.parse(xml) as XmlNode;
  } catch (e) {
    // e.g. "Maximum nested tags exceeded": the validator accepts what the parser then refuses.
    return fail(`unreadable XML: ${(e as Error).message}`, [{ field: 'xml', message: (e as Error).message }]);
  }
}

/** A service's <parameters>: literal values, or references to another assembly's parameter. */
function xmlParameters(s: XmlNode): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const p of asArray((s.parameters as XmlNode | undefined)?.parameter as XmlNode[] | undefined)) {
    const name = attr(p, 'name') ?? '';
    const ref = p.reference as XmlNode | undefined;
    if (ref)
      parameters[name] = {
        ref: { assembly: attr(ref, 'assembly'), parameter: attr(ref, 'parameter') },
      };
    else parameters[name] = String(asArray(p.value as unknown[])[0] ?? '');
  }
  return parameters;
}

/** pacemaker-cloud XML → document (see shared/examples/shop.pcmk-cloud.xml). */
export function fromXml(xml: string): DeployableDocument {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    fail('DTDs and entities are not accepted in deployable XML', [
      { field: 'xml', message: 'remove the DOCTYPE/ENTITY declarations' },
    ]);
  const d = parseXml(xml).deployable as XmlNode | undefined;
  if (!d) return fail('the root element must be <deployable>', [{ field: 'deployable', message: 'missing' }]);
  const errors: FieldError[] = [];
  const esc = (n: XmlNode, at: string, defPeriod: number) => {
    const f = attr(n, 'escalation_failures');
    if (f === undefined) return undefined;
    const failures = Number(f);
    if (!Number.isInteger(failures) || failures < 1)
      errors.push({ field: `${at}@escalation_failures`, message: 'must be a positive integer' });
    return { failures, period: attr(n, 'escalation_period') ?? `${defPeriod / 1000}s` };
  };
  const assembliesXml = asArray((d.assemblies as XmlNode | undefined)?.assembly as XmlNode[] | undefined);
  const manifest = {
    name: attr(d, 'name'),
    pool: attr(d, 'pool'),
    assemblies: assembliesXml.map((a, i) => ({
      name: attr(a, 'name'),
      image: attr(a, 'image') ?? 'default',
      hardwareProfile: attr(a, 'hardware_profile') ?? 'default',
      escalation: esc(a, `assemblies[${i}]`, 600_000),
      services: asArray((a.services as XmlNode | undefined)?.service as XmlNode[] | undefined).map((s, j) => {
        const parameters = xmlParameters(s);
        const command = attr(s, 'command');
        return {
          name: attr(s, 'name'),
          class: attr(s, 'class'),
          provider: attr(s, 'provider'),
          type: attr(s, 'type'),
          ...(command ? { command: command.split(/\s+/).filter(Boolean) } : {}),
          parameters,
          monitor: { interval: attr(s, 'monitor_interval') ?? '10s' },
          escalation: esc(s, `assemblies[${i}].services[${j}]`, 60_000),
        };
      }),
    })),
    constraints: [] as unknown[],
  };
  // Constraints name services rsc_<assembly>_<service>: resolve against the services declared.
  const ids = new Map<string, string>();
  for (const a of manifest.assemblies)
    for (const s of a.services) ids.set(`rsc_${a.name}_${s.name}`, `${a.name}/${s.name}`);
  asArray((d.constraints as XmlNode | undefined)?.service_dependancy as XmlNode[] | undefined).forEach(
    (c, i) => {
      const first = attr(c, 'first') ?? '';
      const then = attr(c, 'then') ?? '';
      const f = ids.get(first);
      const t = ids.get(then);
      if (!f)
        errors.push({
          field: `constraints[${i}].first`,
          message: `unknown service ${first} (write rsc_<assembly>_<service>)`,
        });
      if (!t)
        errors.push({
          field: `constraints[${i}].then`,
          message: `unknown service ${then} (write rsc_<assembly>_<service>)`,
        });
      manifest.constraints.push({ id: attr(c, 'id'), order: { first: f ?? first, then: t ?? then } });
    },
  );
  if (errors.length) fail('invalid deployable', errors);
  return fromManifest(JSON.parse(JSON.stringify(manifest)));
}
