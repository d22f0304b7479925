import { randomUUID } from 'node:crypto';
import { isRfc3339 } from '@nephele/util';

/** A CloudEvents 1.0 event in structured JSON mode. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  /** Unique per source; consumers dedupe on it (delivery is at least once). */
  id: string;
  /** `/nephele/<service>` for Nephele's own events; any URI-reference for external producers. */
  source: string;
  /** `nephele.<entity>.<event>`; also the routing key on the bus. */
  type: string;
  /** The id of the entity the event is about. */
  subject?: string;
  /** RFC 3339 UTC. */
  time?: string;
  datacontenttype?: string;
  data?: T;
  /** W3C trace context, carried from producer to consumer. */
  traceparent?: string;
  /**
   * Extension attribute: the project the event belongs to. The event log files the event under it,
   * so that project's tokens can read it (events without one are visible to admins only).
   */
  project?: string;
}

export interface FieldError {
  field: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';
export const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const TYPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const KNOWN = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
  'traceparent',
  'tracestate',
]);
/** Extension attribute names: lower-case alphanumerics, at most 20 characters (CloudEvents 1.0 §3.1.1). */
const EXTENSION = /^[a-z0-9]{1,20}$/;

/**
 * Validates a parsed JSON value as a CloudEvents 1.0 structured event. Returns every problem found,
 * each with the attribute it concerns, so a 400 or a dead-letter reason names them all.
 */
export function validateCloudEvent(input: unknown): Validated<CloudEvent> {
  const errors: FieldError[] = [];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '', message: 'a CloudEvent must be a JSON object' }] };
  }
  const e = input as Record<string, unknown>;
  const str = (k: string, required: boolean, max = 1024): void => {
    const v = e[k];
    if (v === undefined || v === null) {
      if (required) errors.push({ field: k, message: `${k} is required` });
    } else if (typeof v !== 'string' || v.length === 0) {
      errors.push({ field: k, message: `${k} must be a non-empty string` });
    } else if (v.length > max) {
      errors.push({ field: k, message: `${k} must be at most ${max} characters` });
    }
  };
  if (e.specversion !== '1.0') errors.push({ field: 'specversion', message: 'specversion must be "1.0"' });
  str('id', true, 256);
  str('source', true);
  str('type', true, 200);
  if (typeof e.type === 'string' && e.type.length > 0 && !TYPE.test(e.type)) {
    errors.push({ field: 'type', message: 'type may contain only letters, digits, ".", "_" and "-"' });
  }
  str('subject', false);
  str('datacontenttype', false, 200);
  str('project', false, 200);
  if (e.time !== undefined && !isRfc3339(e.time)) {
    errors.push({ field: 'time', message: 'time must be an RFC 3339 timestamp' });
  }
  if (
    e.traceparent !== undefined &&
    (typeof e.traceparent !== 'string' || !TRACEPARENT.test(e.traceparent))
  ) {
    errors.push({ field: 'traceparent', message: 'traceparent must be a W3C trace context header value' });
  }
  if (e.data !== undefined && e.data_base64 !== undefined) {
    errors.push({ field: 'data', message: 'data and data_base64 are mutually exclusive' });
  }
  for (const k of Object.keys(e)) {
    if (!KNOWN.has(k) && !EXTENSION.test(k)) {
      errors.push({
        field: k,
        message: 'extension attribute names must be 1-20 lower-case letters or digits',
      });
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: e as unknown as CloudEvent };
}

export interface NewEventOptions {
  subject?: string;
  id?: string;
  time?: Date | string;
  traceparent?: string;
  /** The project the event belongs to (see CloudEvent.project); omitted when null or undefined. */
  project?: string | null;
}

/** Builds an event for a Nephele service: `source` is `/nephele/<service>`. */
export function createEvent<T>(
  service: string,
  type: string,
  data: T,
  opts: NewEventOptions = {},
): CloudEvent<T> {
  const time = opts.time instanceof Date ? opts.time.toISOString() : (opts.time ?? new Date().toISOString());
  const ev: CloudEvent<T> = {
    specversion: '1.0',
    id: opts.id ?? randomUUID(),
    source: service.startsWith('/') ? service : `/nephele/${service}`,
    type,
    time,
    datacontenttype: 'application/json',
    data,
  };
  if (opts.subject !== undefined) ev.subject = opts.subject;
  if (opts.traceparent !== undefined) ev.traceparent = opts.traceparent;
  if (opts.project != null) ev.project = opts.project;
  return ev;
}
