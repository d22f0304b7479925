import { randomUUID } from 'node:crypto';
import { AddressInfo, Server, Socket } from 'node:net';
import {
  Connection,
  Container,
  create_container,
  Delivery,
  EventContext,
  Message,
  message as amqpMessage,
  Receiver,
  Sender,
  TerminusOptions,
} from 'rhea';
import { LoggerLike, silentLogger } from '../logger.types';
import { DEFAULT_PREFETCH, EdgeConnectionBase, rawMessages, runHandler } from './edge-connection.base';
import { decodeMessage, encodeMessage, routerAddress } from './edge-message.util';
import { EdgeRouter, RoutedMessage, RouterConsumer, RouterQueue } from './edge-router';
import {
  EdgeError,
  EdgeHandler,
  EdgeOutcome,
  EdgeReceiveOptions,
  EdgeSendOptions,
  EdgeSubscription,
} from './edge.types';

/** Who a peer is, once authenticated, and what it may attach to. */
export interface EdgePrincipal {
  /** The identity (an assembly id, a token's id, `anonymous`); stamped on what the peer sends. */
  name: string;
  /**
   * Whether the peer may attach a link: `send` to an address, or `receive` from one (router
   * addresses: `/queue/` already removed). Absent = anything.
   */
  mayAttach?(role: 'send' | 'receive', address: string): boolean;
}

/** Checks SASL PLAIN credentials: a principal, or null to refuse. May be async; must not throw. */
export type EdgeVerifier = (
  username: string,
  password: string,
) => Promise<EdgePrincipal | null | undefined> | EdgePrincipal | null | undefined;

export interface EdgeListenerOptions {
  /** TCP port (default 5673; 0 = any free port, see `port` after `start`). */
  port?: number;
  /** Interface to bind (default 0.0.0.0). */
  host?: string;
  /** SASL PLAIN verifier. Required unless `allowAnonymous`. */
  verify?: EdgeVerifier;
  /** Accept SASL ANONYMOUS and peers without SASL, as principal `anonymous`. Off by default. */
  allowAnonymous?: boolean;
  /** Messages a queue may hold before it refuses more (default 10,000). */
  maxQueueLength?: number;
  /** Credit granted to each sending peer link (default 256). */
  linkCredit?: number;
  /** A peer must open its AMQP connection (SASL done) within this time (default 10 s). */
  openTimeoutMs?: number;
  /** AMQP container id of the listener (default `nephele`). */
  id?: string;
  logger?: LoggerLike;
}

/** Message annotation where the router records who sent a message (overwriting any peer value). */
export const PRINCIPAL_ANNOTATION = 'x-nephele-principal';

/** Like the client's: a local send waits this long for a receiver's outcome. */
const SEND_TIMEOUT_MS = 30_000;

const ANONYMOUS: EdgePrincipal = { name: 'anonymous' };

function principalOf(m: Message): string | undefined {
  const v = (m.message_annotations as Record<string, unknown> | undefined)?.[PRINCIPAL_ANNOTATION];
  return typeof v === 'string' ? v : undefined;
}

/** The username a peer authenticated with, and whether it came from PLAIN (rhea keeps it inside). */
function saslIdentity(conn: Connection): { username?: string; plain: boolean } {
  type Mech = { username?: string; callback?: unknown };
  type Sasl = { username?: string; mechanism?: Mech; transports?: Record<number, Sasl> };
  const t = (conn as unknown as { sasl_transport?: Sasl }).sasl_transport;
  const server = t?.transports ? t.transports[3] : t;
  const mech = server?.mechanism;
  return { username: server?.username, plain: !!mech && typeof mech.callback === 'function' };
}

type AttachFrame = { source?: TerminusOptions; target?: TerminusOptions; snd_settle_mode?: number };
/** rhea keeps the peer's attach frame and the link's counters on fields its typings omit. */
function remoteAttach(link: Sender | Receiver): AttachFrame {
  return (link as unknown as { remote: { attach?: AttachFrame } }).remote.attach ?? {};
}
function counters(link: Sender): { credit: number; delivery_count: number } {
  return link as unknown as { credit: number; delivery_count: number };
}

type PeerState = { principal: EdgePrincipal; cleanups: Set<() => void> };

