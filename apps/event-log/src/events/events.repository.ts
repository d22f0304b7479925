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
// The claim is the only conflict check: the events insert has no ON CONFLICT. Every stored event's
// identity is in `event_ids` (claimed in the event's transaction; the migration that made the table
// filled it from the events; maintainPartitions deletes identities with the events' cutoff, after
// them), so an event whose identity this transaction claimed cannot collide with a stored one.
// Should it ever (a row written by hand, or the later copy of an identity stored twice before
// `event_ids` existed, once the earlier copy has expired), the batch fails with 23505 and the
// consumer stores the others one by one and dead-letters that event. ON CONFLICT costs a
// speculative insertion per row: a probe of every unique index before the insert and a second WAL
// record after. Profiled with perf on a backend (batches of 1,000, 2026-12):
// ExecCheckIndexConstraints was 30 % of its CPU, 14 % on the events' primary key alone; without
// ON CONFLICT there the backend spends ~10 % less CPU per event.

// Note [Group commit]
// The consumer hands the repository batches of up to EVENT_LOG_BATCH_SIZE deliveries and acks
// them only after the commit. One statement per batch, its own transaction (no BEGIN or COMMIT
// round trips), over one jsonb array parameter (the batch's distinct identities, first
// occurrence, in arrival order) that first marks the transaction in flight (Note [Event order]),
// then claims the identities in `event_ids` with INSERT … ON CONFLICT DO NOTHING in identity order
// (two transactions — two replicas, or two batches of one — claiming overlapping identities wait
// for each other in one order and never deadlock; a duplicate waits for the holder's commit and
// then finds it claimed) and inserts the events whose identity it claimed, in arrival order, returning
// only their count and highest seq. Nothing serialises two batches: their inserts and commits
// overlap, and PostgreSQL's group commit shares one WAL flush among the commits that meet.
// Profiled (`npm run bench -- event-log`, BENCH_CPU_PROF, and per-process CPU during the run):
// the event-log process is a third idle; until 2026-12 an exclusive advisory lock held from the
// insert to the commit (WAL flush included) serialised every batch of every replica, so a second
// replica added no capacity. Until 2026-12 the claim was its own statement with three array
// parameters returning every claimed identity to the process (three statements per batch). Per
// event the run costs 17-19 µs of event-log CPU and 22-25 µs of its database backends' CPU
// (19-20 and 25-27 µs before, 2026-12: the events insert lost its ON CONFLICT, the keys their
// collation, the batch its BEGIN and COMMIT round trips and its JSON.stringify) beside the
// broker's ~55 µs (one replica; the bench prints these); on two shared cores that CPU, not
// waiting, is what keeps the end-to-end rate below the raw publish+consume rate. Smaller batches do not help:
// flushing a partial batch whenever the consumer was idle, or pipelining up to 2-3 batches flushed
// after every socket read, made 1.7-4x the transactions and 15-35 % more database CPU per event
// for no faster run (interleaved A/B, 2026-12).

// Note [Event order]
// `seq` comes from one sequence (CACHE 1: a drawn value is at most the sequence's last_value), but
// transactions commit in any order, so a reader must not pass a seq that a transaction still in
// flight may commit. Each insert transaction first takes a shared transaction-level advisory lock
// (two-int4 form, a key space no other lock here uses) keyed by the next value of the sequence,
// before it draws its seqs, and holds it to its commit: its seqs are all ≥ its key. A reader
// (stableSeq) reads (a) the sequence's last_value W, then (b) the least key K in pg_locks, then
// reads its rows with seq ≤ min(W, K - 1) in a later statement. Every seq ≤ W was drawn before (a),
// so its transaction held its lock at (a); at (b) it either still holds it (then K ≤ that seq) or
// has ended, and a transaction is visible to new snapshots before it releases its locks. So a
// reader that has seen seq N has seen every event that will ever be committed below N: keyset
// pages and stream resumption by seq neither skip nor repeat events, with several replicas
// inserting at once. A lock taken by something else in that key space only delays readers.
@Injectable()
export class EventsRepository {
  constructor(@Inject(EVENT_LOG_DB) private readonly db: DataSource) {}

