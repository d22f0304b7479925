import { randomUUID } from 'node:crypto';
import { Connection, Delivery, EventContext, Message, Receiver, Sender, TerminusOptions } from 'rhea';
import { LoggerLike } from '../logger.types';
import { EdgePrincipal } from './edge-auth';
import { routerAddress } from './edge-message.util';
import { EdgeRouter, isTemporaryAddress, RouterConsumer } from './edge-router';

/** Message annotation where the router records who sent a message (overwriting any peer value). */
export const PRINCIPAL_ANNOTATION = 'x-nephele-principal';
/** Message annotation with the sender's claims (EdgeClaims as a map; removed when it has none). */
export const CLAIMS_ANNOTATION = 'x-nephele-claims';

type AttachFrame = { source?: TerminusOptions; target?: TerminusOptions; snd_settle_mode?: number };
/** rhea keeps the peer's attach frame and the link's counters on fields its typings omit. */
function remoteAttach(link: Sender | Receiver): AttachFrame {
  return (link as unknown as { remote: { attach?: AttachFrame } }).remote.attach ?? {};
}
function counters(link: Sender): { credit: number; delivery_count: number } {
  return link as unknown as { credit: number; delivery_count: number };
}

export type PeerState = {
  principal: EdgePrincipal;
  cleanups: Set<() => void>;
  links: number;
  /** A re-check of the credential in flight (the periodic one). */
  checking?: Promise<void>;
  closed: boolean;
};

/** What the peers' links need of the listener that accepted them. */
export interface PeerLinksHost {
  readonly router: EdgeRouter;
  readonly log: LoggerLike;
  /** The authenticated peer of a connection (undefined before its open, or after it left). */
  peer(conn: Connection): PeerState | undefined;
  /** Whether `key` is the reply address of an in-process connection (never a remote peer's). */
  isReserved(key: string): boolean;
  guard(fn: () => void): void;
  /** Whether the peer's credential still holds (re-checked before each message it sends). */
  stillValid(peer: PeerState): Promise<boolean>;
  closePeer(conn: Connection, condition: string, description: string): void;
}

/**
 * The links remote peers attach to a listener: each admitted against the peer's principal and
 * the per-connection bound, then joined to a router queue — a peer's receiving link becomes a
 * router consumer, a peer's sending link publishes into router queues with the sender's identity
 * stamped on each message (see Note [Edge listener]).
 */
export class EdgePeerLinks {
  constructor(
    private readonly host: PeerLinksHost,
    private readonly limits: { maxLinksPerConnection: number; linkCredit: number; maxMessageBytes: number },
  ) {}

  private refuse(link: Sender | Receiver, condition: string, description: string): void {
    this.host.log.warn({ description }, 'edge: link refused');
    link.close({ condition, description });
  }

