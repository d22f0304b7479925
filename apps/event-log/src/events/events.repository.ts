import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CloudEvent } from '@nephele/contracts';
import { advisoryKey, Db } from '@nephele/persistence';
import { EVENT_LOG_DB } from '../event-log.tokens';

export interface EventFilter {
  /** Exact type, or a prefix written `nephele.assembly.*`. */
  type?: string;
  source?: string;
  subject?: string;
  since?: Date;
  until?: Date;
  afterSeq?: string;
  /** Only this project's events (non-admin readers). */
  project?: string;
}

export interface StoredEvent {
  seq: string;
  event: CloudEvent;
}

const INSERT_LOCK = advisoryKey('nephele-event-log-insert');
const PARTITIONS_LOCK = advisoryKey('nephele-event-log-partitions');

// Note [Event identity]
// CloudEvents identifies an event by (source, id); a producer that retries may re-serialise `time`.
// The events table is partitioned by day on `time`, and a partitioned table can only enforce keys
// that include the partition key, so the identity has its own small unpartitioned table
// `event_ids` (source, id) → time. Each insert first claims the identities (ON CONFLICT DO NOTHING)
// and stores only the events whose identity it claimed, in the same transaction. Identities expire
// with the events' retention (maintainPartitions). Measured (batches of 1000 on PostgreSQL 16, a
// loaded 2-core machine): the identity costs 15–35 % of the insert statement's time (≈5,000 events/s
// either way), far above the end-to-end rate of `npm run bench -- event-log`, which the broker and
// the consumer bound. A partition-independent key would need a global unique index, which
// PostgreSQL's partitioned tables do not have. Idempotent consumers key on the same pair
// (markProcessed in @nephele/bus).

// Note [Event order]
// `seq` comes from one sequence and every insert transaction takes the same transaction-level
// advisory lock first, so sequence order equals commit order even with several event-log replicas.
// A reader that has seen seq N has therefore seen every committed event below N: keyset pages and
// stream resumption by seq neither skip nor repeat events.
@Injectable()
export class EventsRepository {
  constructor(@Inject(EVENT_LOG_DB) private readonly db: DataSource) {}

