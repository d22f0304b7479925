import { CloudEvent, Topology } from '@nephele/contracts';
import { backoffDelay, PollingLoop } from '@nephele/util';
import { Bus } from './bus.types';
import { LoggerLike, silentLogger } from './logger.types';

/** Something that runs SQL: a TypeORM DataSource, EntityManager or QueryRunner. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface OutboxRow {
  seq: string;
  exchange: string;
  event: CloudEvent;
}

/** Where the relay reads pending rows and marks them sent. */
export interface OutboxStore {
  pending(limit: number): Promise<OutboxRow[]>;
  markSent(seqs: string[]): Promise<void>;
  purgeSentBefore(cutoff: Date): Promise<number>;
}

/** The SQL of the outbox and the processed-messages tables, created by each app's first migration. */
export function busTablesSql(schema: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS "${schema}".outbox (
       seq bigserial PRIMARY KEY,
       exchange text NOT NULL DEFAULT '${Topology.events}',
       event jsonb NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       sent_at timestamptz)`,
    `CREATE INDEX IF NOT EXISTS outbox_pending ON "${schema}".outbox (seq) WHERE sent_at IS NULL`,
    `CREATE TABLE IF NOT EXISTS "${schema}".processed_messages (
       consumer text NOT NULL,
       id text NOT NULL,
       processed_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (consumer, id))`,
  ];
}

/**
 * Writes events into the outbox inside the caller's transaction: one INSERT of one jsonb array
 * parameter, in the given order (profiled: a VALUES list of two parameters per event cost the
 * scaler's schedule batches, 1,000 events each, more in planning and parameter handling than the
 * insert itself).
 */
export async function enqueueEvents(
  tx: Queryable,
  schema: string,
  events: CloudEvent[],
  exchange: string = Topology.events,
): Promise<void> {
  if (!events.length) return;
  await tx.query(
    `INSERT INTO "${schema}".outbox (exchange, event)
     SELECT $1, e FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n`,
    [exchange, JSON.stringify(events)],
  );
}

export class SqlOutboxStore implements OutboxStore {
  constructor(
    private readonly db: Queryable,
    private readonly schema: string,
  ) {}

  async pending(limit: number): Promise<OutboxRow[]> {
    const rows: { seq: string; exchange: string; event: CloudEvent | string }[] = await this.db.query(
      `SELECT seq::text AS seq, exchange, event FROM "${this.schema}".outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      seq: r.seq,
      exchange: r.exchange,
      event: typeof r.event === 'string' ? (JSON.parse(r.event) as CloudEvent) : r.event,
    }));
  }

  async markSent(seqs: string[]): Promise<void> {
    if (!seqs.length) return;
    await this.db.query(`UPDATE "${this.schema}".outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])`, [
      seqs,
    ]);
  }

  async purgeSentBefore(cutoff: Date): Promise<number> {
    const r: unknown = await this.db.query(
      `DELETE FROM "${this.schema}".outbox WHERE sent_at IS NOT NULL AND sent_at < $1`,
      [cutoff.toISOString()],
    );
    return Array.isArray(r) && typeof r[1] === 'number' ? r[1] : 0;
  }
}

export interface OutboxRelayOptions {
  batchSize?: number;
  /** How often to look for rows when nobody nudged the relay (default 500 ms). */
  pollMs?: number;
  /** Sent rows are kept this long for inspection, then purged (default 1 h). */
  retainMs?: number;
  logger?: LoggerLike;
  now?: () => Date;
}

// Note [Outbox]
// A service changes its tables and writes the events about the change into its outbox in the same
// transaction, so an event exists if and only if the change committed. The relay publishes pending
// rows in order with publisher confirms and marks them sent only after the broker confirmed them.
// A crash between confirm and mark publishes the rows again: delivery is at least once and every
// consumer dedupes on the CloudEvent id. Several replicas may relay the same rows for that reason
// too; nothing depends on exactly-once publication.
export class OutboxRelay {
  private lastPurge = 0;
  private held = 0;
  private readonly log: LoggerLike;
  private readonly loop: PollingLoop;

  constructor(
    private readonly store: OutboxStore,
    private readonly bus: Bus,
    private readonly opts: OutboxRelayOptions = {},
  ) {
    this.log = opts.logger ?? silentLogger;
    this.loop = new PollingLoop(() => this.pass(), {
      idleMs: opts.pollMs ?? 500,
      onError: (e, failures) => {
        const delay = backoffDelay(failures, 200, 10_000);
        this.log.warn({ err: e.message, retryInMs: delay }, 'outbox relay failed; will retry');
        return delay;
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Call after a transaction that wrote to the outbox commits: publishes without waiting for the poll. */
  nudge(): void {
    this.loop.nudge();
  }

  /**
   * Holds the relay's loop (a burst of transactions is committing and would compete with it for
   * the database and the CPU); the function returned lets go (once) and publishes what is
   * pending. Holds nest. `drain()` still publishes when called directly.
   */
  hold(): () => void {
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.held === 0) this.nudge();
    };
  }

  /** Publishes everything pending now; resolves with the number of events relayed. */
  drain(): Promise<number> {
    return this.relay(() => false);
  }

  /** Publishes pending rows batch by batch until none are left or `stop()` says so. */
  private async relay(stop: () => boolean): Promise<number> {
    const size = this.opts.batchSize ?? 500;
    let total = 0;
    while (!stop()) {
      const rows = await this.store.pending(size);
      if (!rows.length) return total;
      const byExchange = new Map<string, OutboxRow[]>();
      for (const r of rows) {
        const group = byExchange.get(r.exchange);
        if (group) group.push(r);
        else byExchange.set(r.exchange, [r]);
      }
      for (const [exchange, group] of byExchange) {
        await this.bus.publishAll(
          group.map((r) => r.event),
          { exchange },
        );
      }
      await this.store.markSent(rows.map((r) => r.seq));
      total += rows.length;
      if (rows.length < size) return total;
    }
    return total;
  }

  /** One pass of the loop (see Note [Polling loops]): drain, and now and then purge sent rows. */
  private async pass(): Promise<void> {
    // Held: the release nudges the loop.
    await this.relay(() => this.held > 0);
    const now = (this.opts.now ?? (() => new Date()))();
    if (now.getTime() - this.lastPurge > 60_000) {
      this.lastPurge = now.getTime();
      await this.store.purgeSentBefore(new Date(now.getTime() - (this.opts.retainMs ?? 3_600_000)));
    }
  }
}
