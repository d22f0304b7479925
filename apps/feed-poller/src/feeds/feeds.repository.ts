import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { FEED_POLLER_DB } from '../feed-poller.tokens';
import { returnedRows } from '@nephele/persistence';
import { CursorRow, FeedRow } from './feed.types';

const FEED_COLUMNS = `f.id, f.project, f.name, f.url, f.interval_ms AS "intervalMs", f.page_limit AS "pageLimit",
  f.enabled, f.start_at AS "startAt", f.credentials, f.provider_account_id AS "providerAccountId",
  f.version, f.created_at AS "createdAt", f.updated_at AS "updatedAt"`;
const CURSOR_COLUMNS = `c.marker, c.next_poll_at AS "nextPollAt", c.failures, c.last_error AS "lastError",
  c.last_polled_at AS "lastPolledAt", c.last_success_at AS "lastSuccessAt",
  c.entries_published::int AS "entriesPublished"`;

export type FeedWithCursor = FeedRow & { cursor: CursorRow };

type Joined = FeedRow & CursorRow;

function split(r: Joined): FeedWithCursor {
  const { marker, nextPollAt, failures, lastError, lastPolledAt, lastSuccessAt, entriesPublished, ...feed } =
    r;
  return {
    ...feed,
    cursor: { marker, nextPollAt, failures, lastError, lastPolledAt, lastSuccessAt, entriesPublished },
  };
}

/** Runs inside a change's transaction, after the change (the audit record goes in with it). */
export type InTransaction = (tx: EntityManager, feed: FeedWithCursor) => Promise<void>;

/** A feed as created: every column but the ones the database keeps. */
export type NewFeed = Omit<FeedRow, 'version' | 'createdAt' | 'updatedAt'>;

/** Feed configuration I/O. Unique-name conflicts surface as PostgreSQL error 23505. */
@Injectable()
export class FeedsRepository {
  constructor(@Inject(FEED_POLLER_DB) private readonly db: DataSource) {}

  /** Inserts a feed with its cursor; undefined when the project already has a feed of that name. */
  async insert(f: NewFeed, inTx?: InTransaction): Promise<FeedWithCursor | undefined> {
    return this.db.transaction(async (tx) => {
      const inserted = (await tx.query(
        `INSERT INTO feed_poller.feeds (id, project, name, url, interval_ms, page_limit, enabled, start_at,
           credentials, provider_account_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
         ON CONFLICT DO NOTHING RETURNING id`,
        [
          f.id,
          f.project,
          f.name,
          f.url,
          f.intervalMs,
          f.pageLimit,
          f.enabled,
          f.startAt,
          f.credentials ? JSON.stringify(f.credentials) : null,
          f.providerAccountId,
        ],
      )) as unknown[];
      if (!inserted.length) return undefined;
      await tx.query(`INSERT INTO feed_poller.cursors (feed_id) VALUES ($1)`, [f.id]);
      const created = (await this.findIn(tx, f.id))!;
      await inTx?.(tx, created);
      return created;
    });
  }

  async find(id: string, project?: string): Promise<FeedWithCursor | undefined> {
    return this.findIn(this.db, id, project);
  }

  private async findIn(
    q: { query(sql: string, params?: unknown[]): Promise<unknown> },
    id: string,
    project?: string,
  ): Promise<FeedWithCursor | undefined> {
    const params: unknown[] = [id];
    let where = 'f.id = $1';
    if (project !== undefined) {
      params.push(project);
      where += ' AND f.project = $2';
    }
    const rows = (await q.query(
      `SELECT ${FEED_COLUMNS}, ${CURSOR_COLUMNS}
       FROM feed_poller.feeds f JOIN feed_poller.cursors c ON c.feed_id = f.id WHERE ${where}`,
      params,
    )) as Joined[];
    return rows[0] ? split(rows[0]) : undefined;
  }

  /** Keyset page ordered by id. */
  async list(opts: { project?: string; afterId?: string; limit: number }): Promise<FeedWithCursor[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.project !== undefined) {
      params.push(opts.project);
      where.push(`f.project = $${params.length}`);
    }
    if (opts.afterId !== undefined) {
      params.push(opts.afterId);
      where.push(`f.id > $${params.length}`);
    }
    params.push(opts.limit);
    const rows = (await this.db.query(
      `SELECT ${FEED_COLUMNS}, ${CURSOR_COLUMNS}
       FROM feed_poller.feeds f JOIN feed_poller.cursors c ON c.feed_id = f.id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY f.id LIMIT $${params.length}`,
      params,
    )) as Joined[];
    return rows.map(split);
  }

  /**
   * Applies a change if the version still matches (optimistic concurrency). Returns undefined when
   * the row changed meanwhile. A new URL resets the cursor (its markers mean nothing elsewhere);
   * enabling or a new interval makes the feed due now.
   */
  async update(
    id: string,
    version: number,
    patch: Partial<Omit<NewFeed, 'id' | 'project'>>,
    resetCursor: boolean,
    pollNow: boolean,
    inTx?: InTransaction,
  ): Promise<FeedWithCursor | undefined> {
    const cols: Record<string, string> = {
      name: 'name',
      url: 'url',
      intervalMs: 'interval_ms',
      pageLimit: 'page_limit',
      enabled: 'enabled',
      startAt: 'start_at',
      credentials: 'credentials',
      providerAccountId: 'provider_account_id',
    };
    const sets: string[] = [];
    const params: unknown[] = [id, version];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || !(k in cols)) continue;
      params.push(k === 'credentials' && v !== null ? JSON.stringify(v) : v);
      sets.push(`${cols[k]} = $${params.length}${k === 'credentials' ? '::jsonb' : ''}`);
    }
    return this.db.transaction(async (tx) => {
      const rows = returnedRows(
        await tx.query(
          `UPDATE feed_poller.feeds SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')}
           WHERE id = $1 AND version = $2 RETURNING id`,
          params,
        ),
      );
      if (!rows.length) return undefined;
      if (resetCursor) {
        await tx.query(
          `UPDATE feed_poller.cursors SET marker = NULL, failures = 0, last_error = NULL, next_poll_at = now()
           WHERE feed_id = $1`,
          [id],
        );
      } else if (pollNow) {
        await tx.query(
          `UPDATE feed_poller.cursors SET next_poll_at = now(), failures = 0 WHERE feed_id = $1`,
          [id],
        );
      }
      const updated = await this.findIn(tx, id);
      if (updated) await inTx?.(tx, updated);
      return updated;
    });
  }

  async delete(feed: FeedWithCursor, version?: number, inTx?: InTransaction): Promise<boolean> {
    const params: unknown[] = [feed.id];
    let where = 'id = $1';
    if (version !== undefined) {
      params.push(version);
      where += ' AND version = $2';
    }
    return this.db.transaction(async (tx) => {
      const r: unknown = await tx.query(`DELETE FROM feed_poller.feeds WHERE ${where} RETURNING id`, params);
      if (!returnedRows(r).length) return false;
      await inTx?.(tx, feed);
      return true;
    });
  }
}
