import { CloudEvent } from '@nephele/contracts';

/**
 * What a handler decided about a message. Throwing is for bugs: the bus turns an exception into
 * a retry with backoff and logs it, but a handler that knows the message is bad says so as data.
 */
export type HandlerOutcome =
  | { kind: 'ack' }
  | { kind: 'retry'; afterMs: number; reason?: string }
  | { kind: 'dead-letter'; reason: string };

/**
 * Whether an error is the database's verdict on the message's own data (PostgreSQL SQLSTATE class
 * 22, e.g. an id that is not a uuid): the same message fails the same way every time.
 */
export function isDataException(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

export const Outcome = {
  ack: (): HandlerOutcome => ({ kind: 'ack' }),
  retry: (afterMs: number, reason?: string): HandlerOutcome => ({ kind: 'retry', afterMs, reason }),
  deadLetter: (reason: string): HandlerOutcome => ({ kind: 'dead-letter', reason }),
  /** A handler failed: retried later, unless retrying cannot help (dead-lettered with the reason). */
  failed: (e: unknown, afterMs: number): HandlerOutcome =>
    isDataException(e)
      ? { kind: 'dead-letter', reason: `refused by the database: ${(e as Error).message}` }
      : { kind: 'retry', afterMs, reason: (e as Error)?.message },
} as const;

export interface MessageContext {
  /** Number of times this message was delivered before (0 on first delivery, when known). */
  redelivered: boolean;
  headers: Record<string, unknown>;
  queue: string;
}

export type Handler<T = unknown> = (event: CloudEvent<T>, ctx: MessageContext) => Promise<HandlerOutcome>;
/**
 * One message of a batch: `json` is its body as received, the text `event` was parsed from (a sink
 * such as the event log stores it instead of serialising the event again).
 */
export type BatchItem = { event: CloudEvent; ctx: MessageContext; json: string };
export type BatchHandler = (events: BatchItem[]) => Promise<HandlerOutcome[]>;

export interface SubscriptionBase {
  /** Durable queue name, `<service>.<purpose>`. */
  queue: string;
  /** Exchange to bind (`nephele.events` or `nephele.commands`). */
  exchange: string;
  /** Routing-key patterns (`nephele.assembly.*`, `#`). */
  bindings: string[];
  /** Unacknowledged messages in flight (default 64). */
  prefetch?: number;
  /**
   * Validate the data of registered types before the handler runs (default true). Invalid messages
   * are dead-lettered with the reason.
   */
  validate?: boolean;
  /** Exclusive auto-delete queue (e.g. one per live SSE listener); not durable. */
  exclusive?: boolean;
}

export interface SingleSubscription extends SubscriptionBase {
  handler: Handler;
}

/**
 * Collects up to `batchSize` messages (or what arrived within `maxWaitMs`) and hands them to one
 * call, e.g. to insert them with one statement and acknowledge them after the commit.
 */
export interface BatchSubscription extends SubscriptionBase {
  batchSize: number;
  maxWaitMs: number;
  batchHandler: BatchHandler;
}

export type Subscription = SingleSubscription | BatchSubscription;

export interface PublishOptions {
  exchange?: string;
  /** Override the routing key (default: the event type). */
  routingKey?: string;
  /** Non-persistent delivery (heartbeats). Defaults to the registered type's `transient` flag. */
  transient?: boolean;
  headers?: Record<string, string>;
}

export type RequestHandler = (event: CloudEvent) => Promise<unknown>;

/** The core bus port (ARCHITECTURE §1). Adapters: `rabbitmq` (amqplib) and `memory`. */
export interface Bus {
  readonly kind: 'rabbitmq' | 'memory';
  start(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the broker confirmed the message (publisher confirms). */
  publish(event: CloudEvent, opts?: PublishOptions): Promise<void>;
  /** Publishes several messages and resolves when all are confirmed. */
  publishAll(events: CloudEvent[], opts?: PublishOptions): Promise<void>;
  subscribe(sub: Subscription): Promise<{ cancel(): Promise<void> }>;
  /** Sends a command and waits for the reply of the service that owns it. */
  request<R = unknown>(event: CloudEvent, opts?: { timeoutMs?: number; exchange?: string }): Promise<R>;
  /**
   * As `request`, but the reply's result comes back unparsed, as its JSON encoding in UTF-8: for a
   * caller that hands a large reply on as it is (the state tracker's poll gives the provider's list
   * to PostgreSQL as one jsonb parameter) instead of building objects it never reads.
   */
  requestJson(event: CloudEvent, opts?: { timeoutMs?: number; exchange?: string }): Promise<Buffer>;
  /** Answers requests sent with `request` (routing keys bound on `nephele.commands`). */
  respond(queue: string, bindings: string[], handler: RequestHandler): Promise<void>;
  /** Whether the transport is connected now (used by /readyz). */
  isReady(): boolean;
}
