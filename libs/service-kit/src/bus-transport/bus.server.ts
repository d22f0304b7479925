import { randomUUID } from 'node:crypto';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { BatchItem, Bus, HandlerOutcome, LoggerLike, MessageContext, Outcome } from '@nephele/bus';
import { CloudEvent, findMessageDefinition, QueueSpec } from '@nephele/contracts';
import { topicMatches } from '@nephele/util';
import { BusQueueTuning } from './queue-tuning';

/** The extras every bus handler declares: `@EventPattern(Type, { queue: Topology.queues.x })`. */
export interface BusHandlerExtras {
  queue: QueueSpec;
}

/**
 * What a batch handler of a batching queue receives (and answers with one outcome per item): each
 * message's event and, in `json`, the body it was parsed from.
 */
export type BusBatch = BatchItem[];

interface Route {
  spec: QueueSpec;
  handlers: Map<string, MessageHandler>;
}

const isTopic = (pattern: string) => pattern.split('.').some((w) => w === '#' || w === '*');

function isOutcome(v: unknown): v is HandlerOutcome {
  const kind = (v as { kind?: unknown } | null)?.kind;
  return kind === 'ack' || kind === 'retry' || kind === 'dead-letter';
}

/** A rejection of Nest's RPC pipeline as an Error (Nest's own filters answer `{status, message}`). */
function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  const message = (e as { message?: unknown } | null)?.message;
  return new Error(typeof message === 'string' ? message : String(e));
}

/**
 * Note [Bus transport]
 * ~~~~~~~~~~~~~~~~~~~~
 * Consumers are NestJS microservice handlers over the `Bus` port (RabbitMQ, or the memory bus of
 * the all-in-one): `@EventPattern(Type, { queue })` for at-least-once deliveries,
 * `@MessagePattern(Type, { queue })` for request/reply, in classes marked `@BusConsumer()`.
 * Nest discovers them when the app is created (`createHttpApp` connects this server); the server
 * refuses a handler whose type has no contract in @nephele/contracts, that its queue does not
 * carry, or that another handler of the same queue already handles, and — once all are known —
 * a queue with a type nobody handles. So the app does not start with a duplicate or missing
 * handler. At `init` (after every module's bootstrap hooks) it opens one subscription per queue,
 * bound to the types the queue's Topology entry carries; the bus validates each message against
 * its contract class first (an invalid one is dead-lettered with the reason and never reaches a
 * handler). A delivery handler answers with an `Outcome` (ack, retry after N ms, dead-letter with
 * a reason); a throw is a bug: logged, then retried (or dead-lettered when the database refused
 * the data, see `Outcome.failed`). A request handler's value is the reply; its throw is the
 * error the requester gets. Queues with `batch` hand the single handler a `BusBatch`.
 */
