import * as amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import { CloudEvent, Topology } from '@nephele/contracts';
import { PublishOptions, RequestHandler } from './bus.types';
import { decodeMessage } from './decode.util';
import { LoggerLike } from './logger.types';

// A reply is `{"ok":true,"result":…}` (the responder below writes it so): a raw request (`raw`,
// Bus.requestJson) takes the result's bytes out of it without parsing them.
const OK_PREFIX = Buffer.from('{"ok":true,"result":');

function isOkReply(content: Buffer): boolean {
  return (
    content.length > OK_PREFIX.length &&
    content[content.length - 1] === 0x7d && // }
    content.subarray(0, OK_PREFIX.length).equals(OK_PREFIX)
  );
}

/** What request/reply needs of the bus that carries it. */
export interface RabbitRpcHost {
  readonly log: LoggerLike;
  /** Resolves once the bus is connected (rejects after the publish timeout). */
  waitReady(): Promise<void>;
  toMessage(event: CloudEvent, opts: PublishOptions): { content: Buffer; options: amqp.Options.Publish };
  deadLetter(queue: string, msg: amqp.ConsumeMessage, reason: string): Promise<void>;
}

/**
 * Request/reply over RabbitMQ's direct reply-to (`amq.rabbitmq.reply-to`): requests are published
 * mandatory to the commands exchange, so one nobody is bound to receive comes back at once; the
 * responders' queues are consumed again after every reconnect (see Note [Reconnect]).
 */
export class RabbitRpc {
  private conn?: amqp.ChannelModel;
  private channel?: amqp.Channel;
  private readonly responders: { queue: string; bindings: string[]; handler: RequestHandler }[] = [];
  private readonly pending = new Map<
    string,
    { raw: boolean; resolve(v: unknown): void; reject(e: Error): void }
  >();

  constructor(private readonly host: RabbitRpcHost) {}

  /** Opens the request channel and its reply consumer on a new connection. */
  async open(conn: amqp.ChannelModel): Promise<void> {
    const rpc = await conn.createChannel();
    rpc.on('error', (e: Error) => this.host.log.warn({ err: e.message }, 'rpc channel error'));
    // A request nobody is bound to receive comes back at once (mandatory flag) instead of timing out.
    rpc.on('return', (msg: amqp.Message) => {
      const id = String(msg.properties.correlationId);
      const waiter = this.pending.get(id);
      if (!waiter) return;
      this.pending.delete(id);
      waiter.reject(new Error(`no service answers ${String(msg.properties.type)}`));
    });
    await rpc.consume(
      'amq.rabbitmq.reply-to',
      (msg) => {
        if (!msg) return;
        const waiter = this.pending.get(String(msg.properties.correlationId));
        if (!waiter) return;
        this.pending.delete(String(msg.properties.correlationId));
        try {
          if (waiter.raw && isOkReply(msg.content)) {
            waiter.resolve(msg.content.subarray(OK_PREFIX.length, msg.content.length - 1));
            return;
          }
          const reply = JSON.parse(msg.content.toString('utf8')) as {
            ok: boolean;
            result?: unknown;
            error?: string;
          };
          if (!reply.ok) waiter.reject(new Error(reply.error ?? 'request failed'));
          else if (waiter.raw) waiter.resolve(Buffer.from(JSON.stringify(reply.result) ?? 'null'));
          else waiter.resolve(reply.result);
        } catch (e) {
          waiter.reject(e as Error);
        }
      },
      { noAck: true },
    );
    this.conn = conn;
    this.channel = rpc;
  }

  /** Consumes every responder's queue again (after the subscriptions, as on the first connect). */
  async resume(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    for (const r of this.responders) await this.consumeRequests(conn, r.queue, r.bindings, r.handler);
  }

  /** The connection is gone: every request waiting for its reply fails. */
  lost(): void {
    this.conn = undefined;
    this.channel = undefined;
    for (const [id, w] of this.pending) {
      w.reject(new Error('connection lost'));
      this.pending.delete(id);
    }
  }

  async request<R = unknown>(
    event: CloudEvent,
    opts: { timeoutMs?: number; exchange?: string; raw?: boolean } = {},
  ): Promise<R> {
    await this.host.waitReady();
    const ch = this.channel!;
    const correlationId = randomUUID();
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise<R>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error(`request ${event.type} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, {
        raw: opts.raw ?? false,
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as R);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      const { content, options } = this.host.toMessage(event, { transient: true });
      ch.publish(opts.exchange ?? Topology.commands, event.type, content, {
        ...options,
        replyTo: 'amq.rabbitmq.reply-to',
        correlationId,
        mandatory: true,
        expiration: String(timeoutMs),
      });
    });
  }

  async respond(queue: string, bindings: string[], handler: RequestHandler): Promise<void> {
    this.responders.push({ queue, bindings, handler });
    if (this.conn) await this.consumeRequests(this.conn, queue, bindings, handler);
  }

  private async consumeRequests(
    conn: amqp.ChannelModel,
    queue: string,
    bindings: string[],
    handler: RequestHandler,
  ): Promise<void> {
    const ch = await conn.createChannel();
    ch.on('error', (e: Error) => this.host.log.warn({ err: e.message, queue }, 'responder channel error'));
    await ch.prefetch(32);
    await ch.assertQueue(queue, { durable: true });
    for (const b of bindings) await ch.bindQueue(queue, Topology.commands, b);
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      const decoded = decodeMessage(msg.content, true);
      const reply = async (body: object) => {
        if (msg.properties.replyTo) {
          ch.sendToQueue(msg.properties.replyTo as string, Buffer.from(JSON.stringify(body)), {
            correlationId: msg.properties.correlationId as string,
            contentType: 'application/json',
          });
        }
      };
      if (!decoded.ok) {
        // The requester (if it said where) learns why; the message goes to the DLQ either way.
        void reply({ ok: false, error: decoded.reason });
        this.host
          .deadLetter(queue, msg, decoded.reason)
          .then(
            () => ch.ack(msg),
            () => ch.nack(msg, false, true),
          )
          .catch(() => undefined);
        return;
      }
      const run = handler(decoded.event).then(
        (result) => reply({ ok: true, result }),
        (e: Error) => reply({ ok: false, error: e.message }),
      );
      run.finally(() => ch.ack(msg)).catch(() => undefined);
    });
  }
}
