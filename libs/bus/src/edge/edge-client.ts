import { randomUUID } from 'node:crypto';
import {
  Connection,
  ConnectionOptions,
  Container,
  create_container,
  Delivery,
  EventContext,
  Message,
  Receiver,
  Sender,
  Session,
} from 'rhea';
import { backoffDelay } from '@nephele/util';
import { LoggerLike } from '../logger.types';
import { DEFAULT_PREFETCH, EdgeConnectionBase, rawMessages, runHandler } from './edge-connection.base';
import { brokerAddress, decodeMessage, encodeMessage } from './edge-message.util';
import {
  EdgeError,
  EdgeHandler,
  EdgeOutcome,
  EdgeReceiveOptions,
  EdgeSendOptions,
  EdgeSubscription,
} from './edge.types';

export interface EdgeClientOptions {
  /**
   * `amqp[s]://user:password@host:port[/vhost]`: RabbitMQ's AMQP 1.0 plugin (5672), or a Nephele
   * listener (5673). A path selects the RabbitMQ vhost (sent as open hostname `vhost:<name>`).
   */
  url: string;
  /** Container id and reply-queue suffix (default `nephele-<random>`); keep it stable per client. */
  id?: string;
  /** SASL PLAIN credentials; override the URL's. Without any, SASL ANONYMOUS is offered. */
  username?: string;
  password?: string;
  logger?: LoggerLike;
  /** How long `send` waits for a connection, a link, credit and the peer's outcome (default 30 s). */
  sendTimeoutMs?: number;
  /** Reconnect backoff (full jitter): first delay and cap (defaults 200 ms, 10 s). */
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  /** Give up on a connection attempt whose open does not arrive in time (default 10 s). */
  connectTimeoutMs?: number;
  /** AMQP idle-time-out asked of the peer (default 30 s): a dead peer is noticed within it. */
  idleTimeoutMs?: number;
}

type PendingSend = {
  msg: Message;
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
};

type SenderEntry = {
  address: string;
  link?: Sender;
  session?: Session;
  opening?: Promise<Sender>;
  queue: PendingSend[];
  unsettled: Map<Delivery, PendingSend>;
  lastUsed: number;
};

type ReceiverEntry = {
  address: string;
  brokerAddress: string;
  handler: EdgeHandler;
  prefetch: number;
  durable: boolean;
  link?: Receiver;
  session?: Session;
  closed: boolean;
  attempt: number;
  retry?: NodeJS.Timeout;
};

const SENDER_IDLE_MS = 60_000;

/** The peer's source/target of an attached link; undefined when the peer refused the link. */
function remoteTerminus(link: Sender | Receiver, which: 'source' | 'target'): unknown {
  const t = (link as unknown as { remote: { attach?: Record<string, unknown> } }).remote.attach?.[which];
  // rhea hands a refused (null) terminus over as a typed null: { type, value: null }.
  if (t === null || t === undefined) return undefined;
  if (typeof t === 'object' && 'value' in t && (t as { value: unknown }).value == null && 'type' in t)
    return undefined;
  return t;
}

/**
 * Ends a link's session after the link's own detach has gone out: rhea answers a detach on the
 * next tick, and an `end` written before it would leave the peer a detach on a dead channel.
 */
function endSessionLater(session: Session | undefined): void {
  if (!session) return;
  setImmediate(() => {
    try {
      session.close();
    } catch {
      /* already gone */
    }
  });
}

function errorText(e: unknown): string {
  if (!e) return 'unknown error';
  if (typeof e === 'string') return e;
  const o = e as { description?: string; message?: string; condition?: string };
  return o.description ?? o.message ?? o.condition ?? JSON.stringify(e);
}

// Note [Edge client]
// One AMQP connection; ONE SESSION PER LINK. RabbitMQ 3.x answers a refused attach (a durability
// mismatch, a missing exchange) by ending the whole session, which would take every other link
// of that session with it. Links are attached only after their session's begin is answered (an
// end racing a begin confuses rhea). rhea's own reconnect is off: on a lost connection every link
// is forgotten, sends in flight are rejected (callers decide whether to send again), and after a
// backoff the connection is opened again and every live receiver re-attached. Receivers grant
// credit by hand, one per settled message, so `prefetch` really bounds the unsettled messages.
// Every rhea callback is guarded: rhea runs them inside its socket reader, and an exception
// there would end the connection.
export class EdgeClient extends EdgeConnectionBase {
  readonly mode = 'broker' as const;
  readonly id: string;
  private readonly container: Container;
  private readonly opts: Required<
    Pick<
      EdgeClientOptions,
      'sendTimeoutMs' | 'reconnectBaseMs' | 'reconnectCapMs' | 'connectTimeoutMs' | 'idleTimeoutMs'
    >
  >;
  private readonly connOptions: ConnectionOptions;
  private readonly where: { host: string; port: number };
  private conn?: Connection;
  private connected = false;
  private started = false;
  private closing = false;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private connectTimer?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private waiters: { resolve(): void; reject(e: Error): void }[] = [];
  private readonly receivers = new Set<ReceiverEntry>();
  private readonly senders = new Map<string, SenderEntry>();

