import * as amqp from 'amqplib';
import { CLOUDEVENTS_CONTENT_TYPE, createEvent, Topology } from '@nephele/contracts';

export const CHAOS_EVENT_TYPE = 'nephele.chaos.tick';

/**
 * A steady publisher of CloudEvents to `nephele.events` on a confirm channel, like a service would
 * publish. Only an event the broker confirmed (and did not return as unroutable) is recorded: those
 * are the ones the event log must end up holding. It reconnects on its own across a broker restart.
 */
export class EventLoad {
  /** Confirmed ids, in confirm order, with the time each was sent. */
  readonly confirmed: { id: string; sentAt: number }[] = [];
  readonly confirmedIds = new Set<string>();
  private readonly returned = new Set<string>();
  sent = 0;
  failed = 0;
  unroutable = 0;
  reconnects = 0;
  private conn?: amqp.ChannelModel;
  private ch?: amqp.ConfirmChannel;
  private stopping = false;
  private loop?: Promise<void>;
  private seq = 0;

  constructor(
    private readonly url: string,
    readonly subject: string,
    private readonly perSecond: number,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Stops publishing and waits for the confirms still outstanding. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    try {
      await this.ch?.waitForConfirms();
    } catch {
      /* those are not counted */
    }
    await this.conn?.close().catch(() => undefined);
  }

  /** The first event sent at or after `t` that the broker confirmed. */
  confirmedSince(t: number): string | undefined {
    for (let i = this.confirmed.length - 1; i >= 0; i--) {
      const c = this.confirmed[i]!;
      if (c.sentAt < t) {
        return this.confirmed.slice(i + 1).find((x) => x.sentAt >= t)?.id;
      }
    }
    return this.confirmed.find((x) => x.sentAt >= t)?.id;
  }

  private async connect(): Promise<void> {
    const conn = await amqp.connect(this.url, { clientProperties: { connection_name: 'chaos-load' } });
    conn.on('error', () => undefined);
    conn.on('close', () => {
      if (this.conn === conn) {
        this.conn = undefined;
        this.ch = undefined;
      }
    });
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => {
      if (this.ch === ch) this.ch = undefined;
    });
    ch.on('return', (msg: amqp.Message) => this.returned.add(String(msg.properties.messageId)));
    this.conn = conn;
    this.ch = ch;
  }

  private async run(): Promise<void> {
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((this.perSecond * tickMs) / 1000));
    let first = true;
    while (!this.stopping) {
      const t0 = Date.now();
      try {
        if (!this.ch) {
          if (!first) this.reconnects++;
          first = false;
          await this.connect();
        }
        for (let i = 0; i < perTick; i++) this.publishOne(this.ch!);
      } catch {
        await this.conn?.close().catch(() => undefined);
        this.conn = undefined;
        this.ch = undefined;
        await new Promise((r) => setTimeout(r, 250));
      }
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - t0))));
    }
  }

  private publishOne(ch: amqp.ConfirmChannel): void {
    const event = createEvent('chaos', CHAOS_EVENT_TYPE, { seq: ++this.seq }, { subject: this.subject });
    const sentAt = Date.now();
    this.sent++;
    ch.publish(
      Topology.events,
      CHAOS_EVENT_TYPE,
      Buffer.from(JSON.stringify(event)),
      {
        persistent: true,
        mandatory: true,
        messageId: event.id,
        type: event.type,
        contentType: CLOUDEVENTS_CONTENT_TYPE,
      },
      (err) => {
        if (err) this.failed++;
        else if (this.returned.delete(event.id)) this.unroutable++;
        else {
          this.confirmed.push({ id: event.id, sentAt });
          this.confirmedIds.add(event.id);
        }
      },
    );
  }
}
