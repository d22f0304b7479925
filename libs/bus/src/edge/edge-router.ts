import { Message } from 'rhea';
import { LoggerLike } from '../logger.types';

/** A message held by the router. */
export interface RoutedMessage {
  seq: number;
  msg: Message;
  expiresAt?: number;
  /** Earlier deliveries that did not end in accept/reject (AMQP header delivery-count). */
  deliveryCount: number;
  /** Tells the sender the outcome, once (see Note [Edge router]). */
  onSettled?: SettledCallback;
  /** Encoded size, counted against the queue's byte cap. */
  bytes: number;
}

export type SettledCallback = (outcome: 'accepted' | 'rejected', reason?: string) => void;

/** A receiver attached to a router queue: a remote peer's link or a local handler. */
export interface RouterConsumer {
  readonly label: string;
  /** An in-process receiver (not a remote peer's link). */
  readonly local?: boolean;
  /** How many more messages it can take now (its credit minus what it holds). */
  capacity(): number;
  /** Takes one message; it must later call `router.settle(queue, m.seq, outcome)`. */
  deliver(queue: RouterQueue, m: RoutedMessage): void;
}

export type RouterOutcome = 'accepted' | 'rejected' | 'released' | 'modified';

export type PublishResult = { ok: true } | { ok: false; condition: string; description: string };

export class RouterQueue {
  readonly ready: RoutedMessage[] = [];
  readonly unacked = new Map<number, { m: RoutedMessage; consumer: RouterConsumer }>();
  readonly consumers: RouterConsumer[] = [];
  next = 0;
  /** Bytes of the messages it holds (ready and unacknowledged). */
  bytes = 0;
  pumping = false;
  again = false;

  constructor(
    readonly address: string,
    readonly temporary: boolean,
  ) {}

  get depth(): number {
    return this.ready.length + this.unacked.size;
  }
}

function done(m: RoutedMessage, outcome: 'accepted' | 'rejected', reason?: string): void {
  const cb = m.onSettled;
  if (!cb) return;
  m.onSettled = undefined;
  cb(outcome, reason);
}

/** Bounds of what the router holds. */
export interface RouterLimits {
  /** Messages a queue may hold (ready) before it refuses more. */
  maxQueueLength: number;
  /** Bytes a queue may hold before it refuses more (default: unbounded). */
  maxQueueBytes?: number;
  /** No message is held longer than this, whatever its own ttl (default: its ttl only). */
  maxHoldMs?: number;
}

/** Reply and dynamic addresses live only while their receiver is attached. */
export function isTemporaryAddress(address: string): boolean {
  return address.startsWith('reply.') || address.startsWith('dynamic.');
}

// Note [Edge router]
// Listen mode has no broker, so Nephele is one: a queue per address, created when first used.
// A message sent to X waits in X's queue until a receiver attached at X has credit; receivers of
// one address compete (round robin). A delivered message stays unacknowledged until its receiver
// settles it: accepted or rejected → gone (a rejection is logged with its reason), released or
// modified → back to the head of the queue, with its delivery-count raised; a receiver that
// detaches or disconnects releases everything it held. So delivery is at least once (in memory).
// The sender learns the outcome end to end while someone is there to decide it: a message sent
// to an address with a receiver is settled with that receiver's accept or reject (so a client
// sees why a server refused its request); a message that waits in a queue without receivers is
// accepted at once, as a broker would (the sender cannot wait for a consumer that may never come).
// Bounds: a queue refuses messages beyond `maxQueueLength` or `maxQueueBytes`
// (amqp:resource-limit-exceeded), and a message's `ttl` is honoured, capped by `maxHoldMs` (an
// expired message is dropped instead of delivered, and swept out of idle queues). Reply and
// dynamic addresses (`reply.*`, `dynamic.*`) exist only while a receiver is attached; a message
// for one without a receiver is refused (amqp:not-found), so no reply piles up for a client that
// is gone. Other queues are dropped when they are empty and have no receiver.
export class EdgeRouter {
  private readonly queues = new Map<string, RouterQueue>();
  private seq = 0;
  private readonly limits: RouterLimits;

  constructor(
    limits: number | RouterLimits,
    private readonly log: LoggerLike,
    private readonly now: () => number = Date.now,
  ) {
    this.limits = typeof limits === 'number' ? { maxQueueLength: limits } : limits;
  }

  /** The queue at an address, if it exists. */
  find(address: string): RouterQueue | undefined {
    return this.queues.get(address);
  }

  private queue(address: string, create: boolean): RouterQueue | undefined {
    let q = this.queues.get(address);
    if (!q && create) {
      q = new RouterQueue(address, isTemporaryAddress(address));
      this.queues.set(address, q);
    }
    return q;
  }