  constructor(options: EdgeClientOptions) {
    super(options.logger);
    this.id = options.id ?? `nephele-${randomUUID().slice(0, 8)}`;
    this.opts = {
      sendTimeoutMs: options.sendTimeoutMs ?? 30_000,
      reconnectBaseMs: options.reconnectBaseMs ?? 200,
      reconnectCapMs: options.reconnectCapMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    };
    let u: URL;
    try {
      u = new URL(options.url);
    } catch {
      throw new EdgeError(`invalid edge URL ${JSON.stringify(options.url)}`);
    }
    if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') {
      throw new EdgeError(`edge URL must be amqp:// or amqps:// (got ${u.protocol})`);
    }
    const tls = u.protocol === 'amqps:';
    const vhost = decodeURIComponent(u.pathname.replace(/^\//, ''));
    const username = options.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const password = options.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    this.where = { host: u.hostname, port: Number(u.port || (tls ? 5671 : 5672)) };
    this.connOptions = {
      ...this.where,
      ...(tls ? { transport: 'tls' as const } : {}),
      ...(username ? { username, password: password ?? '' } : {}),
      ...(vhost ? { hostname: `vhost:${vhost}` } : {}),
      container_id: this.id,
      reconnect: false,
      idle_time_out: this.opts.idleTimeoutMs,
    } as ConnectionOptions;
    this.container = create_container({ id: this.id });
    // Safety net: rhea emits 'error' on the container when nothing else handled it.
    this.container.on('error', (e: Error) =>
      this.log.warn({ err: errorText(e) }, 'edge: unhandled AMQP error'),
    );
  }

  /** Through RabbitMQ the reply queue must be named with the plugin's `/queue/` syntax. */
  override get replyAddress(): string {
    return `/queue/reply.${this.id}`;
  }

  isConnected(): boolean {
    return this.connected && !this.closing;
  }

  start(): Promise<void> {
    if (this.closing) return Promise.reject(new EdgeError('edge connection closed'));
    if (this.connected) return Promise.resolve();
    const p = this.waitConnected(Number.POSITIVE_INFINITY);
    if (!this.started) {
      this.started = true;
      this.sweeper = setInterval(() => this.sweepSenders(), SENDER_IDLE_MS / 2);
      this.sweeper.unref();
      this.connect();
    }
    return p;
  }

  private waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.closing) return Promise.reject(new EdgeError('edge connection closed'));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const w = {
        resolve: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      };
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new EdgeError(`edge not connected within ${timeoutMs} ms`, 'nephele:timeout'));
        }, timeoutMs);
      }
      this.waiters.push(w);
    });
  }

  private connect(): void {
    if (this.closing) return;
    let conn: Connection;
    try {
      conn = this.container.connect(this.connOptions);
    } catch (e) {
      this.log.warn({ err: errorText(e) }, 'edge connect failed');
      this.scheduleReconnect();
      return;
    }
    this.conn = conn;
    this.connectTimer = setTimeout(() => {
      if (this.conn === conn && !this.connected) {
        this.log.warn({ host: this.where.host }, 'edge: no AMQP open in time; retrying');
        this.lost(conn, 'open timed out');
        this.destroy(conn);
      }
    }, this.opts.connectTimeoutMs);
    conn.on('connection_open', () => this.guard(() => this.opened(conn)));
    conn.on('disconnected', (ctx: EventContext) => this.guard(() => this.lost(conn, errorText(ctx.error))));
    conn.on('connection_close', (ctx: EventContext) =>
      this.guard(() => this.lost(conn, errorText(ctx.connection.error) || 'closed by peer')),
    );
    conn.on('connection_error', (ctx: EventContext) =>
      this.log.warn({ err: errorText(ctx.connection.error ?? ctx.error) }, 'edge connection error'),
    );
    conn.on('protocol_error', (e: unknown) => this.log.warn({ err: errorText(e) }, 'edge protocol error'));
    conn.on('error', (e: unknown) => this.log.warn({ err: errorText(e) }, 'edge error'));
    // Link and session errors are handled where the link is made; these stop rhea from escalating.
    conn.on('session_error', () => undefined);
    conn.on('sender_error', () => undefined);
    conn.on('receiver_error', () => undefined);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: errorText(e) }, 'edge: internal error in an AMQP callback');
    }
  }

  private destroy(conn: Connection): void {
    try {
      conn.close();
    } catch {
      /* already gone */
    }
    const internals = conn as unknown as {
      socket?: { destroy?: () => void };
      heartbeat_in?: NodeJS.Timeout;
      heartbeat_out?: NodeJS.Timeout;
    };
    internals.socket?.destroy?.();
    // rhea clears its idle timers only when the socket ends, not when it is destroyed.
    clearTimeout(internals.heartbeat_in);
    clearTimeout(internals.heartbeat_out);
  }

  private opened(conn: Connection): void {
    if (conn !== this.conn) return;
    clearTimeout(this.connectTimer);
    this.connected = true;
    this.attempt = 0;
    this.log.info({ ...this.where, id: this.id }, 'edge connected');
    const waiters = this.waiters;
    this.waiters = [];
    const attaches = [...this.receivers].map((r) => this.attachReceiver(r).catch(() => undefined));
    for (const w of waiters) w.resolve();
    void Promise.all(attaches).then(() => {
      if (this.conn === conn && this.connected) this.emitConnected();
    });
  }

  private lost(conn: Connection, reason: string): void {
    if (conn !== this.conn) return;
    clearTimeout(this.connectTimer);
    const wasConnected = this.connected;
    this.connected = false;
    this.conn = undefined;
    const err = new EdgeError(`edge connection lost: ${reason}`, 'amqp:connection:forced');
    for (const s of this.senders.values()) this.failSender(s, err);
    this.senders.clear();
    for (const r of this.receivers) {
      r.link = undefined;
      r.session = undefined;
      clearTimeout(r.retry);
    }
    if (this.closing) return;
    if (wasConnected) this.log.warn({ reason }, 'edge disconnected; reconnecting');
    else this.log.warn({ reason, attempt: this.attempt }, 'edge connection attempt failed');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt++, this.opts.reconnectBaseMs, this.opts.reconnectCapMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  /** Opens a session and waits for the peer's begin before anything is attached on it. */
  private openSession(conn: Connection): Promise<Session> {
    return new Promise((resolve, reject) => {
      const session = conn.create_session();
      const fail = (ctx: EventContext) =>
        reject(new EdgeError(errorText(ctx.session?.error) || 'session ended'));
      session.once('session_open', () => {
        session.removeListener('session_close', fail);
        resolve(session);
      });
      session.once('session_close', fail);
      session.on('session_error', () => undefined);
      session.begin();
    });
  }

  // ---- receiving ---------------------------------------------------------------------------

  async receive(
    address: string,
    handler: EdgeHandler,
    opts: EdgeReceiveOptions = {},
  ): Promise<EdgeSubscription> {
    if (this.closing) throw new EdgeError('edge connection closed');
    const entry: ReceiverEntry = {
      address,
      brokerAddress: brokerAddress(address),
      handler,
      prefetch: Math.max(1, opts.prefetch ?? DEFAULT_PREFETCH),
      durable: opts.durable ?? false,
      closed: false,
      attempt: 0,
    };
    this.receivers.add(entry);
    if (this.connected) {
      try {
        await this.attachReceiver(entry);
      } catch (e) {
        this.receivers.delete(entry);
        entry.closed = true;
        throw e;
      }
    }
    return { close: () => this.closeReceiver(entry) };
  }

  private async closeReceiver(entry: ReceiverEntry): Promise<void> {
    entry.closed = true;
    clearTimeout(entry.retry);
    this.receivers.delete(entry);
    const { link, session } = entry;
    entry.link = undefined;
    entry.session = undefined;
    if (link && this.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        link.once('receiver_close', () => {
          clearTimeout(t);
          endSessionLater(session);
          resolve();
        });
        try {
          link.close();
        } catch {
          clearTimeout(t);
          resolve();
        }
      });
    }
  }

  private async attachReceiver(entry: ReceiverEntry): Promise<void> {
    const conn = this.conn;
    if (!conn || entry.closed) return;
    const session = await this.openSession(conn);
    if (conn !== this.conn || entry.closed) {
      session.close();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let opened = false;
      const link = session.attach_receiver({
        source: { address: entry.brokerAddress, durable: entry.durable ? 2 : 0 },
        credit_window: 0,
        autoaccept: false,
        name: `${this.id}:${entry.address}:${randomUUID().slice(0, 8)}`,
      });
      entry.link = link;
      entry.session = session;
      const detached = (why: string) => {
        if (entry.link !== link) return;
        entry.link = undefined;
        entry.session = undefined;
        endSessionLater(session);
        if (!opened) {
          reject(new EdgeError(`cannot receive from ${entry.address}: ${why}`));
          return;
        }
        if (entry.closed || this.conn !== conn) return;
        const delay = backoffDelay(entry.attempt++, this.opts.reconnectBaseMs, this.opts.reconnectCapMs);
        this.log.warn(
          { address: entry.address, why, retryInMs: delay },
          'edge receiver detached; re-attaching',
        );
        entry.retry = setTimeout(() => void this.attachReceiver(entry).catch(() => undefined), delay);
      };
      link.on('receiver_open', () =>
        this.guard(() => {
          // A peer refusing a link answers the attach with no terminus, then detaches with why.
          if (!remoteTerminus(link, 'source')) return;
          opened = true;
          entry.attempt = 0;
          link.add_credit(entry.prefetch);
          resolve();
        }),
      );
      link.on('receiver_error', () => undefined);
      link.on('receiver_close', (ctx: EventContext) =>
        this.guard(() => detached(errorText(ctx.receiver?.error) || 'detached by peer')),
      );
      session.on('session_close', (ctx: EventContext) =>
        this.guard(() => detached(errorText(ctx.session?.error) || 'session ended by peer')),
      );
      link.on('message', (ctx: EventContext) => this.guard(() => this.onMessage(entry, link, ctx)));
    });
  }

  private onMessage(entry: ReceiverEntry, link: Receiver, ctx: EventContext): void {
    const delivery = ctx.delivery!;
    const decoded = decodeMessage(entry.address, ctx.message!);
    if (!decoded.ok) {
      this.log.warn({ address: entry.address, reason: decoded.reason }, 'edge: undecodable message rejected');
      delivery.reject({ condition: 'amqp:decode-error', description: decoded.reason });
      link.add_credit(1);
      return;
    }
    rawMessages.set(decoded.message, ctx.message!);
    void runHandler(entry.handler, decoded.message, this.log, () => !entry.closed && !this.closing).then(
      (outcome) => this.settle(entry, link, delivery, outcome),
    );
  }

  private settle(entry: ReceiverEntry, link: Receiver, delivery: Delivery, outcome: EdgeOutcome): void {
    // A delivery of a link that is gone cannot be settled: the broker delivers it again.
    if (entry.link !== link || !this.connected) return;
    this.guard(() => {
      switch (outcome.kind) {
        case 'accept':
          delivery.accept();
          break;
        case 'release':
          delivery.release();
          break;
        case 'reject':
          delivery.reject({
            condition: 'amqp:precondition-failed',
            description: outcome.reason.slice(0, 1000),
          });
          break;
      }
      link.add_credit(1);
    });
  }

  // ---- sending -----------------------------------------------------------------------------

  async send(address: string, body: unknown, opts: EdgeSendOptions = {}): Promise<void> {
    const msg = encodeMessage(body, opts);
    const target = brokerAddress(address);
    const deadline = Date.now() + this.opts.sendTimeoutMs;
    await this.waitConnected(this.opts.sendTimeoutMs);
    const entry = await this.openSender(target, deadline);
    await new Promise<void>((resolve, reject) => {
      const p: PendingSend = {
        msg,
        resolve,
        reject,
        timer: setTimeout(
          () => {
            entry.queue = entry.queue.filter((q) => q !== p);
            for (const [d, q] of entry.unsettled) if (q === p) entry.unsettled.delete(d);
            reject(
              new EdgeError(
                `send to ${address} not settled within ${this.opts.sendTimeoutMs} ms`,
                'nephele:timeout',
              ),
            );
          },
          Math.max(1, deadline - Date.now()),
        ),
      };
      entry.queue.push(p);
      entry.lastUsed = Date.now();
      this.flush(entry);
    });
  }

  private flush(entry: SenderEntry): void {
    const link = entry.link;
    if (!link) return;
    while (entry.queue.length && link.sendable()) {
      const p = entry.queue.shift()!;
      try {
        entry.unsettled.set(link.send(p.msg), p);
      } catch (e) {
        clearTimeout(p.timer);
        p.reject(new EdgeError(`cannot encode message: ${errorText(e)}`));
      }
    }
  }

  private outcome(entry: SenderEntry, ctx: EventContext, err?: EdgeError): void {
    const p = entry.unsettled.get(ctx.delivery!);
    if (!p) return;
    entry.unsettled.delete(ctx.delivery!);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve();
  }

  private failSender(entry: SenderEntry, err: Error): void {
    for (const p of [...entry.queue, ...entry.unsettled.values()]) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    entry.queue = [];
    entry.unsettled.clear();
  }

  private async openSender(target: string, deadline: number): Promise<SenderEntry> {
    let entry = this.senders.get(target);
    if (entry?.link) return entry;
    if (!entry) {
      entry = { address: target, queue: [], unsettled: new Map(), lastUsed: Date.now() };
      this.senders.set(target, entry);
    }
    const e = entry;
    e.opening ??= this.attachSender(e).finally(() => (e.opening = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new EdgeError(`no sending link to ${target} in time`, 'nephele:timeout')),
        Math.max(1, deadline - Date.now()),
      );
    });
    try {
      await Promise.race([e.opening, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return e;
  }

  private async attachSender(entry: SenderEntry): Promise<Sender> {
    const conn = this.conn;
    if (!conn) throw new EdgeError('edge not connected');
    const session = await this.openSession(conn).catch((e: Error) => {
      if (this.senders.get(entry.address) === entry) this.senders.delete(entry.address);
      throw e;
    });
    return new Promise<Sender>((resolve, reject) => {
      let opened = false;
      const link = session.attach_sender({ target: { address: entry.address }, autosettle: true });
      const gone = (why: string) => {
        if (this.senders.get(entry.address) === entry) this.senders.delete(entry.address);
        entry.link = undefined;
        endSessionLater(session);
        const err = new EdgeError(`cannot send to ${entry.address}: ${why}`);
        this.failSender(entry, err);
        if (!opened) reject(err);
      };
      link.on('sender_open', () =>
        this.guard(() => {
          if (!remoteTerminus(link, 'target')) return; // refused: the detach follows
          opened = true;
          entry.link = link;
          entry.session = session;
          resolve(link);
          this.flush(entry);
        }),
      );
      link.on('sendable', () => this.guard(() => this.flush(entry)));
      link.on('accepted', (ctx: EventContext) => this.guard(() => this.outcome(entry, ctx)));
      link.on('rejected', (ctx: EventContext) =>
        this.guard(() => {
          const state = (ctx.delivery?.remote_state ?? {}) as {
            error?: { condition?: string; description?: string };
          };
          const why = state.error?.description ?? state.error?.condition ?? 'rejected';
          this.outcome(
            entry,
            ctx,
            new EdgeError(`${entry.address} rejected the message: ${why}`, state.error?.condition),
          );
        }),
      );
      link.on('released', (ctx: EventContext) =>
        this.guard(() =>
          this.outcome(entry, ctx, new EdgeError(`${entry.address} released the message`, 'amqp:released')),
        ),
      );
      link.on('sender_error', () => undefined);
      link.on('sender_close', (ctx: EventContext) =>
        this.guard(() => gone(errorText(ctx.sender?.error) || 'detached by peer')),
      );
      session.on('session_close', (ctx: EventContext) =>
        this.guard(() => gone(errorText(ctx.session?.error) || 'session ended by peer')),
      );
    });
  }

  private sweepSenders(): void {
    const now = Date.now();
    for (const [addr, s] of this.senders) {
      if (s.link && !s.queue.length && !s.unsettled.size && now - s.lastUsed > SENDER_IDLE_MS) {
        this.senders.delete(addr);
        this.guard(() => {
          s.link!.once('sender_close', () => endSessionLater(s.session));
          s.link!.close();
        });
      }
    }
  }

  // ---- closing -----------------------------------------------------------------------------

  override async close(): Promise<void> {
    if (this.closing) return;
    await super.close();
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    clearInterval(this.sweeper);
    const err = new EdgeError('edge connection closed');
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    for (const r of this.receivers) {
      r.closed = true;
      clearTimeout(r.retry);
    }
    this.receivers.clear();
    for (const s of this.senders.values()) this.failSender(s, err);
    this.senders.clear();
    const conn = this.conn;
    this.conn = undefined;
    this.connected = false;
    if (!conn) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.destroy(conn);
        resolve();
      }, 2000);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      conn.once('connection_close', done);
      conn.once('disconnected', done);
      try {
        conn.close();
      } catch {
        done();
      }
    });
    this.destroy(conn);
  }
}