  /**
   * Inserts a batch; an event whose (source, id) is already known is skipped whatever its time
   * (see Note [Event identity]). Returns how many were stored and the highest seq.
   */
  async insertBatch(events: CloudEvent[]): Promise<{ stored: number; maxSeq?: string }> {
    if (!events.length) return { stored: 0 };
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${INSERT_LOCK})`);
      const rows: { seq: string }[] = await tx.query(
        `WITH input AS (
           SELECT e, n FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n)
         ), fresh AS (
           INSERT INTO event_log.event_ids (source, id, time)
           SELECT e->>'source', e->>'id', (e->>'time')::timestamptz FROM input ORDER BY n
           ON CONFLICT DO NOTHING
           RETURNING source, id
         ), firsts AS (
           SELECT DISTINCT ON (i.e->>'source', i.e->>'id') i.e, i.n
           FROM input i JOIN fresh f ON f.source = i.e->>'source' AND f.id = i.e->>'id'
           ORDER BY i.e->>'source', i.e->>'id', i.n
         )
         INSERT INTO event_log.events (id, source, type, subject, time, event, project)
         SELECT e->>'id', e->>'source', e->>'type', e->>'subject', (e->>'time')::timestamptz, e,
           COALESCE(e->>'project', e->'data'->>'project')
         FROM firsts ORDER BY n
         ON CONFLICT DO NOTHING
         RETURNING seq::text AS seq`,
        [JSON.stringify(events)],
      );
      let max: bigint | undefined;
      for (const r of rows) if (max === undefined || BigInt(r.seq) > max) max = BigInt(r.seq);
      return { stored: rows.length, maxSeq: max?.toString() };
    });
  }

  async find(filter: EventFilter, limit: number): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (filter.type) {
      if (filter.type.endsWith('.*'))
        where.push(`type LIKE ${p(escapeLike(filter.type.slice(0, -1)) + '%')}`);
      else where.push(`type = ${p(filter.type)}`);
    }
    if (filter.source) where.push(`source = ${p(filter.source)}`);
    if (filter.subject) where.push(`subject = ${p(filter.subject)}`);
    if (filter.since) where.push(`time >= ${p(filter.since.toISOString())}`);
    if (filter.until) where.push(`time < ${p(filter.until.toISOString())}`);
    if (filter.afterSeq) where.push(`seq > ${p(filter.afterSeq)}::bigint`);
    if (filter.project !== undefined) where.push(`project = ${p(filter.project)}`);
    // Order by the bigint column, not the text alias of the select list.
    const sql = `SELECT e.seq::text AS seq, e.event FROM event_log.events e
                 ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY e.seq LIMIT ${p(limit)}`;
    return this.db.query(sql, params);
  }

  async findById(id: string, project?: string): Promise<StoredEvent | undefined> {
    const rows: StoredEvent[] = await this.db.query(
      `SELECT e.seq::text AS seq, e.event FROM event_log.events e
       WHERE e.id = $1 AND ($2::text IS NULL OR e.project = $2) ORDER BY e.seq LIMIT 1`,
      [id, project ?? null],
    );
    return rows[0];
  }

  async maxSeq(): Promise<string> {
    const rows: { s: string | null }[] = await this.db.query(
      `SELECT max(seq)::text AS s FROM event_log.events`,
    );
    return rows[0]?.s ?? '0';
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /**
   * maintainPartitions on one replica at a time: a session advisory lock on a connection of its
   * own, which also carries the maintenance. Undefined when another replica holds the lock.
   */
  async maintainPartitionsOnce(
    now: Date,
    retentionDays: number,
  ): Promise<{ created: string[]; dropped: string[] } | undefined> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query(
        `SELECT pg_try_advisory_lock(${PARTITIONS_LOCK}) AS locked`,
      )) as { locked: boolean }[];
      if (!locked) return undefined;
      try {
        return await this.maintainPartitions(now, retentionDays, 3, runner.manager);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${PARTITIONS_LOCK})`);
      }
    } finally {
      await runner.release();
    }
  }

  /** Creates day partitions for [today - 1, today + ahead] and drops those older than the retention. */
  async maintainPartitions(
    now: Date,
    retentionDays: number,
    ahead = 3,
    db: Db = this.db,
  ): Promise<{ created: string[]; dropped: string[] }> {
    const created: string[] = [];
    const dropped: string[] = [];
    const day = (offset: number) => {
      const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + offset));
      return d;
    };
    const name = (d: Date) => `events_${d.toISOString().slice(0, 10).replace(/-/g, '')}`;
    const existing = new Set<string>(
      (
        (await db.query(
          `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
           WHERE n.nspname = 'event_log' AND p.relname = 'events'`,
        )) as { relname: string }[]
      ).map((r) => r.relname),
    );
    for (let o = -1; o <= ahead; o++) {
      const from = day(o);
      const to = day(o + 1);
      const n = name(from);
      if (existing.has(n)) continue;
      try {
        await db.query(
          `CREATE TABLE IF NOT EXISTS event_log.${n} PARTITION OF event_log.events
           FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
        );
        created.push(n);
      } catch {
        // The default partition already holds rows of that day: they stay there until it expires.
      }
    }
    const cutoff = day(-retentionDays);
    for (const n of existing) {
      const m = /^events_(\d{4})(\d{2})(\d{2})$/.exec(n);
      if (!m) continue;
      const start = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
      if (start < cutoff) {
        await db.query(`DROP TABLE IF EXISTS event_log.${n}`);
        dropped.push(n);
      }
    }
    await db.query(`DELETE FROM event_log.events_default WHERE time < $1`, [cutoff.toISOString()]);
    await db.query(`DELETE FROM event_log.event_ids WHERE time < $1`, [cutoff.toISOString()]);
    return { created, dropped };
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