  publish(address: string, msg: Message, onSettled?: SettledCallback, bytes = 0): PublishResult {
    if (!address)
      return { ok: false, condition: 'amqp:not-found', description: 'a message needs an address' };
    const temporary = isTemporaryAddress(address);
    const existing = this.queues.get(address);
    if (temporary && (!existing || existing.consumers.length === 0)) {
      return { ok: false, condition: 'amqp:not-found', description: `no receiver at ${address}` };
    }
    const q = existing ?? this.queue(address, true)!;
    const { maxQueueLength, maxQueueBytes, maxHoldMs } = this.limits;
    const full = () =>
      q.ready.length >= maxQueueLength || (maxQueueBytes !== undefined && q.bytes + bytes > maxQueueBytes);
    if (full()) {
      this.dropExpired(q);
      if (full()) {
        if (!q.consumers.length) this.maybeDrop(q);
        return {
          ok: false,
          condition: 'amqp:resource-limit-exceeded',
          description:
            q.ready.length >= maxQueueLength
              ? `queue ${address} is full (${maxQueueLength} messages)`
              : `queue ${address} is full (${maxQueueBytes} bytes)`,
        };
      }
    }
    let ttl = typeof msg.ttl === 'number' && msg.ttl > 0 ? msg.ttl : undefined;
    if (maxHoldMs !== undefined) ttl = Math.min(ttl ?? maxHoldMs, maxHoldMs);
    q.bytes += bytes;
    q.ready.push({
      seq: ++this.seq,
      msg,
      expiresAt: ttl ? this.now() + ttl : undefined,
      deliveryCount: typeof msg.delivery_count === 'number' ? msg.delivery_count : 0,
      onSettled: q.consumers.length ? onSettled : undefined,
      bytes,
    });
    if (!q.consumers.length) onSettled?.('accepted');
    this.pump(q);
    return { ok: true };
  }

  subscribe(address: string, consumer: RouterConsumer): RouterQueue {
    const q = this.queue(address, true)!;
    q.consumers.push(consumer);
    this.pump(q);
    return q;
  }

  /** Detaches a consumer; what it held goes back to the head of the queue. */
  unsubscribe(q: RouterQueue, consumer: RouterConsumer): void {
    const i = q.consumers.indexOf(consumer);
    if (i >= 0) q.consumers.splice(i, 1);
    const held = [...q.unacked.entries()]
      .filter(([, v]) => v.consumer === consumer)
      .sort(([a], [b]) => a - b);
    for (const [seq] of held) q.unacked.delete(seq);
    q.ready.unshift(...held.map(([, v]) => ({ ...v.m, deliveryCount: v.m.deliveryCount + 1 })));
    if (q.consumers.length === 0) {
      for (const m of q.ready) {
        if (q.temporary) done(m, 'rejected', `the receiver of ${q.address} went away`);
        else done(m, 'accepted');
      }
      if (q.temporary) {
        q.ready.length = 0;
        q.bytes = [...q.unacked.values()].reduce((n, v) => n + v.m.bytes, 0);
      }
    }
    this.maybeDrop(q);
    this.pump(q);
  }

  settle(q: RouterQueue, seq: number, outcome: RouterOutcome, reason?: string): void {
    const held = q.unacked.get(seq);
    if (!held) return;
    q.unacked.delete(seq);
    switch (outcome) {
      case 'accepted':
        q.bytes -= held.m.bytes;
        done(held.m, 'accepted');
        break;
      case 'rejected':
        q.bytes -= held.m.bytes;
        done(held.m, 'rejected', reason);
        this.log.warn(
          { address: q.address, consumer: held.consumer.label, reason },
          'edge: message rejected by its receiver; dropped',
        );
        break;
      case 'released':
        q.ready.unshift(held.m);
        break;
      case 'modified':
        q.ready.unshift({ ...held.m, deliveryCount: held.m.deliveryCount + 1 });
        break;
    }
    this.maybeDrop(q);
    this.pump(q);
  }

  /** Hands ready messages to consumers with capacity. Re-entrant calls are folded into one loop. */
  pump(q: RouterQueue): void {
    if (q.pumping) {
      q.again = true;
      return;
    }
    q.pumping = true;
    try {
      do {
        q.again = false;
        while (q.ready.length && q.consumers.length) {
          const consumer = this.pick(q);
          if (!consumer) break;
          const m = q.ready.shift()!;
          if (m.expiresAt !== undefined && m.expiresAt <= this.now()) {
            q.bytes -= m.bytes;
            done(m, 'accepted');
            continue;
          }
          q.unacked.set(m.seq, { m, consumer });
          try {
            consumer.deliver(q, m);
          } catch (e) {
            this.log.error(
              { err: (e as Error).message, address: q.address },
              'edge: delivery failed; requeued',
            );
            q.unacked.delete(m.seq);
            q.ready.unshift(m);
            break;
          }
        }
      } while (q.again);
    } finally {
      q.pumping = false;
    }
    this.maybeDrop(q);
  }

  private pick(q: RouterQueue): RouterConsumer | undefined {
    const n = q.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = q.consumers[(q.next + i) % n]!;
      if (c.capacity() > 0) {
        q.next = (q.next + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  private dropExpired(q: RouterQueue): void {
    const now = this.now();
    const keep = q.ready.filter((m) => {
      if (m.expiresAt === undefined || m.expiresAt > now) return true;
      q.bytes -= m.bytes;
      done(m, 'accepted');
      return false;
    });
    q.ready.length = 0;
    q.ready.push(...keep);
  }

  private maybeDrop(q: RouterQueue): void {
    if (
      q.consumers.length === 0 &&
      q.ready.length === 0 &&
      q.unacked.size === 0 &&
      this.queues.get(q.address) === q
    ) {
      this.queues.delete(q.address);
    }
  }

  /** Drops expired messages everywhere (called periodically). */
  sweep(): void {
    for (const q of [...this.queues.values()]) {
      this.dropExpired(q);
      this.maybeDrop(q);
    }
  }

  /** What each queue holds, for health pages and tests. */
  stats(): { address: string; ready: number; unacked: number; consumers: number; bytes: number }[] {
    return [...this.queues.values()].map((q) => ({
      address: q.address,
      ready: q.ready.length,
      unacked: q.unacked.size,
      consumers: q.consumers.length,
      bytes: q.bytes,
    }));
  }
}
