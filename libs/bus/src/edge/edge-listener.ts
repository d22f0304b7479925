import { randomUUID } from 'node:crypto';
import { AddressInfo, Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
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
import { EdgeAuthRegistry, EdgeClaims, EdgePrincipal, EdgeVerifier } from './edge-auth';
import { EdgeRouter, isTemporaryAddress, RoutedMessage, RouterConsumer, RouterQueue } from './edge-router';
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

/** Message annotation where the router records who sent a message (overwriting any peer value). */
export const PRINCIPAL_ANNOTATION = 'x-nephele-principal';
/** Message annotation with the sender's claims (EdgeClaims as a map; removed when it has none). */
export const CLAIMS_ANNOTATION = 'x-nephele-claims';

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

type AttachFrame = { source?: TerminusOptions; target?: TerminusOptions; snd_settle_mode?: number };
/** rhea keeps the peer's attach frame and the link's counters on fields its typings omit. */
function remoteAttach(link: Sender | Receiver): AttachFrame {
  return (link as unknown as { remote: { attach?: AttachFrame } }).remote.attach ?? {};
}
function counters(link: Sender): { credit: number; delivery_count: number } {
  return link as unknown as { credit: number; delivery_count: number };
}

type PeerState = {
  principal: EdgePrincipal;
  cleanups: Set<() => void>;
  links: number;
  /** A re-check of the credential in flight (the periodic one). */
  checking?: Promise<void>;
  closed: boolean;
};

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
    this.container = create_container({ id: opts.id ?? 'nephele', autoaccept: false, credit_window: 0 });
    const mechs = this.container.sasl_server_mechanisms as unknown as Record<string, () => object>;
    mechs.PLAIN = () => new PlainMechanism((u, p) => this.checkPlain(u, p));
    mechs.ANONYMOUS = () => new AnonymousMechanism((u, p) => this.auth.verify(u, p), !!opts.allowAnonymous);
    const c = this.container;
    c.on('connection_open', (ctx: EventContext) => this.guard(() => this.peerOpened(ctx.connection)));
    c.on('disconnected', (ctx: EventContext) => this.guard(() => this.peerGone(ctx.connection)));
    c.on('connection_close', (ctx: EventContext) => this.guard(() => this.peerGone(ctx.connection)));
    c.on('session_open', (ctx: EventContext) => this.guard(() => this.boundMessages(ctx.session)));
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
      if (!tls) this.boundFrames(socket);
    });
    const tlsOf = new WeakMap<Socket, TLSSocket>();
    if (tls) {
      server.on('secureConnection', (socket: TLSSocket) => {
        tlsOf.set(socket as unknown as Socket, socket);
        this.boundFrames(socket);
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

  // ---- bounds --------------------------------------------------------------------------------

  /**
   * Reads frame headers as bytes arrive, before rhea buffers them: a frame bigger than allowed
   * (our max-frame-size is advertised in the open frame) destroys the socket at once.
   */
  private boundFrames(socket: Socket | TLSSocket): void {
    const limit = Math.max(this.maxMessageBytes, 65_536) + 1024;
    let header = Buffer.alloc(0);
    let skip = 0;
    // Protocol headers: one at the start; a second (AMQP, id 0) only after a SASL one (id 3).
    let headers = 0;
    let sasl = false;
    const drop = (why: string, size?: number) => {
      this.log.warn({ size, limit, why }, 'edge: bad framing; connection dropped');
      socket.off('data', onData);
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      let i = 0;
      while (i < chunk.length) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - i);
          skip -= n;
          i += n;
          continue;
        }
        const need = 8 - header.length;
        const take = chunk.subarray(i, i + need);
        header = Buffer.concat([header, take]);
        i += take.length;
        if (header.length < 8) return;
        if (header.subarray(0, 4).toString('latin1') === 'AMQP') {
          if (headers === 0 || (headers === 1 && sasl && header[4] === 0)) {
            sasl = headers === 0 && header[4] === 3;
            headers++;
            header = Buffer.alloc(0);
            continue;
          }
          return drop('unexpected protocol header');
        }
        const size = header.readUInt32BE(0);
        if (size < 8 || size > limit) return drop('frame too large', size);
        skip = size - 8;
        header = Buffer.alloc(0);
      }
    };
    socket.prependListener('data', onData);
  }

  /**
   * Counts the bytes of each delivery a peer is sending on this session as its transfer frames
   * arrive (rhea would join them all first): beyond `maxMessageBytes` the connection is closed
   * with amqp:link:message-size-exceeded and the rest is dropped, not buffered.
   */
  private boundMessages(session: unknown): void {
    type Frame = { performative: { more?: boolean; handle?: number }; payload?: Buffer };
    type Sess = {
      on_transfer(frame: Frame): void;
      _get_link(frame: Frame): { connection: Connection } | undefined;
      incoming: { next_transfer_id: number };
      connection: Connection;
      nepheleBounded?: boolean;
    };
    const s = session as Sess;
    if (s.nepheleBounded) return;
    s.nepheleBounded = true;
    const original = s.on_transfer.bind(s);
    const max = this.maxMessageBytes;
    const pending = new WeakMap<object, number>();
    let dropping = false;
    s.on_transfer = (frame: Frame) => {
      if (dropping) {
        s.incoming.next_transfer_id++;
        return;
      }
      const link = s._get_link(frame);
      if (link) {
        const size = (pending.get(link) ?? 0) + (frame.payload?.length ?? 0);
        if (size > max) {
          dropping = true;
          s.incoming.next_transfer_id++;
          const conn = s.connection;
          this.log.warn({ max }, 'edge: message too large; connection closed');
          this.guard(() =>
            conn.close({
              condition: 'amqp:link:message-size-exceeded',
              description: `a message may be at most ${max} bytes`,
            }),
          );
          this.dropLater(conn);
          return;
        }
        if (frame.performative.more) pending.set(link, size);
        else pending.delete(link);
      }
      original(frame);
    };
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

  private refuse(link: Sender | Receiver, condition: string, description: string): void {
    this.log.warn({ description }, 'edge: link refused');
    link.close({ condition, description });
  }

  /** Counts a link against the connection's bound; false (and the link refused) when over it. */
  private admitLink(peer: PeerState, link: Sender | Receiver): boolean {
    const max = this.opts.maxLinksPerConnection ?? 64;
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
    if (
      isTemporaryAddress(key) &&
      (this.reserved.has(key) || (this.router.find(key)?.consumers.length ?? 0) > 0)
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

  /** Why a peer may not send to an address, or undefined when it may. */
  private sendRefusal(peer: PeerState, key: string): string | undefined {
    if (peer.principal.mayAttach && !peer.principal.mayAttach('send', key))
      return `${peer.principal.name} may not send to ${key}`;
    if (isTemporaryAddress(key)) {
      const q = this.router.find(key);
      if (q && q.consumers.some((c) => !c.local)) return `${key} is another peer's reply address`;
    }
    return undefined;
  }

  /** The peer attached a sending link: what it sends goes into router queues. */
  private peerSends(conn: Connection, receiver: Receiver): void {
    const peer = this.peers.get(conn);
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
    ).local.attach.max_message_size = this.maxMessageBytes;
    receiver.add_credit(this.linkCredit);
    // Messages of one link are routed in order, each after its sender's credential is re-checked.
    let chain = Promise.resolve();
    receiver.on('message', (ctx: EventContext) => {
      const delivery = ctx.delivery!;
      const m = ctx.message!;
      chain = chain.then(async () => {
        const ok = await this.stillValid(peer);
        this.guard(() => {
          if (!ok) {
            if (!delivery.remote_settled)
              delivery.reject({ condition: 'amqp:unauthorized-access', description: 'credential revoked' });
            if (!peer.closed) this.closePeer(conn, 'amqp:unauthorized-access', 'credential revoked');
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
      result = this.router.publish(
        key,
        m,
        (outcome, reason) =>
          this.guard(() => {
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