export class BusServer extends Server implements CustomTransportStrategy {
  private readonly routes = new Map<string, Route>();
  private readonly cancels: (() => Promise<void>)[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly o: {
      service: string;
      log: LoggerLike;
      tuning?: BusQueueTuning;
      /** Names this consumer's exclusive queues (a DPE worker's id); default: the process id. */
      instance?: string;
    },
  ) {
    super();
  }

  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler = false,
    extras: Record<string, unknown> = {},
  ): void {
    const spec = (extras as Partial<BusHandlerExtras>).queue;
    if (typeof pattern !== 'string')
      throw new Error(`bus handler pattern must be a message type, got ${String(pattern)}`);
    if (!spec?.name)
      throw new Error(`bus handler for ${pattern} names no queue ({ queue: Topology.queues.… })`);
    const style = spec.style ?? 'deliver';
    if (isEventHandler !== (style === 'deliver')) {
      throw new Error(
        `${pattern} on ${spec.name}: ${style === 'request' ? '@MessagePattern' : '@EventPattern'} handles a ${style} queue`,
      );
    }
    if (!spec.carries.includes(pattern))
      throw new Error(`queue ${spec.name} does not carry ${pattern} (it carries ${spec.carries.join(', ')})`);
    if (!isTopic(pattern) && !findMessageDefinition(pattern))
      throw new Error(`${pattern} has no contract in @nephele/contracts`);
    let route = this.routes.get(spec.name);
    if (!route) this.routes.set(spec.name, (route = { spec, handlers: new Map() }));
    if (route.handlers.has(pattern)) throw new Error(`two handlers for ${pattern} on queue ${spec.name}`);
    route.handlers.set(pattern, callback);
    super.addHandler(`${spec.name} ${pattern}`, callback, isEventHandler, extras);
  }

  /** Throws unless every type of every queue the app consumes has its handler. */
  assertComplete(): void {
    for (const { spec, handlers } of this.routes.values()) {
      const missing = spec.carries.filter((t) => !handlers.has(t));
      if (missing.length) throw new Error(`queue ${spec.name} has no handler for ${missing.join(', ')}`);
      if (spec.batch && spec.carries.length !== 1)
        throw new Error(`batching queue ${spec.name} must carry one pattern for its one handler`);
    }
  }

  /** The queues this process consumes (after start-up discovery). */
  queues(): QueueSpec[] {
    return [...this.routes.values()].map((r) => r.spec);
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      this.assertComplete();
      for (const route of this.routes.values()) await this.open(route);
      callback();
    } catch (e) {
      callback(e);
    }
  }

  async close(): Promise<void> {
    const cancels = this.cancels.splice(0);
    for (const c of cancels) await c().catch(() => undefined);
  }

  on(): never {
    throw new Error('the bus transport has no server events');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  private queueName(spec: QueueSpec): string {
    const name = spec.name.includes('.') ? spec.name : `${this.o.service}.${spec.name}`;
    return spec.exclusive ? `${name}.${this.o.instance ?? process.pid}.${randomUUID().slice(0, 8)}` : name;
  }

  private async open(route: Route): Promise<void> {
    const spec = this.o.tuning?.apply(route.spec) ?? route.spec;
    const queue = this.queueName(spec);
    if (spec.style === 'request') {
      await this.bus.respond(queue, [...spec.carries], (e) => this.answer(route, e));
      return;
    }
    const base = {
      queue,
      exchange: spec.exchange,
      bindings: [...spec.carries],
      prefetch: spec.prefetch,
      validate: spec.validate,
      exclusive: spec.exclusive,
    };
    const batch = spec.batch;
    const sub = batch
      ? await this.bus.subscribe({
          ...base,
          batchSize: batch.size,
          maxWaitMs: batch.maxWaitMs,
          batchHandler: (items) => this.deliverBatch(route, items),
        })
      : await this.bus.subscribe({ ...base, handler: (e, ctx) => this.deliver(route, e, ctx) });
    this.cancels.push(() => sub.cancel());
  }

  private handlerFor(route: Route, type: string): MessageHandler | undefined {
    const exact = route.handlers.get(type);
    if (exact) return exact;
    for (const [pattern, h] of route.handlers) if (isTopic(pattern) && topicMatches(pattern, type)) return h;
    return undefined;
  }

  private async run(handler: MessageHandler, ...args: unknown[]): Promise<unknown> {
    return lastValueFrom(this.transformToObservable(await handler(...(args as [unknown, unknown]))), {
      defaultValue: undefined,
    });
  }

  private async deliver(route: Route, event: CloudEvent, ctx: MessageContext): Promise<HandlerOutcome> {
    const handler = this.handlerFor(route, event.type);
    // A durable queue may still be bound to a type an older version handled.
    if (!handler) return Outcome.deadLetter(`no handler for ${event.type} on ${route.spec.name}`);
    try {
      const outcome = await this.run(handler, event, ctx);
      if (isOutcome(outcome)) return outcome;
      this.o.log.error({ queue: route.spec.name, type: event.type }, 'bus handler returned no Outcome');
      return Outcome.retry(1000, 'handler returned no outcome');
    } catch (e) {
      const err = asError(e);
      this.o.log.error(
        { err: err.message, stack: err.stack, queue: route.spec.name, type: event.type },
        'bus handler threw',
      );
      return Outcome.failed(e, 1000);
    }
  }

  private async deliverBatch(route: Route, items: BusBatch): Promise<HandlerOutcome[]> {
    const handler = [...route.handlers.values()][0]!;
    const outcomes = await this.run(handler, items);
    if (Array.isArray(outcomes) && outcomes.length === items.length && outcomes.every(isOutcome))
      return outcomes;
    this.o.log.error({ queue: route.spec.name }, 'batch handler returned no outcome per message');
    return items.map(() => Outcome.retry(1000, 'handler returned no outcomes'));
  }

  private async answer(route: Route, event: CloudEvent): Promise<unknown> {
    const handler = this.handlerFor(route, event.type);
    if (!handler) throw new Error(`no handler for ${event.type} on ${route.spec.name}`);
    try {
      return await this.run(handler, event, { redelivered: false, headers: {}, queue: route.spec.name });
    } catch (e) {
      throw asError(e);
    }
  }
}
