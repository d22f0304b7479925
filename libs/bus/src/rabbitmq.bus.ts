import * as amqp from 'amqplib';
import { CLOUDEVENTS_CONTENT_TYPE, CloudEvent, Topology, findMessageDefinition } from '@nephele/contracts';
import { backoffDelay } from '@nephele/util';
import {
  BatchSubscription,
  Bus,
  HandlerOutcome,
  MessageContext,
  Outcome,
  PublishOptions,
  RequestHandler,
  Subscription,
} from './bus.types';
import { decodeMessage } from './decode.util';
import { RabbitRpc } from './rabbitmq-rpc';
import { LoggerLike, silentLogger } from './logger.types';

export interface RabbitBusOptions {
  url: string;
  /** The owning service: names its dead-letter queue `<service>.dlq`. */
  service: string;
  logger?: LoggerLike;
  /** How long publish waits for a connection before failing (default 30 s). */
  publishTimeoutMs?: number;
}

/** Queues are named `<service>.<purpose>`: a dead letter goes to that service's DLQ. */
function serviceOf(queue: string, fallback: string): string {
  const i = queue.indexOf('.');
  return i > 0 ? queue.slice(0, i) : fallback;
}

type Active = { sub: Subscription; channel?: amqp.Channel; cancelled: boolean };
/** A decoded message of a batch subscription waiting for its batch. */
type Buffered = { msg: amqp.ConsumeMessage; event: CloudEvent; ctx: MessageContext; json: string };

// Note [Reconnect]
// One connection; a confirm channel for publishing, one channel per subscription (its own prefetch,
// and a failing handler cannot close the others). When the connection drops, every channel is
// gone: `connect` runs again with backoff, re-declares the topology and re-subscribes every live
// subscription. Unacknowledged messages go back to their queues at the broker, so at-least-once
// delivery holds; publishes waiting for a confirm are rejected and their callers (the outbox
// relay) publish again.
export class RabbitMqBus implements Bus {
  readonly kind = 'rabbitmq' as const;
  private conn?: amqp.ChannelModel;
  private pub?: amqp.ConfirmChannel;
  private readonly subs = new Set<Active>();
  private readonly rpc: RabbitRpc;
  private readonly log: LoggerLike;
  private closing = false;
  private attempt = 0;
  private readyWaiters: (() => void)[] = [];
  /** Connected with every subscription consuming again: what isReady says and publishes wait for. */
  private ready = false;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(private readonly opts: RabbitBusOptions) {
    this.log = opts.logger ?? silentLogger;
    this.rpc = new RabbitRpc({
      log: this.log,
      waitReady: () => this.waitReady(),
      toMessage: (event, o) => this.toMessage(event, o),
      deadLetter: (queue, msg, reason) => this.deadLetter(queue, msg, reason),
    });
  }

  isReady(): boolean {
    return this.ready && !this.closing;
  }

