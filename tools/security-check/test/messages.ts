import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { getMetadataStorage } from 'class-validator';
import { CloudEvent, MessageDefinition, Topology, validateMessage } from '@nephele/contracts';
import { jsonWith } from './fuzz';

/** A message as published: raw bytes, where it goes, and the id that finds it again. */
export interface BusMessage {
  id: string;
  exchange: string;
  routingKey: string;
  content: Buffer;
  kind: 'bytes' | 'not a CloudEvent' | 'wrong data' | 'valid';
}

export const exchangeOf = (d: MessageDefinition): string =>
  d.kind === 'command' ? Topology.commands : Topology.events;
/** A concrete routing key for a type (`nephele.audit.*` → `nephele.audit.fuzzed`). */
export const routingKeyOf = (d: MessageDefinition): string => d.type.replace(/\*$/, 'fuzzed');

interface PropertyRule {
  name: string;
  optional: boolean;
  checks: Map<string, unknown[]>;
  nested: boolean;
}

/** The properties of a data class with their class-validator checks. */
function rulesOf(cls: new () => object): PropertyRule[] {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const byName = new Map<string, PropertyRule>();
  for (const m of metas) {
    const r = byName.get(m.propertyName) ?? {
      name: m.propertyName,
      optional: false,
      checks: new Map<string, unknown[]>(),
      nested: false,
    };
    if (m.type === 'conditionalValidation') r.optional = true;
    else if (m.type === 'nestedValidation') r.nested = true;
    else if (m.name) r.checks.set(m.name, m.constraints ?? []);
    byName.set(m.propertyName, r);
  }
  return [...byName.values()];
}

const text = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.uuid(),
  fc.constantFrom('default', 'nowhere', '00000000-0000-0000-0000-000000000000', 'x'.repeat(200)),
);

/** Values that satisfy one property's checks, from what class-validator knows of them. */
function valueOf(r: PropertyRule): fc.Arbitrary<unknown> {
  const c = r.checks;
  if (c.has('isIn')) return fc.constantFrom(...(c.get('isIn')![0] as unknown[]));
  if (c.has('isArray')) return r.nested ? fc.constant([]) : fc.array(text, { maxLength: 3 });
  if (c.has('isInt') || c.has('isNumber')) {
    const min = c.has('min') ? Number(c.get('min')![0]) : -5;
    const max = c.has('max') ? Number(c.get('max')![0]) : min + 1000;
    return fc.integer({ min, max });
  }
  if (c.has('isBoolean')) return fc.boolean();
  if (c.has('isObject'))
    return fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });
  if (c.has('isUuid') || c.has('isUUID')) return fc.uuid();
  if (c.has('isDateString') || c.has('isISO8601')) return fc.constant(new Date().toISOString());
  if (c.has('maxLength')) {
    const max = Number(c.get('maxLength')![0]);
    return fc.string({ minLength: 1, maxLength: Math.min(max, 30) });
  }
  return text;
}

/** Data a type's class accepts: required properties always, optional ones sometimes. */
export function validData(d: MessageDefinition): fc.Arbitrary<Record<string, unknown>> {
  const rules = rulesOf(d.data);
  const fields = Object.fromEntries(rules.map((r) => [r.name, valueOf(r)]));
  const requiredKeys = rules.filter((r) => !r.optional).map((r) => r.name);
  return fc.record(fields, { requiredKeys }) as fc.Arbitrary<Record<string, unknown>>;
}

const envelope = (d: MessageDefinition, data: unknown, id = randomUUID()): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/fuzz/bus',
  type: routingKeyOf(d),
  subject: randomUUID(),
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data,
});

/** Garbage, non-CloudEvents and CloudEvents with data their class refuses, for one type. */
export function invalidMessages(d: MessageDefinition): fc.Arbitrary<BusMessage> {
  const to = { exchange: exchangeOf(d), routingKey: routingKeyOf(d) };
  const names = [...rulesOf(d.data).map((r) => r.name), 'constructor', '__proto__', 'id', 'type'];
  const bytes = fc
    .oneof(
      fc.uint8Array({ minLength: 0, maxLength: 200 }).map((a) => Buffer.from(a)),
      fc
        .constantFrom('{', '', 'null', '[]', '"x"', '{"specversion":"1.0"', '\u0000')
        .map((s) => Buffer.from(s)),
    )
    .filter((b) => {
      try {
        return !validateMessage(JSON.parse(b.toString('utf8'))).ok;
      } catch {
        return true;
      }
    })
    .map((content): BusMessage => ({ id: randomUUID(), ...to, content, kind: 'bytes' }));
  const notEvent = fc
    .oneof(
      jsonWith(['specversion', 'id', 'source', 'type', 'data', 'time', 'traceparent']),
      fc.constant({ specversion: '0.3', id: 'x', source: 's', type: d.type }),
      fc.constant({ specversion: '1.0', id: '', source: 's', type: d.type }),
      fc.constant({ specversion: '1.0', id: 'x', source: 's', type: d.type, time: 'yesterday' }),
      fc.constant({ specversion: '1.0', id: 'x', source: 's', type: d.type, Bad_Extension: 1 }),
    )
    .filter((v) => !validateMessage(v).ok)
    .map((v): BusMessage => ({
      id: randomUUID(),
      ...to,
      content: Buffer.from(JSON.stringify(v)),
      kind: 'not a CloudEvent',
    }));
  const wrongData = fc
    .oneof(
      jsonWith(names),
      validData(d).chain((ok) =>
        fc
          .tuple(fc.constantFrom(...Object.keys(ok), 'unexpected'), jsonWith(names))
          .map(([k, v]) => ({ ...ok, [k]: v })),
      ),
      fc.constant({ constructor: 1 }),
      fc.constant({ x: { constructor: 'x' } }),
    )
    .map((data) => {
      const id = randomUUID();
      return { id, event: envelope(d, data, id) };
    })
    .filter(({ event }) => !validateMessage(event).ok)
    .map(({ id, event }): BusMessage => ({
      id,
      ...to,
      content: Buffer.from(JSON.stringify(event)),
      kind: 'wrong data',
    }));
  return fc.oneof(bytes, notEvent, wrongData);
}

/** Valid messages of one type (random but well-formed data). */
export function validMessages(d: MessageDefinition): fc.Arbitrary<BusMessage> {
  return validData(d)
    .map((data) => {
      const id = randomUUID();
      return { id, event: envelope(d, data, id) };
    })
    .filter(({ event }) => validateMessage(event).ok)
    .map(({ id, event }): BusMessage => ({
      id,
      exchange: exchangeOf(d),
      routingKey: routingKeyOf(d),
      content: Buffer.from(JSON.stringify(event)),
      kind: 'valid',
    }));
}
