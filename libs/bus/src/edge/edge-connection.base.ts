import { randomUUID } from 'node:crypto';
import { Message } from 'rhea';
import { LoggerLike, silentLogger } from '../logger.types';
import {
  EdgeConnection,
  EdgeError,
  EdgeHandler,
  EdgeMessage,
  EdgeOutcome,
  EdgeOutcomes,
  EdgeReceiveOptions,
  EdgeRequestOptions,
  EdgeSendOptions,
  EdgeServeHandler,
  EdgeSubscription,
} from './edge.types';

/** How long a message whose handler threw is held before it is released (no hot redelivery loop). */
export const HANDLER_FAILURE_PAUSE_MS = 1000;
export const DEFAULT_PREFETCH = 64;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The AMQP message each decoded EdgeMessage came from (to answer with the exact correlation-id). */
export const rawMessages = new WeakMap<EdgeMessage, Message>();

/** Runs a handler; a thrown error is a bug: logged, and the message released after a pause. */
export async function runHandler(
  handler: EdgeHandler,
  msg: EdgeMessage,
  log: LoggerLike,
  isOpen: () => boolean,
): Promise<EdgeOutcome> {
  try {
    return await handler(msg);
  } catch (e) {
    log.error(
      { err: (e as Error).message, address: msg.address },
      'edge handler threw; releasing the message',
    );
    await new Promise<void>((r) => {
      const t = setTimeout(r, HANDLER_FAILURE_PAUSE_MS);
      if (!isOpen()) {
        clearTimeout(t);
        r();
      }
    });
    return EdgeOutcomes.release();
  }
}

type Pending = { resolve(m: EdgeMessage): void; reject(e: Error): void; timer: NodeJS.Timeout };

// Note [Request/reply on the edge]
// RabbitMQ's AMQP 1.0 plugin (3.x) has no dynamic reply queues, so each side names its own:
// `reply.<id>` (`/queue/reply.<id>` through RabbitMQ), attached once on the first request. A
// request carries reply-to = that address and a fresh correlation-id (also its message-id); the
// server answers to reply-to with the request's correlation-id, or its message-id when it had
// none (the usual AMQP convention). A reply whose request timed out is accepted and dropped.
// The reply queue outlives the connection through RabbitMQ (non-durable, not auto-deleted) so a
// reply sent during a reconnect still arrives; expire old ones with a policy if ids are not reused.
export abstract class EdgeConnectionBase implements EdgeConnection {
  abstract readonly mode: 'broker' | 'listen';
  abstract readonly id: string;
  protected readonly log: LoggerLike;
  private readonly connectedListeners = new Set<() => void>();
  private replySubscription?: Promise<EdgeSubscription>;
  private readonly pending = new Map<string, Pending>();

  protected constructor(logger?: LoggerLike) {
    this.log = logger ?? silentLogger;
  }

  abstract start(): Promise<void>;
  abstract isConnected(): boolean;
  abstract send(address: string, body: unknown, opts?: EdgeSendOptions): Promise<void>;
  abstract receive(
    address: string,
    handler: EdgeHandler,
    opts?: EdgeReceiveOptions,
  ): Promise<EdgeSubscription>;

  /** This side's reply address, as it is written into reply-to. */
  get replyAddress(): string {
    return `reply.${this.id}`;
  }

  onConnected(listener: () => void): () => void {
    this.connectedListeners.add(listener);
    return () => this.connectedListeners.delete(listener);
  }

  protected emitConnected(): void {
    for (const l of [...this.connectedListeners]) {
      try {
        l();
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'edge onConnected listener threw');
      }
    }
  }

  async close(): Promise<void> {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new EdgeError('edge connection closed'));
      this.pending.delete(id);
    }
    const sub = this.replySubscription;
    this.replySubscription = undefined;
    if (sub) await sub.then((s) => s.close()).catch(() => undefined);
  }

  private ensureReplyReceiver(): Promise<EdgeSubscription> {
    if (!this.replySubscription) {
      this.replySubscription = this.receive(
        this.replyAddress,
        (msg) => {
          const p = msg.correlationId === undefined ? undefined : this.pending.get(msg.correlationId);
          if (!p) {
            this.log.debug({ correlationId: msg.correlationId }, 'edge reply without a waiting request');
            return EdgeOutcomes.accept();
          }
          this.pending.delete(msg.correlationId!);
          clearTimeout(p.timer);
          p.resolve(msg);
          return EdgeOutcomes.accept();
        },
        { prefetch: 256 },
      );
      this.replySubscription.catch(() => (this.replySubscription = undefined));
    }
    return this.replySubscription;
  }

  async request(address: string, body: unknown, opts: EdgeRequestOptions = {}): Promise<EdgeMessage> {
    await this.ensureReplyReceiver();
    const correlationId = randomUUID();
    const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const reply = new Promise<EdgeMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new EdgeError(`no reply from ${address} within ${timeoutMs} ms`, 'nephele:timeout'));
      }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
    });
    try {
      await this.send(address, body, {
        format: opts.format,
        applicationProperties: opts.applicationProperties,
        correlationId,
        replyTo: this.replyAddress,
        properties: { ...opts.properties, messageId: correlationId },
        ttlMs: opts.ttlMs,
      });
    } catch (e) {
      const p = this.pending.get(correlationId);
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(correlationId);
      }
      reply.catch(() => undefined);
      throw e;
    }
    return reply;
  }

  serve(address: string, handler: EdgeServeHandler, opts?: EdgeReceiveOptions): Promise<EdgeSubscription> {
    return this.receive(
      address,
      async (req) => {
        if (!req.replyTo) return EdgeOutcomes.reject('a request needs a reply-to address');
        const reply = await handler(req);
        const raw = rawMessages.get(req);
        const correlation = raw?.correlation_id ?? raw?.message_id ?? req.correlationId ?? req.messageId;
        try {
          await this.send(req.replyTo, reply.body, {
            format: reply.format ?? (req.bodyFormat === 'amqp' ? 'amqp' : 'json'),
            applicationProperties: reply.applicationProperties,
            correlationId: correlation as string | undefined,
          });
        } catch (e) {
          if (!this.isConnected()) return EdgeOutcomes.release();
          // The requester's reply address refuses it: answering again cannot help.
          this.log.warn(
            { err: (e as Error).message, replyTo: req.replyTo },
            'edge reply could not be delivered',
          );
        }
        return EdgeOutcomes.accept();
      },
      opts,
    );
  }
}
