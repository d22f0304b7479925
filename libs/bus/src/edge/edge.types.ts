import type { EdgeClaims } from './edge-auth';

/** AMQP 1.0 application-property values the edge carries (simple types only). */
export type EdgePropertyValue = string | number | boolean | null;

/**
 * How a body travels. `json`: one binary data section holding UTF-8 JSON, content-type
 * `application/json` (what amqplib consumers read as plain JSON). `amqp`: an AMQP value section
 * (an object becomes an AMQP map; what QMF-style management messages use). A Buffer body always
 * travels as a data section.
 */
export type EdgeBodyFormat = 'json' | 'amqp';

export interface EdgeSendOptions {
  /** Body encoding (default `json`; a request's reply defaults to the request's format). */
  format?: EdgeBodyFormat;
  /** Message properties beyond the common ones. */
  properties?: { messageId?: string; subject?: string; contentType?: string; to?: string };
  applicationProperties?: Record<string, EdgePropertyValue>;
  correlationId?: string;
  /** Where the receiver should answer (an address of this side; sent as given). */
  replyTo?: string;
  /** Ask the broker to keep the message on disk (header `durable`; default false). */
  durable?: boolean;
  /** Time to live in milliseconds (header `ttl`); expired messages are dropped, not delivered. */
  ttlMs?: number;
}

/** A received message, decoded. Never holds undecodable content: such messages are rejected first. */
export interface EdgeMessage {
  /** The address the message was received on, as the caller of `receive` named it. */
  address: string;
  /** JSON data sections are parsed; AMQP values as decoded (maps → objects); other data → Buffer. */
  body: unknown;
  /** `json`: a data section holding JSON; `amqp`: an AMQP value/sequence; `binary`: other data. */
  bodyFormat: 'json' | 'amqp' | 'binary';
  messageId?: string;
  correlationId?: string;
  replyTo?: string;
  subject?: string;
  contentType?: string;
  userId?: string;
  applicationProperties: Record<string, unknown>;
  durable: boolean;
  /** Number of earlier unsuccessful delivery attempts. */
  deliveryCount: number;
  /** Listen mode: the authenticated peer that sent it (set by Nephele, not by the peer). */
  principal?: string;
  /**
   * Listen mode: what the authenticated management client is (token id, role, project), set by
   * Nephele from its login, never by the peer. Absent for agents and in-process senders.
   */
  claims?: EdgeClaims;
}

/** What a receive handler decided. Throwing is for bugs: the message is released after a pause. */
export type EdgeOutcome = { kind: 'accept' } | { kind: 'release' } | { kind: 'reject'; reason: string };

export const EdgeOutcomes = {
  /** Processed: remove it. */
  accept: (): EdgeOutcome => ({ kind: 'accept' }),
  /** Not processed: deliver it again (to this or another receiver). */
  release: (): EdgeOutcome => ({ kind: 'release' }),
  /** Never processable: drop or dead-letter it, with the reason. */
  reject: (reason: string): EdgeOutcome => ({ kind: 'reject', reason }),
} as const;

export type EdgeHandler = (msg: EdgeMessage) => Promise<EdgeOutcome> | EdgeOutcome;

export interface EdgeReceiveOptions {
  /** Unsettled messages in flight on this receiver (default 64). */
  prefetch?: number;
  /** Attach with a durable terminus (RabbitMQ declares a durable queue; must match the queue). */
  durable?: boolean;
}

/** A reply of a `serve` handler. */
export interface EdgeReply {
  body: unknown;
  applicationProperties?: Record<string, EdgePropertyValue>;
  /** Default: the request's format (a map request gets a map reply). */
  format?: EdgeBodyFormat;
}

export type EdgeServeHandler = (request: EdgeMessage) => Promise<EdgeReply> | EdgeReply;

export interface EdgeRequestOptions {
  applicationProperties?: Record<string, EdgePropertyValue>;
  /** How long to wait for the reply (default 30 s). */
  timeoutMs?: number;
  format?: EdgeBodyFormat;
  properties?: EdgeSendOptions['properties'];
  ttlMs?: number;
}

export interface EdgeSubscription {
  /** Detaches the link; unsettled messages go back to the queue. */
  close(): Promise<void>;
}

/**
 * The AMQP 1.0 edge (ARCHITECTURE §1): one interface whether Nephele reaches its peers through
 * RabbitMQ's AMQP 1.0 plugin (`broker`) or accepts them itself (`listen`).
 *
 * Addresses are logical: `nephele.cpe`, `nephele.agent.<id>`… Through RabbitMQ a plain name is
 * the queue `/queue/<name>`; an address that starts with `/` (`/exchange/EX/KEY`, `/topic/KEY`,
 * `/queue/NAME`) is used as given. The listen-mode router treats `/queue/NAME` and `NAME` alike.
 */
export interface EdgeConnection {
  readonly mode: 'broker' | 'listen';
  /** This side's id: the AMQP container id, and the suffix of its reply address. */
  readonly id: string;
  /** Connects (retrying with backoff until it succeeds or `close` is called). */
  start(): Promise<void>;
  close(): Promise<void>;
  isConnected(): boolean;
  /** Called on every (re)connection, after receivers are attached again. Returns an unsubscriber. */
  onConnected(listener: () => void): () => void;
  /** Sends and resolves when the peer accepted it; rejects when it is rejected or times out. */
  send(address: string, body: unknown, opts?: EdgeSendOptions): Promise<void>;
  /** Consumes an address; each message is settled by the handler's outcome. */
  receive(address: string, handler: EdgeHandler, opts?: EdgeReceiveOptions): Promise<EdgeSubscription>;
  /** Sends a request with this side's reply address and a correlation-id, and waits for the reply. */
  request(address: string, body: unknown, opts?: EdgeRequestOptions): Promise<EdgeMessage>;
  /** Answers requests on an address: the reply goes to `reply-to` with the same correlation-id. */
  serve(address: string, handler: EdgeServeHandler, opts?: EdgeReceiveOptions): Promise<EdgeSubscription>;
}

/** An edge operation failed; `condition` is the AMQP error condition when the peer gave one. */
export class EdgeError extends Error {
  constructor(
    message: string,
    readonly condition?: string,
  ) {
    super(message);
    this.name = 'EdgeError';
  }
}