  /**
   * Inserts a batch; an event whose (source, id) is already known is skipped whatever its time
   * (see Note [Event identity]). Returns how many were stored and the highest seq.
   *
   * @param json each event's JSON text when the caller has it (a message body as received): stored
   *   as is instead of serialising the event again.
   */
  async insertBatch(
    events: CloudEvent[],
    json?: string[],
  ): Promise<{ stored: number; maxSeq?: string }> {
    if (!events.length) return { stored: 0 };
    // One statement outside a transaction block: its own transaction (Note [Group commit]).
    return this.insertIn(this.db, events, json);
  }

  /**
   * insertBatch's statement, in the caller's transaction if it has one: see Note [Group commit]
   * and Note [Event order].
   */
  async insertIn(
    tx: Db,
    events: CloudEvent[],
    json?: string[],
  ): Promise<{ stored: number; maxSeq?: string }> {
    if (!events.length) return { stored: 0 };
    // Each distinct identity once (the first), in arrival order, as JSON text.
    const firsts = new Map<string, string>();
    events.forEach((e, i) => {
      const key = `${e.source}\u0000${e.id}`;
      if (!firsts.has(key)) firsts.set(key, json?.[i] ?? JSON.stringify(e));
    });
    // One statement, one jsonb array parameter (Note [Group commit]). `l` takes the in-flight
    // mark (Note [Event order]) before any seq is drawn: every row of `x` joins its one row, and
    // every insert reads from `x`. The identities are claimed in key order (two transactions
    // claiming overlapping identities wait for each other in the same order instead of
    // deadlocking), and the events whose identity this statement claimed are inserted in arrival
    // order, which is the order of their seqs, with no ON CONFLICT of their own (see Note [Event
    // identity]).
    const [r]: { n: number; max: string | null }[] = await tx.query(
      `WITH l AS MATERIALIZED (
         SELECT pg_advisory_xact_lock_shared((k >> 31)::int, (k & 2147483647)::int)
         FROM (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END AS k
               FROM event_log.events_seq) s),
       x AS MATERIALIZED (
         SELECT e, n, e->>'source' AS s, e->>'id' AS i
         FROM l, jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n)),
       c AS (
         INSERT INTO event_log.event_ids (source, id, time)
         SELECT s, i, (e->>'time')::timestamptz FROM x ORDER BY s COLLATE "C", i COLLATE "C"
         ON CONFLICT DO NOTHING
         RETURNING source, id),
       ins AS (
         INSERT INTO event_log.events (id, source, type, subject, time, event, project)
         SELECT x.i, x.s, e->>'type', e->>'subject', (e->>'time')::timestamptz, e,
           COALESCE(e->>'project', e->'data'->>'project')
         FROM x JOIN c ON c.source = x.s AND c.id = x.i ORDER BY x.n
         RETURNING seq)
       SELECT count(*)::int AS n, max(seq)::text AS max FROM ins`,
      [`[${[...firsts.values()].join(',')}]`],
    );
    return { stored: r?.n ?? 0, maxSeq: r?.max ?? undefined };
  }

  /**
   * The highest seq below which every event is committed (or will never be): see Note [Event
   * order]. Readers read up to it only; the two statements run in this order, and the caller's
   * read after them.
   */
  async stableSeq(): Promise<string> {
    const [{ w }] = (await this.db.query(
      `SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::text AS w FROM event_log.events_seq`,
    )) as { w: string }[];
    const [{ m }] = (await this.db.query(
      `SELECT min((classid::bigint << 31) | objid::bigint)::text AS m FROM pg_locks
       WHERE locktype = 'advisory' AND objsubid = 2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    )) as { m: string | null }[];
    const bound = m === null ? BigInt(w) : min(BigInt(w), BigInt(m) - 1n);
    return bound.toString();
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
    // see Note [Event order]: nothing beyond the stable seq, read before this statement.
    where.push(`seq <= ${p(await this.stableSeq())}::bigint`);
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

  /** Where "from now on" starts: the stable seq (Note [Event order]). */
  async maxSeq(): Promise<string> {
    return this.stableSeq();
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

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
