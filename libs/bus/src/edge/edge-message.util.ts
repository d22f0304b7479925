import { randomUUID } from 'node:crypto';
import { message as amqpMessage, Message } from 'rhea';
import { EdgeError, EdgeMessage, EdgeSendOptions } from './edge.types';
import type { EdgeClaims } from './edge-auth';

const JSON_TYPE = 'application/json';
const DATA = 0x75;
const SEQUENCE = 0x76;
/** rhea's class of data/sequence body sections (not exported by its typings). */
const Section = (amqpMessage.data_section(Buffer.alloc(0)) as object).constructor;

interface SectionLike {
  typecode: number;
  content: unknown;
  multiple: boolean;
}

function isSection(v: unknown): v is SectionLike {
  return typeof v === 'object' && v !== null && v.constructor === Section;
}

/** A plain address names a queue through RabbitMQ; `/…` addresses are the plugin's own syntax. */
export function brokerAddress(address: string): string {
  return address.startsWith('/') ? address : `/queue/${address}`;
}

/** The listen-mode router's key for an address: `/queue/NAME` and `NAME` are one queue. */
export function routerAddress(address: string): string {
  return address.startsWith('/queue/') ? address.slice('/queue/'.length) : address;
}

/** Message ids may be strings, numbers, UUIDs or binary in AMQP; the edge hands out strings. */
export function idToString(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) {
    if (v.length === 16) {
      const h = v.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    return v.toString('utf8');
  }
  return String(v);
}

/** Builds the AMQP message for `send`. Throws EdgeError when the body cannot be encoded. */
export function encodeMessage(body: unknown, opts: EdgeSendOptions = {}): Message {
  const m: Message = {
    body: null,
    message_id: opts.properties?.messageId ?? randomUUID(),
    durable: opts.durable ?? false,
  };
  if (Buffer.isBuffer(body)) {
    m.body = amqpMessage.data_section(body);
    m.content_type = opts.properties?.contentType ?? 'application/octet-stream';
  } else if ((opts.format ?? 'json') === 'json') {
    let text: string | undefined;
    try {
      text = JSON.stringify(body === undefined ? null : body);
    } catch (e) {
      throw new EdgeError(`body is not JSON-serialisable: ${(e as Error).message}`);
    }
    m.body = amqpMessage.data_section(Buffer.from(text ?? 'null', 'utf8'));
    m.content_type = opts.properties?.contentType ?? JSON_TYPE;
  } else {
    m.body = body === undefined ? null : body;
    if (opts.properties?.contentType) m.content_type = opts.properties.contentType;
  }
  if (opts.correlationId !== undefined) m.correlation_id = opts.correlationId;
  if (opts.replyTo !== undefined) m.reply_to = opts.replyTo;
  if (opts.properties?.subject !== undefined) m.subject = opts.properties.subject;
  if (opts.properties?.to !== undefined) m.to = opts.properties.to;
  if (opts.ttlMs !== undefined) {
    if (!Number.isInteger(opts.ttlMs) || opts.ttlMs <= 0)
      throw new EdgeError(`ttlMs must be a positive integer`);
    m.ttl = opts.ttlMs;
  }
  if (opts.applicationProperties) m.application_properties = { ...opts.applicationProperties };
  return m;
}

function isJsonType(ct: string | undefined): boolean {
  if (!ct) return false;
  const t = ct.split(';')[0]!.trim().toLowerCase();
  return t === JSON_TYPE || t.endsWith('+json');
}

function looksLikeJson(buf: Buffer): boolean {
  for (const b of buf) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b /* { */ || b === 0x5b; /* [ */
  }
  return false;
}

export type DecodedEdgeMessage = { ok: true; message: EdgeMessage } | { ok: false; reason: string };

/** Turns a received AMQP message into an EdgeMessage. Never throws: bad content → a reason. */
export function decodeMessage(
  address: string,
  m: Message,
  principal?: string,
  claims?: EdgeClaims,
): DecodedEdgeMessage {
  let body: unknown;
  let bodyFormat: EdgeMessage['bodyFormat'] = 'amqp';
  const contentType = typeof m.content_type === 'string' ? m.content_type : undefined;
  try {
    if (isSection(m.body) && m.body.typecode === DATA) {
      // One data section (every agent message): read in place; a binary body still gets a copy of
      // its own (a view would keep rhea's whole input chunk alive).
      const single: Buffer | undefined =
        !m.body.multiple && Buffer.isBuffer(m.body.content) ? m.body.content : undefined;
      const buf =
        single ??
        Buffer.concat(
          ((m.body.multiple ? m.body.content : [m.body.content]) as unknown[]).map((p) =>
            Buffer.isBuffer(p) ? p : Buffer.from(String(p)),
          ),
        );
      const own = (): Buffer => (single ? Buffer.from(single) : buf);
      if (isJsonType(contentType)) {
        try {
          body = JSON.parse(buf.toString('utf8'));
        } catch (e) {
          return { ok: false, reason: `malformed JSON body: ${(e as Error).message}` };
        }
        bodyFormat = 'json';
      } else if (!contentType && looksLikeJson(buf)) {
        try {
          body = JSON.parse(buf.toString('utf8'));
          bodyFormat = 'json';
        } catch {
          body = own();
          bodyFormat = 'binary';
        }
      } else {
        body = own();
        bodyFormat = 'binary';
      }
    } else if (isSection(m.body) && m.body.typecode === SEQUENCE) {
      body = m.body.multiple ? (m.body.content as unknown[]).flat() : m.body.content;
    } else {
      body = m.body === undefined ? null : m.body;
    }
  } catch (e) {
    return { ok: false, reason: `undecodable body: ${(e as Error).message}` };
  }
  const ap = m.application_properties;
  return {
    ok: true,
    message: {
      address,
      body,
      bodyFormat,
      messageId: idToString(m.message_id),
      correlationId: idToString(m.correlation_id),
      replyTo: typeof m.reply_to === 'string' ? m.reply_to : undefined,
      subject: typeof m.subject === 'string' ? m.subject : undefined,
      contentType,
      userId: idToString(m.user_id),
      applicationProperties: ap && typeof ap === 'object' ? { ...(ap as Record<string, unknown>) } : {},
      durable: m.durable === true,
      deliveryCount: typeof m.delivery_count === 'number' ? m.delivery_count : 0,
      principal,
      ...(claims ? { claims } : {}),
    },
  };
}
