import { randomUUID } from 'node:crypto';
import { AddressInfo, Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Connection, Container, create_container, EventContext, Message, message as amqpMessage } from 'rhea';
import { LoggerLike, silentLogger } from '../logger.types';
import { DEFAULT_PREFETCH, EdgeConnectionBase, rawMessages, runHandler } from './edge-connection.base';
import { decodeMessage, encodeMessage, routerAddress } from './edge-message.util';
import { EdgeAuthRegistry, EdgeClaims, EdgePrincipal, EdgeVerifier } from './edge-auth';
import { EdgeRouter, RoutedMessage, RouterConsumer, RouterQueue } from './edge-router';
import { boundFrames, boundMessages } from './edge-bounds';
import { CLAIMS_ANNOTATION, EdgePeerLinks, PeerState, PRINCIPAL_ANNOTATION } from './edge-peer-links';
import {
  EdgeError,
  EdgeHandler,
  EdgeOutcome,
  EdgeReceiveOptions,
  EdgeSendOptions,
  EdgeSubscription,
} from './edge.types';

export * from './edge-auth';

export interface EdgeListenerOptions {
  /** TCP port (default 5673; 0 = any free port, see `port` after `start`). */
  port?: number;
  /** Interface to bind (default 0.0.0.0). */
  host?: string;
  /** A SASL PLAIN verifier, asked first (more go in `listener.auth`). */
  verify?: EdgeVerifier;
  /** The verifiers to use (default: a new registry, see `listener.auth`). */
  auth?: EdgeAuthRegistry;
  /**
   * Accept SASL ANONYMOUS logins no verifier claims, from loopback addresses only, as
   * `anonymousPrincipal`. Off by default (a loopback demo).
   */
  allowAnonymous?: boolean;
  /** Who an anonymous peer is (default: `anonymous`, allowed everything, no claims). */
  anonymousPrincipal?: EdgePrincipal;
  /** Serve TLS (PEM certificate chain and key) instead of plain TCP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Messages a queue may hold before it refuses more (default 10,000). */
  maxQueueLength?: number;
  /** Bytes a queue may hold before it refuses more (default 64 MiB). */
  maxQueueBytes?: number;
  /** The longest a message waits in a queue, whatever its ttl (default 1 h). */
  maxHoldMs?: number;
  /**
   * Largest message a peer may send (default 1 MiB): a bigger one closes its connection with
   * amqp:link:message-size-exceeded before it is buffered; frames are bounded the same way.
   */
  maxMessageBytes?: number;
  /** Open connections one principal may have at once (default 64). */
  maxConnectionsPerPrincipal?: number;
  /** Links one connection may have at once (default 64). */
  maxLinksPerConnection?: number;
  /** How often the credentials of open connections are re-checked (default 500 ms). */
  revalidateIntervalMs?: number;
  /** Credit granted to each sending peer link (default 256). */
  linkCredit?: number;
  /** A peer must open its AMQP connection (SASL done) within this time (default 10 s). */
  openTimeoutMs?: number;
  /** AMQP container id of the listener (default `nephele`). */
  id?: string;
  logger?: LoggerLike;
}

export { CLAIMS_ANNOTATION, PRINCIPAL_ANNOTATION } from './edge-peer-links';

/** Like the client's: a local send waits this long for a receiver's outcome. */
const SEND_TIMEOUT_MS = 30_000;

const ANONYMOUS: EdgePrincipal = { name: 'anonymous' };

function principalOf(m: Message): string | undefined {
  const v = (m.message_annotations as Record<string, unknown> | undefined)?.[PRINCIPAL_ANNOTATION];
  return typeof v === 'string' ? v : undefined;
}

function claimsOf(m: Message): EdgeClaims | undefined {
  const v = (m.message_annotations as Record<string, unknown> | undefined)?.[CLAIMS_ANNOTATION];
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const claims: EdgeClaims = {};
  if (typeof o.tokenId === 'string') claims.tokenId = o.tokenId;
  if (o.role === 'admin' || o.role === 'member' || o.role === 'viewer') claims.role = o.role;
  if (typeof o.project === 'string') claims.project = o.project;
  return claims;
}

/**
 * SASL PLAIN, server side, as rhea runs a mechanism (start → outcome), keeping the principal the
 * verifier answered on the mechanism object — which rhea keeps per connection, so two peers with
 * the same username never share a login.
 */
class PlainMechanism {
  outcome?: boolean;
  username?: string;
  principal?: EdgePrincipal;
  constructor(private readonly check: (u: string, p: string) => Promise<EdgePrincipal | null>) {}

  async start(response: Buffer | undefined): Promise<void> {
    const fields = (response ?? Buffer.alloc(0)).toString('utf8').split('\u0000');
    if (fields.length !== 3) {
      this.outcome = false;
      return;
    }
    const p = await this.check(fields[1]!, fields[2]!);
    this.outcome = !!p;
    if (p) {
      this.username = fields[1];
      this.principal = p;
    }
  }

