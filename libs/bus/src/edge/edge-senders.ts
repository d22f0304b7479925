import { Delivery, EventContext, Message, Sender, Session } from 'rhea';
import { EdgeLinkHost, endSessionLater, errorText, remoteTerminus } from './edge-link.util';
import { EdgeError } from './edge.types';

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

export const SENDER_IDLE_MS = 60_000;

/**
 * The sending side of an edge client: one sending link per target address, opened on first use
 * (on its own session), queued behind the peer's credit, settled by the peer's outcome, and
 * closed after a minute unused. The client owns the connection; on its loss it calls `failAll`.
 */
export class EdgeSenders {
  private readonly senders = new Map<string, SenderEntry>();

  constructor(
    private readonly host: EdgeLinkHost,
    private readonly sendTimeoutMs: number,
  ) {}

  /** Sends `msg` to `target` (the broker's form of `address`) and waits for its outcome. */
  async send(address: string, target: string, msg: Message, deadline: number): Promise<void> {
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
                `send to ${address} not settled within ${this.sendTimeoutMs} ms`,
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

  /** Rejects every send in flight and forgets every link (the connection is gone or closing). */
  failAll(err: Error): void {
    for (const s of this.senders.values()) this.failSender(s, err);
    this.senders.clear();
  }

  /** Closes the links unused for a while. */
  sweep(): void {
    const now = Date.now();
    for (const [addr, s] of this.senders) {
      if (s.link && !s.queue.length && !s.unsettled.size && now - s.lastUsed > SENDER_IDLE_MS) {
        this.senders.delete(addr);
        this.host.guard(() => {
          s.link!.once('sender_close', () => endSessionLater(s.session));
          s.link!.close();
        });
      }
    }
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
    const conn = this.host.conn;
    if (!conn) throw new EdgeError('edge not connected');
    const session = await this.host.openSession(conn).catch((e: Error) => {
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
      const guard = (fn: () => void) => this.host.guard(fn);
      link.on('sender_open', () =>
        guard(() => {
          if (!remoteTerminus(link, 'target')) return; // refused: the detach follows
          opened = true;
          entry.link = link;
          entry.session = session;
          resolve(link);
          this.flush(entry);
        }),
      );
      link.on('sendable', () => guard(() => this.flush(entry)));
      link.on('accepted', (ctx: EventContext) => guard(() => this.outcome(entry, ctx)));
      link.on('rejected', (ctx: EventContext) => guard(() => this.rejected(entry, ctx)));
      link.on('released', (ctx: EventContext) =>
        guard(() =>
          this.outcome(entry, ctx, new EdgeError(`${entry.address} released the message`, 'amqp:released')),
        ),
      );
      link.on('sender_error', () => undefined);
      link.on('sender_close', (ctx: EventContext) =>
        guard(() => gone(errorText(ctx.sender?.error) || 'detached by peer')),
      );
      session.on('session_close', (ctx: EventContext) =>
        guard(() => gone(errorText(ctx.session?.error) || 'session ended by peer')),
      );
    });
  }

  private rejected(entry: SenderEntry, ctx: EventContext): void {
    const state = (ctx.delivery?.remote_state ?? {}) as {
      error?: { condition?: string; description?: string };
    };
    const why = state.error?.description ?? state.error?.condition ?? 'rejected';
    this.outcome(
      entry,
      ctx,
      new EdgeError(`${entry.address} rejected the message: ${why}`, state.error?.condition),
    );
  }
}
