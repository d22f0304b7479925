import { randomUUID } from 'node:crypto';
import { Connection, ConnectionOptions, Container, create_container, EventContext, Session } from 'rhea';
import { backoffDelay } from '@nephele/util';
import { LoggerLike } from '../logger.types';
import { EdgeConnectionBase } from './edge-connection.base';
import { brokerAddress, encodeMessage } from './edge-message.util';
import { EdgeLinkHost, errorText } from './edge-link.util';
import { EdgeReceivers } from './edge-receivers';
import { EdgeSenders, SENDER_IDLE_MS } from './edge-senders';
import { EdgeError, EdgeHandler, EdgeReceiveOptions, EdgeSendOptions, EdgeSubscription } from './edge.types';

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
  private readonly receivers: EdgeReceivers;
  private readonly senders: EdgeSenders;

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
    // The links' view of this connection (getters: they read the state at each use).
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const host: EdgeLinkHost = {
      id: this.id,
      log: this.log,
      get conn() {
        return self.conn;
      },
      get connected() {
        return self.connected;
      },
      get closing() {
        return self.closing;
      },
      openSession: (conn) => this.openSession(conn),
      guard: (fn) => this.guard(fn),
      retryDelay: (attempt) => backoffDelay(attempt, this.opts.reconnectBaseMs, this.opts.reconnectCapMs),
    };
    this.receivers = new EdgeReceivers(host);
    this.senders = new EdgeSenders(host, this.opts.sendTimeoutMs);
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
      this.sweeper = setInterval(() => this.senders.sweep(), SENDER_IDLE_MS / 2);
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
    const attaches = this.receivers.attachAll();
    for (const w of waiters) w.resolve();
    void attaches.then(() => {
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
    this.senders.failAll(err);
    this.receivers.detachAll();
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

  // ---- receiving (see EdgeReceivers) ----------------------------------------------------

  receive(address: string, handler: EdgeHandler, opts: EdgeReceiveOptions = {}): Promise<EdgeSubscription> {
    if (this.closing) return Promise.reject(new EdgeError('edge connection closed'));
    return this.receivers.receive(address, handler, opts);
  }

  // ---- sending (see EdgeSenders) ------------------------------------------------------

  async send(address: string, body: unknown, opts: EdgeSendOptions = {}): Promise<void> {
    const msg = encodeMessage(body, opts);
    const deadline = Date.now() + this.opts.sendTimeoutMs;
    await this.waitConnected(this.opts.sendTimeoutMs);
    await this.senders.send(address, brokerAddress(address), msg, deadline);
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
    this.receivers.closeAll();
    this.senders.failAll(err);
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