  step(): Promise<void> {
    this.outcome = false;
    return Promise.resolve();
  }
}

/**
 * SASL ANONYMOUS, server side. rhea clients log in this way when given a username without a
 * password (the agent of an assembly without a secret): the verifiers are asked with
 * (trace name, empty password); when none answers, the login stands only if anonymous peers are
 * allowed (the principal is decided at open, from loopback only).
 */
class AnonymousMechanism {
  outcome?: boolean;
  username?: string;
  principal?: EdgePrincipal;
  constructor(
    private readonly check: (u: string, p: string) => Promise<EdgePrincipal | null>,
    private readonly allowAnonymous: boolean,
  ) {}

  async start(response: Buffer | undefined): Promise<void> {
    // rhea's client sends NUL + its name as the trace information.
    const text = response ? response.toString('utf8') : '';
    const trace = (text.startsWith('\u0000') ? text.slice(1) : text).slice(0, 1000);
    this.username = trace || 'anonymous';
    const p = await this.check(this.username, '');
    this.principal = p ?? undefined;
    this.outcome = !!p || this.allowAnonymous;
  }

  step(): Promise<void> {
    this.outcome = false;
    return Promise.resolve();
  }
}

/** The SASL mechanism a peer completed (rhea keeps it on the connection's transport). */
function saslMechanism(conn: Connection): {
  principal?: EdgePrincipal;
  username?: string;
  anonymous: boolean;
} {
  type Sasl = { mechanism?: object; transports?: Record<number, Sasl> };
  const t = (conn as unknown as { sasl_transport?: Sasl }).sasl_transport;
  const server = t?.transports ? t.transports[3] : t;
  const mech = server?.mechanism;
  if (mech instanceof PlainMechanism || mech instanceof AnonymousMechanism)
    return {
      principal: mech.principal,
      username: mech.username,
      anonymous: mech instanceof AnonymousMechanism,
    };
  // No SASL at all (rhea lets such peers in while ANONYMOUS is offered): anonymous.
  return { anonymous: true };
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

// Note [Edge listener]
// Listen mode (ARCHITECTURE §1, the all-in-one): Nephele accepts AMQP 1.0 peers on port 5673 and
// routes between their links with EdgeRouter (see Note [Edge router]); in-process code gets an
// EdgeConnection on the same router with `connect(id)`, so the CPE answers a Python client and an
// agent the same way whether they came through RabbitMQ or straight here. Peers authenticate with
// SASL PLAIN against the verifiers in `auth` (see Note [Edge authentication]); ANONYMOUS (and
// no-SASL) only when explicitly allowed, and only from loopback. The principal decides which
// addresses a peer may attach to; its name and claims are stamped on every message the peer
// sends (annotations x-nephele-principal, x-nephele-claims, overwriting the peer's), so a receiver
// knows who really sent it. Its credential is re-checked before each message it sends and every
// `revalidateIntervalMs` while it is connected: a revoked one closes the connection.
// Reply addresses: a remote peer may receive from one nobody else holds (not an in-process
// connection's), and may send only to one whose receivers are all in-process (an agent answering
// the DPE) — so no peer reads or forges another's replies.
// Bounds: frames and messages above `maxMessageBytes` close the connection before they are
// buffered (amqp:link:message-size-exceeded); connections per principal, links per connection,
// queue length and bytes, and how long a message is held are capped.
export class EdgeListener {
  readonly router: EdgeRouter;
  /** The SASL PLAIN verifiers, asked in order (see Note [Edge authentication]). */
  readonly auth: EdgeAuthRegistry;
  private readonly container: Container;
  private readonly log: LoggerLike;
  private readonly peers = new Map<Connection, PeerState>();
  private readonly locals = new Set<LocalEdgeConnection>();
  /** Reply addresses of in-process connections: never a remote peer's. */
  private readonly reserved = new Set<string>();
  private server?: Server;
  private sweeper?: NodeJS.Timeout;
  private revalidator?: NodeJS.Timeout;
  private readonly linkCredit: number;
  private readonly maxMessageBytes: number;
  private closing?: Promise<void>;
  private readonly openedSockets = new WeakSet<object>();
  private readonly links: EdgePeerLinks;

  constructor(private readonly opts: EdgeListenerOptions = {}) {
    this.log = opts.logger ?? silentLogger;
    this.auth = opts.auth ?? new EdgeAuthRegistry();
    if (opts.verify) this.auth.add('options', opts.verify, { first: true });
    this.linkCredit = opts.linkCredit ?? 256;
    this.maxMessageBytes = opts.maxMessageBytes ?? 1024 * 1024;
    this.router = new EdgeRouter(
      {
        maxQueueLength: opts.maxQueueLength ?? 10_000,
        maxQueueBytes: opts.maxQueueBytes ?? 64 * 1024 * 1024,
        maxHoldMs: opts.maxHoldMs ?? 3_600_000,
      },
      this.log,
    );
    this.links = new EdgePeerLinks(
      {
        router: this.router,
        log: this.log,
        peer: (conn) => this.peers.get(conn),
        isReserved: (key) => this.reserved.has(key),
        guard: (fn) => this.guard(fn),
        stillValid: (peer) => this.stillValid(peer),
        closePeer: (conn, condition, description) => this.closePeer(conn, condition, description),
      },
      {
        maxLinksPerConnection: opts.maxLinksPerConnection ?? 64,
        linkCredit: this.linkCredit,
        maxMessageBytes: this.maxMessageBytes,
      },
    );
    this.container = create_container({ id: opts.id ?? 'nephele', autoaccept: false, credit_window: 0 });
    const mechs = this.container.sasl_server_mechanisms as unknown as Record<string, () => object>;
    mechs.PLAIN = () => new PlainMechanism((u, p) => this.checkPlain(u, p));
    mechs.ANONYMOUS = () => new AnonymousMechanism((u, p) => this.auth.verify(u, p), !!opts.allowAnonymous);
    const c = this.container;
    c.on('connection_open', (ctx: EventContext) => this.guard(() => this.peerOpened(ctx.connection)));
    c.on('disconnected', (ctx: EventContext) => this.guard(() => this.peerGone(ctx.connection)));
    c.on('connection_close', (ctx: EventContext) => this.guard(() => this.peerGone(ctx.connection)));
    c.on('session_open', (ctx: EventContext) =>
      this.guard(() =>
        boundMessages(ctx.session, this.maxMessageBytes, this.log, (conn) => {
          this.guard(() =>
            conn.close({
              condition: 'amqp:link:message-size-exceeded',
              description: `a message may be at most ${this.maxMessageBytes} bytes`,
            }),
          );
          this.dropLater(conn);
        }),
      ),
    );
    c.on('sender_open', (ctx: EventContext) =>
      this.guard(() => this.links.peerReceives(ctx.connection, ctx.sender!)),
    );
    c.on('receiver_open', (ctx: EventContext) =>
      this.guard(() => this.links.peerSends(ctx.connection, ctx.receiver!)),
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

  private async checkPlain(username: string, password: string): Promise<EdgePrincipal | null> {
    const p = await this.auth.verify(username, password);
    if (!p) this.log.warn({ username: username.slice(0, 200) }, 'edge: SASL PLAIN refused');
    return p;
  }

  /** Starts accepting peers. Resolves when the port is bound. */
  async start(): Promise<void> {
    if (this.server) return;
    const tls = this.opts.tls;
    const server = this.container.listen({
      port: this.opts.port ?? 5673,
      host: this.opts.host ?? '0.0.0.0',
      // Advertised in our open frame: a peer must not send bigger frames (enforced below).
      max_frame_size: Math.min(this.maxMessageBytes + 1024, 65_536),
      ...(tls ? { transport: 'tls' as const, cert: tls.cert, key: tls.key } : {}),
    } as Parameters<Container['listen']>[0]);
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
        if (!this.openedSockets.has(socket) && !this.openedSockets.has(tlsOf.get(socket) ?? {}))
          socket.destroy();
      }, this.opts.openTimeoutMs ?? 10_000);
      t.unref();
      socket.once('close', () => clearTimeout(t));
      if (!tls) boundFrames(socket, this.maxMessageBytes, this.log);
    });
    const tlsOf = new WeakMap<Socket, TLSSocket>();
    if (tls) {
      server.on('secureConnection', (socket: TLSSocket) => {
        tlsOf.set(socket as unknown as Socket, socket);
        boundFrames(socket, this.maxMessageBytes, this.log);
      });
    }
    this.sweeper = setInterval(() => this.router.sweep(), 5000);
    this.sweeper.unref();
    this.revalidator = setInterval(() => this.revalidateAll(), this.opts.revalidateIntervalMs ?? 500);
    this.revalidator.unref();
    this.log.info({ port: this.port, tls: !!tls }, 'edge listening for AMQP 1.0 peers');
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
    this.reserved.add(`reply.${id}`);
    return c;
  }

  /** @internal */
  forget(c: LocalEdgeConnection): void {
    this.locals.delete(c);
    this.reserved.delete(`reply.${c.id}`);
  }

  /** Closes (amqp:unauthorized-access) every peer connection whose principal matches. */
  closeWhere(match: (p: EdgePrincipal) => boolean, reason: string): number {
    let n = 0;
    for (const [conn, peer] of [...this.peers]) {
      if (peer.closed || !match(peer.principal)) continue;
      this.log.warn({ principal: peer.principal.name, reason }, 'edge: connection closed');
      this.closePeer(conn, 'amqp:unauthorized-access', reason);
      n++;
    }
    return n;
  }

  /** Open peer connections per principal name (for tests and health pages). */
  connections(): Map<string, number> {
    const n = new Map<string, number>();
    for (const p of this.peers.values()) n.set(p.principal.name, (n.get(p.principal.name) ?? 0) + 1);
    return n;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.revalidator);
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

  /** A peer told to go that keeps its socket open loses it after a second. */
  private dropLater(conn: Connection): void {
    const socket = (conn as unknown as { socket?: Socket }).socket;
    const t = setTimeout(() => socket?.destroy(), 1000);
    t.unref();
  }

  private closePeer(conn: Connection, condition: string, description: string): void {
    const peer = this.peers.get(conn);
    if (peer) peer.closed = true;
    this.guard(() => conn.close({ condition, description }));
    this.dropLater(conn);
    this.peerGone(conn);
  }

  /** Re-checks the credential of every open connection; a revoked one is closed. */
  private revalidateAll(): void {
    for (const [conn, peer] of this.peers) {
      if (!peer.principal.revalidate || peer.checking || peer.closed) continue;
      peer.checking = this.stillValid(peer)
        .then((ok) => {
          if (!ok && !peer.closed) {
            this.log.warn({ principal: peer.principal.name }, 'edge: credential revoked; connection closed');
            this.closePeer(conn, 'amqp:unauthorized-access', 'credential revoked');
          }
        })
        .finally(() => {
          peer.checking = undefined;
        });
    }
  }

  private async stillValid(peer: PeerState): Promise<boolean> {
    if (peer.closed) return false;
    if (!peer.principal.revalidate) return true;
    try {
      return await peer.principal.revalidate();
    } catch (e) {
      // Cannot tell (the token service is away): keep the connection; the next check decides.
      this.log.warn({ err: (e as Error).message }, 'edge: cannot re-check a credential');
      return true;
    }
  }

  // ---- peers ---------------------------------------------------------------------------------

  private peerOpened(conn: Connection): void {
    const socket = (conn as unknown as { socket?: Socket }).socket;
    if (socket) this.openedSockets.add(socket);
    const mech = saslMechanism(conn);
    let principal: EdgePrincipal | undefined = mech.principal;
    if (!principal && mech.anonymous && this.opts.allowAnonymous) {
      if (isLoopback(socket?.remoteAddress)) principal = this.opts.anonymousPrincipal ?? ANONYMOUS;
      else this.log.warn({ peer: socket?.remoteAddress }, 'edge: anonymous peers only from loopback');
    }
    if (!principal) {
      this.log.warn({ username: mech.username }, 'edge: peer without an identity; closing');
      conn.close({ condition: 'amqp:unauthorized-access', description: 'authentication required' });
      this.dropLater(conn);
      return;
    }
    const max = this.opts.maxConnectionsPerPrincipal ?? 64;
    const open = [...this.peers.values()].filter((p) => p.principal.name === principal!.name).length;
    if (open >= max) {
      this.log.warn({ principal: principal.name, max }, 'edge: too many connections; closing');
      conn.close({
        condition: 'amqp:resource-limit-exceeded',
        description: `at most ${max} connections per credential`,
      });
      this.dropLater(conn);
      return;
    }
    this.peers.set(conn, { principal, cleanups: new Set(), links: 0, closed: false });
    this.log.info({ principal: principal.name, container: conn.container_id }, 'edge peer connected');
  }

  private peerGone(conn: Connection): void {
    const peer = this.peers.get(conn);
    if (!peer) return;
    peer.closed = true;
    this.peers.delete(conn);
    for (const c of peer.cleanups) c();
    peer.cleanups.clear();
    this.log.info({ principal: peer.principal.name }, 'edge peer disconnected');
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
    let size: number;
    try {
      // Through the codec and back, so local peers see exactly what remote ones would.
      const encoded = amqpMessage.encode(msg);
      size = encoded.length;
      wire = amqpMessage.decode(encoded) as unknown as Message;
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
      const r = this.listener.router.publish(
        routerAddress(address),
        wire,
        (outcome, reason) => {
          clearTimeout(timer);
          if (outcome === 'accepted') resolve();
          else
            reject(
              new EdgeError(
                `${address} rejected the message: ${reason ?? 'rejected'}`,
                'amqp:precondition-failed',
              ),
            );
        },
        size,
      );
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
      local: true,
      capacity: () => (open ? prefetch - inflight : 0),
      deliver: (q: RouterQueue, m: RoutedMessage) => {
        inflight++;
        const decoded = decodeMessage(address, m.msg, principalOf(m.msg), claimsOf(m.msg));
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