  /** Counts a link against the connection's bound; false (and the link refused) when over it. */
  private admitLink(peer: PeerState, link: Sender | Receiver): boolean {
    const max = this.limits.maxLinksPerConnection;
    if (peer.links >= max) {
      this.refuse(link, 'amqp:resource-limit-exceeded', `at most ${max} links per connection`);
      return false;
    }
    peer.links++;
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      peer.links--;
      peer.cleanups.delete(release);
    };
    link.once(link.is_sender() ? 'sender_close' : 'receiver_close', release);
    peer.cleanups.add(release);
    return true;
  }

  /** The peer attached a receiving link: we send to it from a router queue. */
  peerReceives(conn: Connection, sender: Sender): void {
    const peer = this.host.peer(conn);
    if (!peer) return this.refuse(sender, 'amqp:unauthorized-access', 'not authenticated');
    const source = (remoteAttach(sender).source ?? {}) as { address?: unknown; dynamic?: boolean };
    let address: string;
    if (source.dynamic) {
      address = `dynamic.${randomUUID()}`;
    } else if (
      typeof source.address === 'string' &&
      source.address.length > 0 &&
      source.address.length <= 1000
    ) {
      address = source.address;
    } else {
      return this.refuse(sender, 'amqp:invalid-field', 'a receiving link needs a source address');
    }
    const key = routerAddress(address);
    if (peer.principal.mayAttach && !peer.principal.mayAttach('receive', key)) {
      return this.refuse(
        sender,
        'amqp:unauthorized-access',
        `${peer.principal.name} may not receive from ${key}`,
      );
    }
    if (
      isTemporaryAddress(key) &&
      (this.host.isReserved(key) || (this.host.router.find(key)?.consumers.length ?? 0) > 0)
    ) {
      return this.refuse(sender, 'amqp:resource-locked', `${key} is another receiver's reply address`);
    }
    if (!this.admitLink(peer, sender)) return;
    sender.set_source({ address });
    sender.set_target(remoteAttach(sender).target ?? ({} as TerminusOptions));
    const presettled = remoteAttach(sender).snd_settle_mode === 1;
    const deliveries = new Map<Delivery, number>();
    let given = 0;
    const consumer: RouterConsumer = {
      label: `${peer.principal.name}:${key}`,
      capacity: () => {
        if (!sender.is_open() || !sender.sendable()) return 0;
        // rhea lowers `credit` only when a transfer is written: count what is still buffered.
        const { credit, delivery_count } = counters(sender);
        return credit - (given - delivery_count);
      },
      deliver: (q, m) => {
        const out: Message = {
          ...m.msg,
          delivery_count: m.deliveryCount,
          first_acquirer: m.deliveryCount === 0,
        };
        const d = sender.send(out);
        given++;
        if (presettled) this.host.router.settle(q, m.seq, 'accepted');
        else deliveries.set(d, m.seq);
      },
    };
    const queue = this.host.router.subscribe(key, consumer);
    const settle = (ctx: EventContext, outcome: 'accepted' | 'rejected' | 'released') => {
      const seq = deliveries.get(ctx.delivery!);
      if (seq === undefined) return;
      deliveries.delete(ctx.delivery!);
      const state = ctx.delivery?.remote_state as { error?: { description?: string } } | undefined;
      this.host.router.settle(queue, seq, outcome, state?.error?.description);
    };
    sender.on('accepted', (ctx: EventContext) => this.host.guard(() => settle(ctx, 'accepted')));
    sender.on('rejected', (ctx: EventContext) => this.host.guard(() => settle(ctx, 'rejected')));
    sender.on('released', (ctx: EventContext) => this.host.guard(() => settle(ctx, 'released')));
    sender.on('sendable', () => this.host.guard(() => this.host.router.pump(queue)));
    let detached = false;
    const detach = () => {
      if (detached) return;
      detached = true;
      peer.cleanups.delete(detach);
      deliveries.clear();
      this.host.router.unsubscribe(queue, consumer);
    };
    sender.on('sender_close', () => this.host.guard(detach));
    peer.cleanups.add(detach);
  }

  /** Why a peer may not send to an address, or undefined when it may. */
  private sendRefusal(peer: PeerState, key: string): string | undefined {
    if (peer.principal.mayAttach && !peer.principal.mayAttach('send', key))
      return `${peer.principal.name} may not send to ${key}`;
    if (isTemporaryAddress(key)) {
      const q = this.host.router.find(key);
      if (q && q.consumers.some((c) => !c.local)) return `${key} is another peer's reply address`;
    }
    return undefined;
  }

  /** The peer attached a sending link: what it sends goes into router queues. */
  peerSends(conn: Connection, receiver: Receiver): void {
    const peer = this.host.peer(conn);
    if (!peer) return this.refuse(receiver, 'amqp:unauthorized-access', 'not authenticated');
    const target = (remoteAttach(receiver).target ?? {}) as { address?: unknown };
    const fixed =
      typeof target.address === 'string' && target.address.length > 0 ? target.address : undefined;
    if (fixed && fixed.length > 1000) return this.refuse(receiver, 'amqp:invalid-field', 'address too long');
    if (fixed) {
      const why = this.sendRefusal(peer, routerAddress(fixed));
      if (why) return this.refuse(receiver, 'amqp:unauthorized-access', why);
    }
    if (!this.admitLink(peer, receiver)) return;
    receiver.set_target((fixed ? { address: fixed } : {}) as TerminusOptions);
    receiver.set_source(remoteAttach(receiver).source ?? ({} as TerminusOptions));
    (
      receiver as unknown as { local: { attach: { max_message_size?: number } } }
    ).local.attach.max_message_size = this.limits.maxMessageBytes;
    receiver.add_credit(this.limits.linkCredit);
    // Messages of one link are routed in order, each after its sender's credential is re-checked.
    let chain = Promise.resolve();
    receiver.on('message', (ctx: EventContext) => {
      const delivery = ctx.delivery!;
      const m = ctx.message!;
      chain = chain.then(async () => {
        const ok = await this.host.stillValid(peer);
        this.host.guard(() => {
          if (!ok) {
            if (!delivery.remote_settled)
              delivery.reject({ condition: 'amqp:unauthorized-access', description: 'credential revoked' });
            if (!peer.closed) this.host.closePeer(conn, 'amqp:unauthorized-access', 'credential revoked');
            return;
          }
          this.route(peer, receiver, fixed, delivery, m);
        });
      });
    });
  }

  private route(
    peer: PeerState,
    receiver: Receiver,
    fixed: string | undefined,
    delivery: Delivery,
    m: Message,
  ): void {
    // Anonymous relay: without a link address each message names its own with `to`.
    const address = fixed ?? (typeof m.to === 'string' ? m.to : '');
    const key = routerAddress(address);
    let result;
    const why = fixed ? undefined : this.sendRefusal(peer, key);
    if (why) {
      result = { ok: false as const, condition: 'amqp:unauthorized-access', description: why };
    } else {
      const annotations = { ...((m.message_annotations as Record<string, unknown>) ?? {}) };
      annotations[PRINCIPAL_ANNOTATION] = peer.principal.name;
      delete annotations[CLAIMS_ANNOTATION];
      if (peer.principal.claims) annotations[CLAIMS_ANNOTATION] = { ...peer.principal.claims };
      m.message_annotations = annotations;
      result = this.host.router.publish(
        key,
        m,
        (outcome, reason) =>
          this.host.guard(() => {
            if (delivery.remote_settled || !receiver.is_open()) return;
            if (outcome === 'accepted') delivery.accept();
            else
              delivery.reject({
                condition: 'amqp:precondition-failed',
                description: (reason ?? 'rejected').slice(0, 1000),
              });
          }),
        approximateSize(m),
      );
    }
    if (!result.ok && !delivery.remote_settled) {
      delivery.reject({ condition: result.condition, description: result.description });
    }
    if (receiver.is_open()) receiver.add_credit(1);
  }
}

/** A message's size for the queue byte caps: its body's bytes (what dominates), or a guess. */
function approximateSize(m: Message): number {
  const body = m.body as { content?: unknown } | undefined;
  const content = body && typeof body === 'object' && 'content' in body ? body.content : m.body;
  if (Buffer.isBuffer(content)) return content.length + 256;
  if (Array.isArray(content))
    return content.reduce((n: number, c: unknown) => n + (Buffer.isBuffer(c) ? c.length : 64), 256);
  if (typeof content === 'string') return Buffer.byteLength(content) + 256;
  try {
    return Buffer.byteLength(JSON.stringify(content) ?? '') + 256;
  } catch {
    return 1024;
  }
}
