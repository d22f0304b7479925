import { ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection, create_container, EventContext, Message } from 'rhea';
import { waitFor, WORKSPACE_ROOT } from '@nephele/testing';

const run = promisify(execFile);
const QMF = path.join(WORKSPACE_ROOT, 'libs/bus/src/edge/fixtures/qmf_client.py');

/** A QMF request from the Python (qpid-proton) client: its one-line JSON result. */
export async function pythonQmf(
  url: string,
  method: string,
  args: object,
  extra: string[] = [],
): Promise<any> {
  const { stdout } = await run(
    '/usr/bin/python3',
    [QMF, url, 'nephele.cpe', method, JSON.stringify(args), '--timeout', '20', ...extra],
    { timeout: 40_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** How the peer ended a connection, link or delivery. */
export interface Refusal {
  condition?: string;
  description?: string;
}

/** An AMQP error as rhea hands it over: decoded, or (connection close) a described list. */
function errorOf(e: unknown): Refusal {
  const x = e as { condition?: unknown; description?: unknown; value?: { value?: unknown }[] } | undefined;
  if (x && Array.isArray(x.value) && x.condition === undefined) {
    return { condition: String(x.value[0]?.value ?? ''), description: String(x.value[1]?.value ?? '') };
  }
  return {
    condition: typeof x?.condition === 'string' ? x.condition : undefined,
    description: typeof x?.description === 'string' ? x.description : undefined,
  };
}

/**
 * A raw rhea peer on the edge, so a test sees exactly what the listener answers: whether the
 * login, a link or a delivery was refused, and with which AMQP condition.
 */
export class EdgePeer {
  closed?: Refusal & { at: number };
  private replies = new Map<string, (m: Message) => void>();
  private replyAttached = false;
  private seq = 0;

  private constructor(
    readonly conn: Connection,
    readonly replyTo: string,
  ) {
    conn.on('connection_close', (ctx: EventContext) => {
      this.closed ??= { ...errorOf(ctx.connection.error), at: Date.now() };
    });
    conn.on('disconnected', (ctx: EventContext) => {
      this.closed ??= { ...errorOf(ctx.error ?? ctx.connection.error), at: Date.now() };
    });
    conn.on('connection_error', () => undefined);
    conn.on('error', () => undefined);
  }

  /** Logs in (SASL PLAIN when a password is given, else ANONYMOUS); rejects with the refusal. */
  static connect(port: number, login: { username?: string; password?: string } = {}): Promise<EdgePeer> {
    const c = create_container({ id: `sec-${Math.random().toString(36).slice(2, 10)}` });
    return new Promise((resolve, reject) => {
      const conn = c.connect({
        host: '127.0.0.1',
        port,
        reconnect: false,
        ...(login.password !== undefined
          ? { username: login.username ?? 'client', password: login.password }
          : {}),
      });
      const fail = (why: Refusal) => {
        conn.close();
        reject(Object.assign(new Error(`refused: ${why.condition} ${why.description}`), why));
      };
      // A refused login may be opened and closed at once (with the reason): wait for the close.
      conn.once('connection_open', () =>
        setTimeout(() => {
          if (conn.is_open()) resolve(new EdgePeer(conn, `reply.sec-${c.id}`));
        }, 200),
      );
      conn.once('connection_close', (ctx: EventContext) => fail(errorOf(ctx.connection.error)));
      conn.once('connection_error', (ctx: EventContext) => fail(errorOf(ctx.connection.error)));
      conn.once('disconnected', (ctx: EventContext) =>
        fail({ condition: 'disconnected', description: String((ctx.error as Error)?.message ?? ctx.error) }),
      );
      conn.on('error', () => undefined);
    });
  }

  /** Attaches a receiver: resolves when the listener accepts it, rejects with its refusal. */
  receive(address: string, onMessage?: (m: Message) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const r = this.conn.open_receiver({ source: { address }, autoaccept: true });
      let refused = false;
      // A refused link is attached and detached at once (with the reason): wait for the detach.
      r.once('receiver_open', () => setTimeout(() => refused || resolve(), 200));
      r.once('receiver_close', () => {
        refused = true;
        reject(Object.assign(new Error('link refused'), errorOf(r.error)));
      });
      r.on('receiver_error', () => undefined);
      if (onMessage) r.on('message', (ctx: EventContext) => onMessage(ctx.message!));
    });
  }

  /** Sends one message: resolves with the outcome (accepted, or the refusal of link or delivery). */
  send(address: string, msg: Message): Promise<{ accepted: boolean } & Refusal> {
    return new Promise((resolve) => {
      const s = this.conn.open_sender({ target: { address } });
      s.on('sender_error', () => undefined);
      s.once('sender_close', () => resolve({ accepted: false, ...errorOf(s.error) }));
      s.once('sendable', () => {
        const d = s.send(msg);
        void d;
      });
      s.once('accepted', () => resolve({ accepted: true }));
      s.once('rejected', (ctx: EventContext) =>
        resolve({ accepted: false, ...errorOf((ctx.delivery?.remote_state as { error?: unknown })?.error) }),
      );
      this.conn.once('connection_close', () => resolve({ accepted: false, ...this.closed }));
      this.conn.once('disconnected', () => resolve({ accepted: false, ...this.closed }));
    });
  }

  /** A QMF request on this connection; resolves with the reply's body and opcode. */
  async qmf(method: string, args: object): Promise<{ opcode: unknown; body: any }> {
    if (!this.replyAttached) {
      await this.receive(this.replyTo, (m) => this.replies.get(String(m.correlation_id))?.(m));
      this.replyAttached = true;
    }
    const id = `c-${++this.seq}`;
    const reply = new Promise<Message>((resolve, reject) => {
      this.replies.set(id, resolve);
      const t = setTimeout(() => reject(new Error(`no reply to ${method}`)), 20_000);
      t.unref();
    });
    const sent = await this.send('nephele.cpe', {
      body: { _method_name: method, _arguments: args },
      correlation_id: id,
      reply_to: this.replyTo,
      application_properties: { 'qmf.opcode': '_method_request' },
    });
    if (!sent.accepted) throw Object.assign(new Error(`request refused: ${sent.description}`), sent);
    const m = await reply;
    return { opcode: (m.application_properties as Record<string, unknown>)['qmf.opcode'], body: m.body };
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      /* already gone */
    }
  }
}

/**
 * The all-in-one as a process (`dist/apps/nephele/main.js`), waiting up to `timeoutMs` for /readyz
 * (its embedded database migrates first: slow on a loaded machine).
 */
export async function startAllInOne(
  env: Record<string, string>,
  timeoutMs = 240_000,
): Promise<{ url: string; child: ChildProcess; output: () => string; stop(): Promise<void> }> {
  const port = Number(env.PORT);
  let output = '';
  const child = spawn(process.execPath, [path.join(WORKSPACE_ROOT, 'dist/apps/nephele/main.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`nephele exited with ${child.exitCode}:\n${output.slice(-3000)}`);
      return (await fetch(`${url}/readyz`).catch(() => undefined))?.ok;
    },
    { timeoutMs, what: 'the all-in-one to be ready' },
  );
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
