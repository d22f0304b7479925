import { Connection, Receiver, Sender, Session } from 'rhea';
import { LoggerLike } from '../logger.types';

/** What an edge client's links need of the connection that carries them (see Note [Edge client]). */
export interface EdgeLinkHost {
  readonly id: string;
  readonly log: LoggerLike;
  /** The current connection, whether or not the peer's open has arrived yet. */
  readonly conn: Connection | undefined;
  readonly connected: boolean;
  readonly closing: boolean;
  /** Opens a session on `conn` and waits for the peer's begin. */
  openSession(conn: Connection): Promise<Session>;
  /** Runs an rhea callback so that an exception cannot end the connection. */
  guard(fn: () => void): void;
  /** The backoff before re-attaching a detached link. */
  retryDelay(attempt: number): number;
}

/** The peer's source/target of an attached link; undefined when the peer refused the link. */
export function remoteTerminus(link: Sender | Receiver, which: 'source' | 'target'): unknown {
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
export function endSessionLater(session: Session | undefined): void {
  if (!session) return;
  setImmediate(() => {
    try {
      session.close();
    } catch {
      /* already gone */
    }
  });
}

export function errorText(e: unknown): string {
  if (!e) return 'unknown error';
  if (typeof e === 'string') return e;
  const o = e as { description?: string; message?: string; condition?: string };
  return o.description ?? o.message ?? o.condition ?? JSON.stringify(e);
}
