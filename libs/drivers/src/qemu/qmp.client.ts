import { connect, Socket } from 'node:net';

/** A QMP event (`SHUTDOWN`, `RESET`, `STOP`, …). */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
}

/** An error QEMU answered a command with (`{"error": {"class", "desc"}}`). */
export class QmpError extends Error {
  constructor(
    readonly errorClass: string,
    desc: string,
  ) {
    super(`QMP ${errorClass}: ${desc}`);
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * One QMP connection to a QEMU monitor socket (QEMU's JSON machine protocol): the greeting, the
 * capabilities negotiation, then commands matched to their answers by `id`. Messages are JSON
 * objects, one per line. `close()` releases the socket; a socket closed by QEMU (it quit) fails
 * every command still waiting.
 */
export class QmpClient {
  readonly events: QmpEvent[] = [];
  private buffer = '';
  private seq = 0;
  private readonly pending = new Map<string, Pending>();
  private greeting?: { resolve: (v: unknown) => void; reject: (e: Error) => void };
  private closedError?: Error;

  private constructor(private readonly socket: Socket) {}

  /** Connects and negotiates capabilities; fails when nothing listens or no greeting comes. */
  static async connect(path: string, timeoutMs = 5_000): Promise<QmpClient> {
    const socket = connect(path);
    const client = new QmpClient(socket);
    const greeted = new Promise((resolve, reject) => (client.greeting = { resolve, reject }));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => client.onData(chunk));
    socket.on('error', (e) => client.fail(e));
    socket.on('close', () => client.fail(new Error('QMP socket closed')));
    const timer = setTimeout(
      () => client.fail(new Error(`QMP greeting timed out after ${timeoutMs}ms`)),
      timeoutMs,
    );
    try {
      await greeted;
      await client.execute('qmp_capabilities');
      return client;
    } catch (e) {
      socket.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a command; resolves with its `return` value, rejects with a QmpError. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = `n${++this.seq}`;
    const msg = { execute: command, ...(args ? { arguments: args } : {}), id };
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify(msg)}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not QMP; ignore rather than die
    }
    if ('QMP' in m) {
      this.greeting?.resolve(m['QMP']);
      this.greeting = undefined;
      return;
    }
    if (typeof m['event'] === 'string') {
      this.events.push({ event: m['event'], data: m['data'] as Record<string, unknown> | undefined });
      return;
    }
    const id = typeof m['id'] === 'string' ? m['id'] : undefined;
    const p = id ? this.pending.get(id) : undefined;
    if (!p || !id) return;
    this.pending.delete(id);
    const err = m['error'] as { class?: string; desc?: string } | undefined;
    if (err) p.reject(new QmpError(err.class ?? 'GenericError', err.desc ?? 'unknown error'));
    else p.resolve(m['return']);
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    this.greeting?.reject(e);
    this.greeting = undefined;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.socket.destroy();
  }
}
