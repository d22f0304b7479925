import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { CloudEvent, FieldError, Validated, validateCloudEvent } from './envelope';

export type MessageKind = 'event' | 'command';

/** A message type of the core bus: its type string, its `data` class and how it travels. */
export interface MessageDefinition<T extends object = object> {
  type: string;
  kind: MessageKind;
  data: new () => T;
  /** Transient messages are not persisted by the broker nor stored by the event log by default. */
  transient: boolean;
  description: string;
}

const exact = new Map<string, MessageDefinition>();
const prefixes: MessageDefinition[] = [];

/**
 * Registers a message type. A type ending in `.*` covers a family (`nephele.audit.*`).
 * Returns the definition so it can be exported as a constant.
 */
export function defineMessage<T extends object>(
  def: Omit<MessageDefinition<T>, 'transient'> & { transient?: boolean },
): MessageDefinition<T> {
  const full: MessageDefinition<T> = { transient: false, ...def };
  if (full.type.endsWith('.*')) prefixes.push(full as unknown as MessageDefinition);
  else {
    if (exact.has(full.type)) throw new Error(`message type ${full.type} defined twice`);
    exact.set(full.type, full as unknown as MessageDefinition);
  }
  return full;
}

export function findMessageDefinition(type: string): MessageDefinition | undefined {
  const hit = exact.get(type);
  if (hit) return hit;
  return prefixes.find((p) => type.startsWith(p.type.slice(0, -1)));
}

export function allMessageDefinitions(): MessageDefinition[] {
  return [...exact.values(), ...prefixes];
}

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    // Array elements are written `items[0]`, properties `a.b`.
    const field = /^\d+$/.test(e.property) ? `${prefix}[${e.property}]` : prefix ? `${prefix}.${e.property}` : e.property;
    for (const m of Object.values(e.constraints ?? {})) out.push({ field, message: m });
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/** class-validator errors as `{field, message}` pairs with dotted paths. */
export function toFieldErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return flatten(errors, prefix);
}

/** Validates `data` against a class: unknown properties are refused, nested objects checked. */
export function validateData<T extends object>(
  cls: new () => T,
  data: unknown,
  prefix = 'data',
): Validated<T> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, errors: [{ field: prefix, message: `${prefix} must be a JSON object` }] };
  }
  let inst: T;
  let errors: ReturnType<typeof validateSync>;
  try {
    inst = plainToInstance(cls, data);
    errors = validateSync(inst as object, { whitelist: true, forbidNonWhitelisted: true });
  } catch (e) {
    // class-transformer throws on some hostile shapes (an own `constructor` that is not a function,
    // nesting deeper than the stack): that is bad input, never an exception for the caller.
    return { ok: false, errors: [{ field: prefix, message: `unreadable: ${(e as Error).message}` }] };
  }
  return errors.length ? { ok: false, errors: flatten(errors, prefix) } : { ok: true, value: inst };
}

/**
 * Validates an envelope and, when its type is registered, its data. Unregistered types pass with
 * the envelope checked only: external producers may log their own types through the event log.
 */
export function validateMessage(
  input: unknown,
  opts: { requireKnownType?: boolean } = {},
): Validated<CloudEvent> {
  const env = validateCloudEvent(input);
  if (!env.ok) return env;
  const def = findMessageDefinition(env.value.type);
  if (!def) {
    if (opts.requireKnownType) {
      return { ok: false, errors: [{ field: 'type', message: `unknown message type ${env.value.type}` }] };
    }
    return env;
  }
  const data = validateData(def.data, env.value.data ?? {});
  return data.ok ? env : { ok: false, errors: data.errors };
}