  /**
   * Connects. When the broker is not there yet the service still starts (not ready: /readyz says
   * so, publishes wait): the bus keeps trying with backoff and subscribes everything once connected.
   */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (e) {
      this.log.warn(
        { err: (e as Error).message },
        'RabbitMQ is not reachable yet; retrying in the background',
      );
      this.conn = undefined;
      this.pub = undefined;
      this.ready = false;
      this.rpc.lost();
      this.scheduleReconnect();
    }
  }

  private async connect(): Promise<void> {
    const conn = await amqp.connect(this.opts.url, {
      clientProperties: { connection_name: this.opts.service },
    });
    conn.on('error', (e: Error) => this.log.warn({ err: e.message }, 'amqp connection error'));
    conn.on('close', () => this.onConnectionLost());
    this.conn = conn;
    const setup = await conn.createChannel();
    await setup.assertExchange(Topology.events, 'topic', { durable: true });
    await setup.assertExchange(Topology.commands, 'topic', { durable: true });
    await setup.assertExchange(Topology.dlx, 'direct', { durable: true });
    await this.assertDlq(setup, this.opts.service);
    await setup.close();

    const pub = await conn.createConfirmChannel();
    pub.on('error', (e: Error) => this.log.warn({ err: e.message }, 'publish channel error'));
    await this.rpc.open(conn);
    this.pub = pub;
    this.attempt = 0;
    for (const a of this.subs) if (!a.cancelled) await this.consume(a);
    await this.rpc.resume();
    // Ready only now: a publish that waited for the connection (or a check of /readyz) must find
    // this service's own queues declared and bound again, or what it publishes to them is unroutable.
    this.ready = true;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    waiters.forEach((w) => w());
    this.log.info({ service: this.opts.service }, 'connected to RabbitMQ');
  }

  private async assertDlq(ch: amqp.Channel, service: string): Promise<void> {
    const dlq = Topology.dlq(service);
    await ch.assertQueue(dlq, { durable: true });
    await ch.bindQueue(dlq, Topology.dlx, dlq);
  }

  private onConnectionLost(): void {
    this.pub = undefined;
    this.ready = false;
    this.conn = undefined;
    for (const a of this.subs) a.channel = undefined;
    this.rpc.lost();
    if (this.closing) return;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closing) return;
    const delay = backoffDelay(this.attempt++, 200, 5000);
    this.log.warn({ delayMs: delay }, 'RabbitMQ connection lost; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((e: Error) => {
        this.log.warn({ err: e.message }, 'reconnect failed');
        try {
          void this.conn?.close().catch(() => undefined);
        } catch {
          /* already closed */
        }
        this.conn = undefined;
        this.pub = undefined;
        this.ready = false;
        this.rpc.lost();
        this.scheduleReconnect();
      });
    }, delay);
  }

  private waitReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    const timeout = this.opts.publishTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`bus not connected after ${timeout} ms`)), timeout);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const a of this.subs) a.cancelled = true;
    try {
      await this.conn?.close();
    } catch {
      /* already closed */
    }
  }

  private toMessage(
    event: CloudEvent,
    opts: PublishOptions,
  ): { content: Buffer; options: amqp.Options.Publish } {
    const transient = opts.transient ?? findMessageDefinition(event.type)?.transient ?? false;
    const headers: Record<string, string> = { ...opts.headers };
    if (event.traceparent) headers.traceparent = event.traceparent;
    return {
      content: Buffer.from(JSON.stringify(event)),
      options: {
        persistent: !transient,
        contentType: CLOUDEVENTS_CONTENT_TYPE,
        messageId: event.id,
        type: event.type,
        timestamp: Math.floor(Date.now() / 1000),
        appId: this.opts.service,
        headers,
      },
    };
  }

  async publish(event: CloudEvent, opts: PublishOptions = {}): Promise<void> {
    await this.publishAll([event], opts);
  }

  async publishAll(events: CloudEvent[], opts: PublishOptions = {}): Promise<void> {
    if (events.length === 0) return;
    await this.waitReady();
    const ch = this.pub;
    if (!ch) throw new Error('bus not connected');
    const exchange = opts.exchange ?? Topology.events;
    const confirms: Promise<void>[] = [];
    for (const event of events) {
      const { content, options } = this.toMessage(event, opts);
      confirms.push(
        new Promise<void>((resolve, reject) => {
          const ok = ch.publish(exchange, opts.routingKey ?? event.type, content, options, (err) =>
            err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
          );
          if (!ok) {
            // Flow control: amqplib buffered the frame; further publishes wait for 'drain' below.
          }
        }),
      );
    }
    await Promise.all(confirms);
  }

  async subscribe(sub: Subscription): Promise<{ cancel(): Promise<void> }> {
    const active: Active = { sub, cancelled: false };
    this.subs.add(active);
    if (this.conn) await this.consume(active);
    return {
      cancel: async () => {
        active.cancelled = true;
        this.subs.delete(active);
        try {
          await active.channel?.close();
        } catch {
          /* gone */
        }
      },
    };
  }

  private async consume(active: Active): Promise<void> {
    const { sub } = active;
    const conn = this.conn;
    if (!conn) return;
    const ch = await this.openConsumerChannel(active, conn);
    const validate = sub.validate ?? true;
    const batch = 'batchHandler' in sub ? sub : undefined;
    const acks = batch ? new AckWindow(ch) : undefined;
    const push = batch && acks ? this.batcher(ch, batch, acks) : undefined;
    await ch.consume(sub.queue, (msg) => {
      if (!msg) return; // consumer cancelled by the broker; the close handler reconnects
      acks?.received(msg);
      const decoded = decodeMessage(msg.content, validate);
      if (!decoded.ok) {
        this.settle(ch, sub, msg, { kind: 'dead-letter', reason: decoded.reason }, acks);
        return;
      }
      const ctx: MessageContext = {
        redelivered: msg.fields.redelivered,
        headers: msg.properties.headers ?? {},
        queue: sub.queue,
      };
      if (push) {
        push({ msg, event: decoded.event, ctx, json: decoded.json });
        return;
      }
      (sub as Exclude<Subscription, BatchSubscription>)
        .handler(decoded.event, ctx)
        .catch((e: Error): HandlerOutcome => {
          this.log.error(
            { err: e.message, stack: e.stack, queue: sub.queue, type: decoded.event.type },
            'handler threw',
          );
          return Outcome.failed(e, 1000);
        })
        .then((outcome) => this.settle(ch, sub, msg, outcome))
        .catch(() => undefined);
    });
  }

  /**
   * A subscription's own channel (Note [Reconnect]): reopened when it closes on its own, with the
   * subscription's prefetch, queue, bindings and the service's dead-letter queue declared.
   */
  private async openConsumerChannel(active: Active, conn: amqp.ChannelModel): Promise<amqp.Channel> {
    const { sub } = active;
    const ch = await conn.createChannel();
    ch.on('error', (e: Error) =>
      this.log.warn({ err: e.message, queue: sub.queue }, 'consumer channel error'),
    );
    ch.on('close', () => {
      active.channel = undefined;
      // A channel closed on its own (not with the connection): open it again.
      if (!active.cancelled && this.conn === conn && !this.closing) {
        setTimeout(() => void this.consume(active).catch(() => undefined), 500);
      }
    });
    active.channel = ch;
    const prefetch = sub.prefetch ?? ('batchHandler' in sub ? Math.max(sub.batchSize * 2, 64) : 64);
    await ch.prefetch(prefetch);
    await ch.assertQueue(
      sub.queue,
      sub.exclusive ? { exclusive: true, autoDelete: true, durable: false } : { durable: true },
    );
    for (const key of sub.bindings) await ch.bindQueue(sub.queue, sub.exchange, key);
    await this.assertDlq(ch, serviceOf(sub.queue, this.opts.service));
    return ch;
  }

  /**
   * Buffers a batch subscription's messages and hands them to its handler `batchSize` at a time,
   * or after `maxWaitMs`; a handler that throws retries the whole batch.
   */
  private batcher(ch: amqp.Channel, sub: BatchSubscription, acks: AckWindow): (item: Buffered) => void {
    let buffer: Buffered[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = async () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const items = buffer;
      buffer = [];
      if (!items.length) return;
      let outcomes: HandlerOutcome[];
      try {
        outcomes = await sub.batchHandler(items.map(({ event, ctx, json }) => ({ event, ctx, json })));
      } catch (e) {
        this.log.error(
          { err: (e as Error).message, queue: sub.queue },
          'batch handler threw; retrying batch',
        );
        outcomes = items.map(() => ({ kind: 'retry', afterMs: 1000 }));
      }
      items.forEach((it, i) =>
        this.settle(ch, sub, it.msg, outcomes[i] ?? { kind: 'retry', afterMs: 1000 }, acks),
      );
      acks.flush();
    };
    return (item) => {
      buffer.push(item);
      if (buffer.length >= sub.batchSize) void flush();
      else if (!timer) timer = setTimeout(() => void flush(), sub.maxWaitMs);
    };
  }

  private settle(
    ch: amqp.Channel,
    sub: Subscription,
    msg: amqp.ConsumeMessage,
    outcome: HandlerOutcome,
    acks?: AckWindow,
  ): void {
    try {
      switch (outcome.kind) {
        case 'ack':
          if (acks) acks.done(msg);
          else ch.ack(msg);
          return;
        case 'retry':
          setTimeout(() => {
            try {
              ch.nack(msg, false, true);
            } catch {
              /* channel gone: the broker requeues it */
            }
            acks?.settledAlone(msg);
          }, outcome.afterMs);
          return;
        case 'dead-letter':
          this.log.warn(
            { queue: sub.queue, reason: outcome.reason, messageId: msg.properties.messageId },
            'dead-lettering',
          );
          this.deadLetter(sub.queue, msg, outcome.reason)
            .then(
              () => ch.ack(msg),
              () => ch.nack(msg, false, true),
            )
            .catch(() => undefined)
            .finally(() => acks?.settledAlone(msg));
          return;
      }
    } catch (e) {
      this.log.warn(
        { err: (e as Error).message },
        'could not settle message (channel closed); it will be redelivered',
      );
    }
  }

  private async deadLetter(queue: string, msg: amqp.ConsumeMessage, reason: string): Promise<void> {
    await this.waitReady();
    const ch = this.pub!;
    const dlq = Topology.dlq(serviceOf(queue, this.opts.service));
    await new Promise<void>((resolve, reject) => {
      ch.publish(
        Topology.dlx,
        dlq,
        msg.content,
        {
          ...msg.properties,
          persistent: true,
          headers: {
            ...(msg.properties.headers ?? {}),
            [Topology.deadLetterReasonHeader]: reason.slice(0, 4000),
            [Topology.deadLetterQueueHeader]: queue,
          },
        },
        (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      );
    });
  }

  request<R = unknown>(event: CloudEvent, opts: { timeoutMs?: number; exchange?: string } = {}): Promise<R> {
    return this.rpc.request<R>(event, opts);
  }

  requestJson(event: CloudEvent, opts: { timeoutMs?: number; exchange?: string } = {}): Promise<Buffer> {
    return this.rpc.request<Buffer>(event, { ...opts, raw: true });
  }

  respond(queue: string, bindings: string[], handler: RequestHandler): Promise<void> {
    return this.rpc.respond(queue, bindings, handler);
  }
}

