import { createConnection } from 'node:net';
import { PermanentDriverError, TransientDriverError } from '../driver.errors';

/** Where HAProxy's Runtime API listens: a `stats socket` (unix path) or an ipv4@ address. */
export type HaproxyRuntimeTarget = { socketPath: string } | { host: string; port: number };

/**
 * HAProxy's Runtime API (the `stats socket`, level admin), one connection per command in
 * non-interactive mode: HAProxy answers and closes the connection.
 */
export class HaproxyRuntimeClient {
  constructor(
    readonly target: HaproxyRuntimeTarget,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Sends one command; its output without the trailing blank lines. */
  command(cmd: string): Promise<string> {
    // A newline or ';' would smuggle a second command into the socket.
    if (/[\n\r;]/.test(cmd))
      throw new PermanentDriverError(`refusing runtime API command with a separator: ${JSON.stringify(cmd)}`);
    return new Promise((resolve, reject) => {
      const socket =
        'socketPath' in this.target
          ? createConnection(this.target.socketPath)
          : createConnection(this.target.port, this.target.host);
      const chunks: Buffer[] = [];
      socket.setTimeout(this.timeoutMs, () =>
        socket.destroy(
          new TransientDriverError(`haproxy runtime API: no answer to "${cmd}" within ${this.timeoutMs} ms`),
        ),
      );
      socket.on('connect', () => socket.write(`${cmd}\n`));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', (e) =>
        reject(
          e instanceof TransientDriverError
            ? e
            : new TransientDriverError(`haproxy runtime API unreachable: ${e.message}`, { cause: e }),
        ),
      );
      socket.on('close', (hadError) => {
        if (!hadError) resolve(Buffer.concat(chunks).toString('utf8').replace(/\n+$/, ''));
      });
    });
  }
}
