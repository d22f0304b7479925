import { randomUUID } from 'node:crypto';
import { Delivery, EventContext, Receiver, Session } from 'rhea';
import { DEFAULT_PREFETCH, rawMessages, runHandler } from './edge-connection.base';
import { EdgeLinkHost, endSessionLater, errorText, remoteTerminus } from './edge-link.util';
import { brokerAddress, decodeMessage } from './edge-message.util';
import { EdgeError, EdgeHandler, EdgeOutcome, EdgeReceiveOptions, EdgeSubscription } from './edge.types';

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
  /** Settlements on the current link not yet given back as credit (Note [Credit in batches]). */
  owed: number;
  retry?: NodeJS.Timeout;
};

/**
 * The receiving side of an edge client: every live subscription, each on its own link and
 * session, granted credit by hand for settled messages (so `prefetch` bounds the unsettled
 * messages; Note [Credit in batches]), re-attached after a detach and after every reconnect (see
 * Note [Edge client]).
 */
export class EdgeReceivers {
  private readonly receivers = new Set<ReceiverEntry>();

  constructor(private readonly host: EdgeLinkHost) {}

  async receive(
    address: string,
    handler: EdgeHandler,
    opts: EdgeReceiveOptions = {},
  ): Promise<EdgeSubscription> {
    const entry: ReceiverEntry = {
      address,
      brokerAddress: brokerAddress(address),
      handler,
      prefetch: Math.max(1, opts.prefetch ?? DEFAULT_PREFETCH),
      durable: opts.durable ?? false,
      closed: false,
      attempt: 0,
      owed: 0,
    };
    this.receivers.add(entry);
    if (this.host.connected) {
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

  /** Attaches every receiver on the connection just opened; settles when each has tried. */
  attachAll(): Promise<unknown> {
    return Promise.all([...this.receivers].map((r) => this.attachReceiver(r).catch(() => undefined)));
  }

  /** Forgets every link (the connection is gone); the receivers stay for the next connection. */
  detachAll(): void {
    for (const r of this.receivers) {
      r.link = undefined;
      r.session = undefined;
      clearTimeout(r.retry);
    }
  }

  /** Closes every receiver for good (the client is closing). */
  closeAll(): void {
    for (const r of this.receivers) {
      r.closed = true;
      clearTimeout(r.retry);
    }
    this.receivers.clear();
  }

  private async closeReceiver(entry: ReceiverEntry): Promise<void> {
    entry.closed = true;
    clearTimeout(entry.retry);
    this.receivers.delete(entry);
    const { link, session } = entry;
    entry.link = undefined;
    entry.session = undefined;
    if (link && this.host.connected) {
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
    const host = this.host;
    const conn = host.conn;
    if (!conn || entry.closed) return;
    const session = await host.openSession(conn);
    if (conn !== host.conn || entry.closed) {
      session.close();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let opened = false;
      const link = session.attach_receiver({
        source: { address: entry.brokerAddress, durable: entry.durable ? 2 : 0 },
        credit_window: 0,
        autoaccept: false,
        name: `${host.id}:${entry.address}:${randomUUID().slice(0, 8)}`,
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
        if (entry.closed || host.conn !== conn) return;
        const delay = host.retryDelay(entry.attempt++);
        host.log.warn(
          { address: entry.address, why, retryInMs: delay },
          'edge receiver detached; re-attaching',
        );
        entry.retry = setTimeout(() => void this.attachReceiver(entry).catch(() => undefined), delay);
      };
      link.on('receiver_open', () =>
        host.guard(() => {
          // A peer refusing a link answers the attach with no terminus, then detaches with why.
          if (!remoteTerminus(link, 'source')) return;
          opened = true;
          entry.attempt = 0;
          entry.owed = 0;
          link.add_credit(entry.prefetch);
          resolve();
        }),
      );
      link.on('receiver_error', () => undefined);
      link.on('receiver_close', (ctx: EventContext) =>
        host.guard(() => detached(errorText(ctx.receiver?.error) || 'detached by peer')),
      );
      session.on('session_close', (ctx: EventContext) =>
        host.guard(() => detached(errorText(ctx.session?.error) || 'session ended by peer')),
      );
      link.on('message', (ctx: EventContext) => host.guard(() => this.onMessage(entry, link, ctx)));
    });
  }

  private onMessage(entry: ReceiverEntry, link: Receiver, ctx: EventContext): void {
    const delivery = ctx.delivery!;
    const decoded = decodeMessage(entry.address, ctx.message!);
    if (!decoded.ok) {
      this.host.log.warn(
        { address: entry.address, reason: decoded.reason },
        'edge: undecodable message rejected',
      );
      delivery.reject({ condition: 'amqp:decode-error', description: decoded.reason });
      this.grant(entry, link);
      return;
    }
    rawMessages.set(decoded.message, ctx.message!);
    void runHandler(
      entry.handler,
      decoded.message,
      this.host.log,
      () => !entry.closed && !this.host.closing,
    ).then((outcome) => this.settle(entry, link, delivery, outcome));
  }

  // Note [Credit in batches]
  // Credit given back one per settlement made a flow frame per message (a DPE host at 10,000
  // heartbeats a second wrote 10,000 flows a second and the edge read them). It is given back once
  // half the prefetch is settled: the peer still holds at least half of it, so it never waits for
  // credit while the receiver keeps up, and the unsettled messages stay bounded by `prefetch`.
  private grant(entry: ReceiverEntry, link: Receiver): void {
    if (entry.link !== link || ++entry.owed < Math.ceil(entry.prefetch / 2)) return;
    link.add_credit(entry.owed);
    entry.owed = 0;
  }

  private settle(entry: ReceiverEntry, link: Receiver, delivery: Delivery, outcome: EdgeOutcome): void {
    // A delivery of a link that is gone cannot be settled: the broker delivers it again.
    if (entry.link !== link || !this.host.connected) return;
    this.host.guard(() => {
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
      this.grant(entry, link);
    });
  }
}