// Note [Batch acks]
// A batch subscription acknowledges with one `basic.ack multiple` frame up to the highest
// delivery tag below which every delivery of the channel is settled, instead of one frame per
// message (the broker's work per ack frame is the same for 1 or 1,000 messages). "Multiple" acks
// every unsettled delivery up to the tag, so a tag is acked that way only when every lower one is
// either done (its handler said ack) or already settled on its own (a retry's nack, a dead
// letter's ack after its publish). Batches in flight at once finish in any order: a later batch
// that finishes first waits for the earlier one.
class AckWindow {
  /** Delivery tags not yet acked, in arrival (= tag) order, with whether they may be acked. */
  private readonly pending: { msg: amqp.ConsumeMessage; state: 'open' | 'done' | 'alone' }[] = [];
  private readonly byTag = new Map<number, { msg: amqp.ConsumeMessage; state: 'open' | 'done' | 'alone' }>();

  constructor(private readonly ch: amqp.Channel) {}

  received(msg: amqp.ConsumeMessage): void {
    const entry = { msg, state: 'open' as const };
    this.pending.push(entry);
    this.byTag.set(msg.fields.deliveryTag, entry);
  }

  /** The handler said ack: acked with the next flush that reaches it. */
  done(msg: amqp.ConsumeMessage): void {
    const e = this.byTag.get(msg.fields.deliveryTag);
    if (e) e.state = 'done';
    else this.ch.ack(msg);
  }

  /** Settled by its own frame (nack or ack): no longer holds the window back. */
  settledAlone(msg: amqp.ConsumeMessage): void {
    const e = this.byTag.get(msg.fields.deliveryTag);
    if (!e) return;
    e.state = 'alone';
    this.flush();
  }

  /** Acks the settled prefix with one frame (if it holds any done delivery). */
  flush(): void {
    let last: amqp.ConsumeMessage | undefined;
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.state !== 'open') {
      const e = this.pending[n]!;
      if (e.state === 'done') last = e.msg;
      this.byTag.delete(e.msg.fields.deliveryTag);
      n++;
    }
    if (!n) return;
    this.pending.splice(0, n);
    if (!last) return;
    try {
      this.ch.ack(last, true);
    } catch {
      /* channel gone: the broker requeues what it had not been told */
    }
  }
}
