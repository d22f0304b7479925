import { CloudEvent, Topology } from '@nephele/contracts';
import { topicMatches } from '@nephele/util';
import {
  Bus,
  HandlerOutcome,
  MessageContext,
  Outcome,
  PublishOptions,
  RequestHandler,
  Subscription,
} from './bus.types';
import { decodeMessage } from './decode.util';
import { LoggerLike, silentLogger } from './logger.types';

interface Queue {
  name: string;
  bindings: { exchange: string; pattern: string }[];
  items: { body: string; headers: Record<string, unknown>; redelivered: boolean }[];
  consumer?: Subscription;
  inFlight: number;
  draining: boolean;
}

export interface DeadLetter {
  queue: string;
  reason: string;
  body: string;
}

/**
 * The in-process bus of the all-in-one mode and of wiring tests. Same semantics as the RabbitMQ
 * adapter where they matter: topic routing, validation before the handler, ack/retry/dead-letter,
 * bounded in-flight messages. Messages are serialised so handlers never share objects with the
 * publisher. Nothing survives the process (the outbox makes that safe for events that matter).
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly queues = new Map<string, Queue>();
  private readonly responders: { bindings: string[]; exchange: string; handler: RequestHandler }[] = [];
  readonly deadLetters: DeadLetter[] = [];
  private closed = false;
  private users = 0;
  private readonly log: LoggerLike;

  constructor(opts: { logger?: LoggerLike } = {}) {
    this.log = opts.logger ?? silentLogger;
  }

  isReady(): boolean {
    return !this.closed;
  }
  /** Shared by every service module of a process: it closes when the last one closes it. */
  async start(): Promise<void> {
    this.users++;
    this.closed = false;
  }
  async close(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) this.closed = true;
  }

  async publish(event: CloudEvent, opts: PublishOptions = {}): Promise<void> {
    await this.publishAll([event], opts);
  }

  async publishAll(events: CloudEvent[], opts: PublishOptions = {}): Promise<void> {
    if (this.closed) throw new Error('bus closed');
    const exchange = opts.exchange ?? Topology.events;
    for (const event of events) {
      const key = opts.routingKey ?? event.type;
      const body = JSON.stringify(event);
      for (const q of this.queues.values()) {
        if (q.bindings.some((b) => b.exchange === exchange && topicMatches(b.pattern, key))) {
          q.items.push({
            body,
            headers: { ...opts.headers, traceparent: event.traceparent },
            redelivered: false,
          });
          this.pump(q);
        }
      }
    }
  }

  async subscribe(sub: Subscription): Promise<{ cancel(): Promise<void> }> {
    let q = this.queues.get(sub.queue);
    if (!q) {
      q = { name: sub.queue, bindings: [], items: [], inFlight: 0, draining: false };
      this.queues.set(sub.queue, q);
    }
    for (const pattern of sub.bindings) {
      if (!q.bindings.some((b) => b.exchange === sub.exchange && b.pattern === pattern)) {
        q.bindings.push({ exchange: sub.exchange, pattern });
      }
    }
    q.consumer = sub;
    this.pump(q);
    const queue = q;
    return {
      cancel: async () => {
        queue.consumer = undefined;
        if (sub.exclusive) this.queues.delete(sub.queue);
      },
    };
  }

  /** Messages waiting in a queue (tests and /metrics). */
  depth(queue: string): number {
    return this.queues.get(queue)?.items.length ?? 0;
  }

  private pump(q: Queue): void {
    if (q.draining) return;
    q.draining = true;
    queueMicrotask(() => {
      q.draining = false;
      void this.drain(q);
    });
  }

  private async drain(q: Queue): Promise<void> {
    const sub = q.consumer;
    if (!sub || this.closed) return;
    const limit = sub.prefetch ?? 64;
    if ('batchHandler' in sub) {
      while (q.items.length && q.inFlight === 0) {
        const take = q.items.splice(0, sub.batchSize);
        const decoded = take.map((it) => ({ it, d: decodeMessage(it.body, sub.validate ?? true) }));
        const good: { it: (typeof take)[number]; event: CloudEvent; ctx: MessageContext; json: string }[] = [];
        for (const { it, d } of decoded) {
          if (d.ok) good.push({ it, event: d.event, ctx: this.ctx(q, it), json: d.json });
          else this.deadLetter(q, it.body, d.reason);
        }
        if (!good.length) continue;
        q.inFlight = good.length;
        let outcomes: HandlerOutcome[];
        try {
          outcomes = await sub.batchHandler(good.map(({ event, ctx, json }) => ({ event, ctx, json })));
        } catch (e) {
          this.log.error({ err: (e as Error).message, queue: q.name }, 'batch handler threw; retrying');
          outcomes = good.map(() => ({ kind: 'retry', afterMs: 1000 }));
        }
        q.inFlight = 0;
        good.forEach((g, i) => this.settle(q, g.it, outcomes[i] ?? { kind: 'retry', afterMs: 1000 }));
      }
      return;
    }
    while (q.items.length && q.inFlight < limit && q.consumer === sub) {
      const it = q.items.shift()!;
      const d = decodeMessage(it.body, sub.validate ?? true);
      if (!d.ok) {
        this.deadLetter(q, it.body, d.reason);
        continue;
      }
      q.inFlight++;
      sub
        .handler(d.event, this.ctx(q, it))
        .catch((e: Error): HandlerOutcome => {
          this.log.error({ err: e.message, queue: q.name }, 'handler threw');
          return Outcome.failed(e, 1000);
        })
        .then((outcome) => {
          q.inFlight--;
          this.settle(q, it, outcome);
          this.pump(q);
        })
        .catch(() => undefined);
    }
  }

  private ctx(q: Queue, it: { headers: Record<string, unknown>; redelivered: boolean }): MessageContext {
    return { redelivered: it.redelivered, headers: it.headers, queue: q.name };
  }

  private settle(q: Queue, it: Queue['items'][number], outcome: HandlerOutcome): void {
    switch (outcome.kind) {
      case 'ack':
        return;
      case 'retry':
        setTimeout(() => {
          q.items.push({ ...it, redelivered: true });
          this.pump(q);
        }, outcome.afterMs);
        return;
      case 'dead-letter':
        this.deadLetter(q, it.body, outcome.reason);
        return;
    }
  }

  private deadLetter(q: Queue, body: string, reason: string): void {
    this.log.warn({ queue: q.name, reason }, 'dead-lettering');
    this.deadLetters.push({ queue: q.name, reason, body });
    if (this.deadLetters.length > 10_000) this.deadLetters.shift();
  }

  async request<R = unknown>(
    event: CloudEvent,
    opts: { timeoutMs?: number; exchange?: string } = {},
  ): Promise<R> {
    const exchange = opts.exchange ?? Topology.commands;
    const r = this.responders.find(
      (x) => x.exchange === exchange && x.bindings.some((b) => topicMatches(b, event.type)),
    );
    if (!r) throw new Error(`no responder for ${event.type}`);
    const d = decodeMessage(JSON.stringify(event), true);
    if (!d.ok) throw new Error(d.reason);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(
        () => reject(new Error(`request ${event.type} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return (await Promise.race([r.handler(d.event), timeout])) as R;
    } finally {
      clearTimeout(t);
    }
  }

  async requestJson(
    event: CloudEvent,
    opts: { timeoutMs?: number; exchange?: string } = {},
  ): Promise<Buffer> {
    return Buffer.from(JSON.stringify(await this.request(event, opts)) ?? 'null');
  }

  async respond(_queue: string, bindings: string[], handler: RequestHandler): Promise<void> {
    this.responders.push({ bindings, exchange: Topology.commands, handler });
  }
}