// Note [Edge listener]
// Listen mode (ARCHITECTURE §1, the all-in-one): Nephele accepts AMQP 1.0 peers on port 5673 and
// routes between their links with EdgeRouter (see Note [Edge router]); in-process code gets an
// EdgeConnection on the same router with `connect(id)`, so the CPE answers a Python client and an
// agent the same way whether they came through RabbitMQ or straight here. Peers authenticate with
// SASL PLAIN against the pluggable verifier (agents: assembly id + per-assembly secret; management
// clients: a token); ANONYMOUS (and no-SASL) only when explicitly allowed. The verifier's
// principal decides which addresses a peer may attach to, and its name is stamped on every
// message the peer sends (annotation x-nephele-principal), so a receiver knows who really sent it.
export class EdgeListener {
  readonly router: EdgeRouter;
  private readonly container: Container;
  private readonly log: LoggerLike;
  private readonly authenticated = new Map<string, EdgePrincipal>();
  private readonly peers = new Map<Connection, PeerState>();
  private readonly locals = new Set<LocalEdgeConnection>();
  private server?: Server;
  private sweeper?: NodeJS.Timeout;
  private readonly linkCredit: number;
  private closing?: Promise<void>;
  private readonly openedSockets = new WeakSet<object>();

  constructor(private readonly opts: EdgeListenerOptions = {}) {
    this.log = opts.logger ?? silentLogger;
    if (!opts.verify && !opts.allowAnonymous) {
      throw new EdgeError('an edge listener needs a verifier (or allowAnonymous: true)');
    }
    this.linkCredit = opts.linkCredit ?? 256;
    this.router = new EdgeRouter(opts.maxQueueLength ?? 10_000, this.log);
    this.container = create_container({ id: opts.id ?? 'nephele', autoaccept: false, credit_window: 0 });
    const mechs = this.container.sasl_server_mechanisms as {
      enable_plain(cb: (u: string, p: string) => Promise<boolean>): void;
      enable_anonymous(): void;
    };
    if (opts.verify) mechs.enable_plain((u, p) => this.checkPlain(u, p));
    if (opts.allowAnonymous) mechs.enable_anonymous();
    const c = this.container;
    c.on('connection_open', (ctx: EventContext) => this.guard(() => this.peerOpened(ctx.connection)));
    c.on('disconnected', (ctx: EventContext) => this.guard(() => this.peerGone(ctx.connection)));
    c.on('connection_close', (ctx: EventContext) => this.guard(() => this.peerGone(ctx.connection)));
    c.on('sender_open', (ctx: EventContext) =>
      this.guard(() => this.peerReceives(ctx.connection, ctx.sender!)),
    );
    c.on('receiver_open', (ctx: EventContext) =>
      this.guard(() => this.peerSends(ctx.connection, ctx.receiver!)),
    );
    for (const ev of [
      'error',
      'protocol_error',
      'connection_error',
      'session_error',
      'sender_error',
      'receiver_error',
    ]) {
      c.on(ev, (x: EventContext | Error) => {
        const err =
          x instanceof Error
            ? x.message
            : String((x?.connection?.error as { description?: string })?.description ?? ev);
        this.log.debug({ err, event: ev }, 'edge listener: peer error');
      });
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'edge listener: internal error in an AMQP callback');
    }
  }

  private async checkPlain(username: string, password: string): Promise<boolean> {
    try {
      const p = await this.opts.verify!(String(username ?? ''), String(password ?? ''));
      if (!p) {
        this.log.warn({ username }, 'edge: SASL PLAIN refused');
        return false;
      }
      this.authenticated.set(String(username), p);
      return true;
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'edge: verifier threw; refusing');
      return false;
    }
  }

  /** Starts accepting peers. Resolves when the port is bound. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = this.container.listen({ port: this.opts.port ?? 5673, host: this.opts.host ?? '0.0.0.0' });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve());
      server.once('error', reject);
    });
    server.on('error', (e: Error) => this.log.error({ err: e.message }, 'edge listener socket error'));
    // A peer that has not opened an AMQP connection in time (a refused login that stays
    // connected, a port scanner) loses its socket.
    server.on('connection', (socket: Socket) => {
      const t = setTimeout(() => {
        if (!this.openedSockets.has(socket)) socket.destroy();
      }, this.opts.openTimeoutMs ?? 10_000);
      t.unref();
      socket.once('close', () => clearTimeout(t));
    });
    this.sweeper = setInterval(() => this.router.sweep(), 5000);
    this.sweeper.unref();
    this.log.info({ port: this.port }, 'edge listening for AMQP 1.0 peers');
  }

  /** The bound port (after `start`). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** An in-process connection on this listener's router (mode `listen`). */
  connect(
    id: string = `nephele-${randomUUID().slice(0, 8)}`,
    opts: { ownsListener?: boolean } = {},
  ): EdgeConnectionBase {
    const c = new LocalEdgeConnection(this, id, this.log, opts.ownsListener ?? false);
    this.locals.add(c);
    return c;
  }

  /** @internal */
  forget(c: LocalEdgeConnection): void {
    this.locals.delete(c);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    for (const l of [...this.locals]) await l.close();
    for (const conn of [...this.peers.keys()]) {
      this.guard(() => conn.close());
      this.peerGone(conn);
    }
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  // ---- peers ---------------------------------------------------------------------------------

  private peerOpened(conn: Connection): void {
    const socket = (conn as unknown as { socket?: object }).socket;
    if (socket) this.openedSockets.add(socket);
    const id = saslIdentity(conn);
    let principal: EdgePrincipal | undefined;
    if (id.plain && id.username !== undefined) principal = this.authenticated.get(id.username);
    else if (this.opts.allowAnonymous) principal = ANONYMOUS;
    if (!principal) {
      this.log.warn({ username: id.username }, 'edge: peer without an identity; closing');
      conn.close({ condition: 'amqp:unauthorized-access', description: 'authentication required' });
      return;
    }
    this.peers.set(conn, { principal, cleanups: new Set() });
    this.log.info({ principal: principal.name, container: conn.container_id }, 'edge peer connected');
  }

  private peerGone(conn: Connection): void {
    const peer = this.peers.get(conn);
    if (!peer) return;
    this.peers.delete(conn);
    for (const c of peer.cleanups) c();
    peer.cleanups.clear();
    this.log.info({ principal: peer.principal.name }, 'edge peer disconnected');
  }

  private refuse(link: Sender | Receiver, condition: string, description: string): void {
    this.log.warn({ description }, 'edge: link refused');
    link.close({ condition, description });
  }

  /** The peer attached a receiving link: we send to it from a router queue. */
  private peerReceives(conn: Connection, sender: Sender): void {
    const peer = this.peers.get(conn);
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
        if (presettled) this.router.settle(q, m.seq, 'accepted');
        else deliveries.set(d, m.seq);
      },
    };
    const queue = this.router.subscribe(key, consumer);
    const settle = (ctx: EventContext, outcome: 'accepted' | 'rejected' | 'released') => {
      const seq = deliveries.get(ctx.delivery!);
      if (seq === undefined) return;
      deliveries.delete(ctx.delivery!);
      const state = ctx.delivery?.remote_state as { error?: { description?: string } } | undefined;
      this.router.settle(queue, seq, outcome, state?.error?.description);
    };
    sender.on('accepted', (ctx: EventContext) => this.guard(() => settle(ctx, 'accepted')));
    sender.on('rejected', (ctx: EventContext) => this.guard(() => settle(ctx, 'rejected')));
    sender.on('released', (ctx: EventContext) => this.guard(() => settle(ctx, 'released')));
    sender.on('sendable', () => this.guard(() => this.router.pump(queue)));
    let detached = false;
    const detach = () => {
      if (detached) return;
      detached = true;
      peer.cleanups.delete(detach);
      deliveries.clear();
      this.router.unsubscribe(queue, consumer);
    };
    sender.on('sender_close', () => this.guard(detach));
    peer.cleanups.add(detach);
  }

  /** The peer attached a sending link: what it sends goes into router queues. */
  private peerSends(conn: Connection, receiver: Receiver): void {
    const peer = this.peers.get(conn);
    if (!peer) return this.refuse(receiver, 'amqp:unauthorized-access', 'not authenticated');
    const target = (remoteAttach(receiver).target ?? {}) as { address?: unknown };
    const fixed =
      typeof target.address === 'string' && target.address.length > 0 ? target.address : undefined;
    if (fixed && fixed.length > 1000) return this.refuse(receiver, 'amqp:invalid-field', 'address too long');
    if (fixed && peer.principal.mayAttach && !peer.principal.mayAttach('send', routerAddress(fixed))) {
      return this.refuse(
        receiver,
        'amqp:unauthorized-access',
        `${peer.principal.name} may not send to ${fixed}`,
      );
    }
    receiver.set_target((fixed ? { address: fixed } : {}) as TerminusOptions);
    receiver.set_source(remoteAttach(receiver).source ?? ({} as TerminusOptions));
    receiver.add_credit(this.linkCredit);
    receiver.on('message', (ctx: EventContext) =>
      this.guard(() => {
        const delivery = ctx.delivery!;
        const m = ctx.message!;
        // Anonymous relay: without a link address each message names its own with `to`.
        const address = fixed ?? (typeof m.to === 'string' ? m.to : '');
        const key = routerAddress(address);
        let result;
        if (!fixed && peer.principal.mayAttach && !peer.principal.mayAttach('send', key)) {
          result = {
            ok: false as const,
            condition: 'amqp:unauthorized-access',
            description: `may not send to ${key}`,
          };
        } else {
          m.message_annotations = {
            ...((m.message_annotations as Record<string, unknown>) ?? {}),
            [PRINCIPAL_ANNOTATION]: peer.principal.name,
          };
          result = this.router.publish(key, m, (outcome, reason) =>
            this.guard(() => {
              if (delivery.remote_settled || !receiver.is_open()) return;
              if (outcome === 'accepted') delivery.accept();
              else
                delivery.reject({
                  condition: 'amqp:precondition-failed',
                  description: (reason ?? 'rejected').slice(0, 1000),
                });
            }),
          );
        }
        if (!result.ok && !delivery.remote_settled) {
          delivery.reject({ condition: result.condition, description: result.description });
        }
        receiver.add_credit(1);
      }),
    );
  }
}

/** An in-process EdgeConnection on a listener's router. */
class LocalEdgeConnection extends EdgeConnectionBase {
  readonly mode = 'listen' as const;
  private closed = false;
  private readonly subs = new Set<() => void>();

  constructor(
    private readonly listener: EdgeListener,
    readonly id: string,
    logger: LoggerLike,
    /** Started and closed with this connection (what `createEdgeConnection` makes). */
    private readonly ownsListener: boolean,
  ) {
    super(logger);
  }

  async start(): Promise<void> {
    if (this.closed) throw new EdgeError('edge connection closed');
    if (this.ownsListener) await this.listener.start();
    this.emitConnected();
  }

  isConnected(): boolean {
    return !this.closed;
  }

  async send(address: string, body: unknown, opts: EdgeSendOptions = {}): Promise<void> {
    if (this.closed) throw new EdgeError('edge connection closed');
    const msg = encodeMessage(body, opts);
    let wire: Message;
    try {
      // Through the codec and back, so local peers see exactly what remote ones would.
      wire = amqpMessage.decode(amqpMessage.encode(msg)) as unknown as Message;
    } catch (e) {
      throw new EdgeError(`cannot encode message: ${(e as Error).message}`);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new EdgeError(`send to ${address} not settled within ${SEND_TIMEOUT_MS} ms`, 'nephele:timeout'),
          ),
        SEND_TIMEOUT_MS,
      );
      const r = this.listener.router.publish(routerAddress(address), wire, (outcome, reason) => {
        clearTimeout(timer);
        if (outcome === 'accepted') resolve();
        else
          reject(
            new EdgeError(
              `${address} rejected the message: ${reason ?? 'rejected'}`,
              'amqp:precondition-failed',
            ),
          );
      });
      if (!r.ok) {
        clearTimeout(timer);
        reject(new EdgeError(`${address} rejected the message: ${r.description}`, r.condition));
      }
    });
  }

  async receive(
    address: string,
    handler: EdgeHandler,
    opts: EdgeReceiveOptions = {},
  ): Promise<EdgeSubscription> {
    if (this.closed) throw new EdgeError('edge connection closed');
    const router = this.listener.router;
    const prefetch = Math.max(1, opts.prefetch ?? DEFAULT_PREFETCH);
    let inflight = 0;
    let open = true;
    const consumer: RouterConsumer = {
      label: `${this.id}:${address}`,
      capacity: () => (open ? prefetch - inflight : 0),
      deliver: (q: RouterQueue, m: RoutedMessage) => {
        inflight++;
        const decoded = decodeMessage(address, m.msg, principalOf(m.msg));
        const finish = (o: EdgeOutcome) => {
          inflight--;
          if (!open) return; // already given back by unsubscribe
          if (o.kind === 'reject') router.settle(q, m.seq, 'rejected', o.reason);
          // A handler's release counts as a failed delivery (delivery-count + 1), to spot poison messages.
          else router.settle(q, m.seq, o.kind === 'accept' ? 'accepted' : 'modified');
        };
        if (!decoded.ok) {
          queueMicrotask(() => finish({ kind: 'reject', reason: decoded.reason }));
          return;
        }
        const dm = { ...decoded.message, deliveryCount: m.deliveryCount };
        rawMessages.set(dm, m.msg);
        void Promise.resolve()
          .then(() => runHandler(handler, dm, this.log, () => open && !this.closed))
          .then(finish);
      },
    };
    const q = router.subscribe(routerAddress(address), consumer);
    const unsubscribe = () => {
      if (!open) return;
      open = false;
      this.subs.delete(unsubscribe);
      router.unsubscribe(q, consumer);
    };
    this.subs.add(unsubscribe);
    return { close: async () => unsubscribe() };
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    await super.close();
    this.closed = true;
    for (const u of [...this.subs]) u();
    this.listener.forget(this);
    if (this.ownsListener) await this.listener.close();
  }
}
