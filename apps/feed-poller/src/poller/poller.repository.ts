import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FEED_POLLER_DB } from '../feed-poller.tokens';
import { returnedRows } from '@nephele/persistence';

// Note [Feed leases]
// One replica polls a feed at a time. A replica claims due feeds with one UPDATE over a
// `FOR UPDATE SKIP LOCKED` selection, writing its owner id and a lease end (database clock, so
// replicas need not agree on time). Every page renews the lease, every commit checks it is still
// the owner, and the poll ends by clearing it with the next poll time. A replica that dies (even
// SIGKILL) leaves a lease that simply runs out: another replica, or the same one restarted, takes
// the feed over after FEED_POLLER_LEASE_MS. A replica that stalls past its lease finds its commit
// refused (owner changed) and stops: it cannot move a cursor it no longer owns.

/** The lease was lost to another replica (or the feed was deleted) while polling. */
export class LeaseLost extends Error {
  constructor(feedId: string) {
    super(`lease on feed ${feedId} lost`);
    this.name = 'LeaseLost';
  }
}

export interface ClaimedFeed {
  feedId: string;
}

/** Poll state I/O: leases, cursor commits, the seen-entries dedupe window. */
@Injectable()
export class PollerRepository {
  constructor(@Inject(FEED_POLLER_DB) private readonly db: DataSource) {}

  /** Claims up to `limit` due, enabled, unleased feeds for `owner` (see Note [Feed leases]). */
  async claimDue(owner: string, leaseMs: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const rows = returnedRows<{ feedId: string }>(
      await this.db.query(
        `UPDATE feed_poller.cursors c
         SET lease_owner = $1, lease_until = now() + make_interval(secs => $2::double precision / 1000)
         FROM (
           SELECT c2.feed_id FROM feed_poller.cursors c2 JOIN feed_poller.feeds f ON f.id = c2.feed_id
           WHERE f.enabled AND c2.next_poll_at <= now()
             AND (c2.lease_until IS NULL OR c2.lease_until < now())
           ORDER BY c2.next_poll_at
           LIMIT $3
           FOR UPDATE OF c2 SKIP LOCKED) due
         WHERE c.feed_id = due.feed_id
         RETURNING c.feed_id AS "feedId"`,
        [owner, leaseMs, limit],
      ),
    );
    return rows.map((r) => r.feedId);
  }

  /** Extends the lease; false when it is no longer ours. */
  async renew(feedId: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = returnedRows(
      await this.db.query(
        `UPDATE feed_poller.cursors
         SET lease_until = now() + make_interval(secs => $3::double precision / 1000)
         WHERE feed_id = $1 AND lease_owner = $2 RETURNING feed_id`,
        [feedId, owner, leaseMs],
      ),
    );
    return rows.length > 0;
  }

  /** The entry ids among `entryIds` already published for this feed. */
  async seen(feedId: string, entryIds: string[]): Promise<Set<string>> {
    if (!entryIds.length) return new Set();
    const rows: { entryId: string }[] = await this.db.query(
      `SELECT entry_id AS "entryId" FROM feed_poller.seen_entries WHERE feed_id = $1 AND entry_id = ANY($2::text[])`,
      [feedId, entryIds],
    );
    return new Set(rows.map((r) => r.entryId));
  }

  /**
   * After the broker confirmed a batch: records its entries as seen and moves the cursor to the
   * newest entry of the page, in one transaction, only while `owner` holds the lease.
   */
  async commitBatch(
    feedId: string,
    owner: string,
    leaseMs: number,
    marker: string,
    published: { entryId: string; eventId: string }[],
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = returnedRows(
        await tx.query(
          `UPDATE feed_poller.cursors
           SET marker = $3, entries_published = entries_published + $4,
               lease_until = now() + make_interval(secs => $5::double precision / 1000)
           WHERE feed_id = $1 AND lease_owner = $2 RETURNING feed_id`,
          [feedId, owner, marker, published.length, leaseMs],
        ),
      );
      if (!rows.length) throw new LeaseLost(feedId);
      if (published.length) {
        await tx.query(
          `INSERT INTO feed_poller.seen_entries (feed_id, entry_id, event_id)
           SELECT $1, e, v::uuid FROM unnest($2::text[], $3::text[]) AS x(e, v)
           ON CONFLICT DO NOTHING`,
          [feedId, published.map((p) => p.entryId), published.map((p) => p.eventId)],
        );
      }
    });
  }

  /** Ends a poll: releases the lease and schedules the next one `delayMs` from now. */
  async finish(
    feedId: string,
    owner: string,
    outcome: { ok: true; delayMs: number } | { ok: false; delayMs: number; failures: number; error: string },
  ): Promise<void> {
    if (outcome.ok) {
      await this.db.query(
        `UPDATE feed_poller.cursors
         SET lease_owner = NULL, lease_until = NULL, failures = 0, last_error = NULL,
             last_polled_at = now(), last_success_at = now(),
             next_poll_at = now() + make_interval(secs => $3::double precision / 1000)
         WHERE feed_id = $1 AND lease_owner = $2`,
        [feedId, owner, outcome.delayMs],
      );
    } else {
      await this.db.query(
        `UPDATE feed_poller.cursors
         SET lease_owner = NULL, lease_until = NULL, failures = $3, last_error = $4, last_polled_at = now(),
             next_poll_at = now() + make_interval(secs => $5::double precision / 1000)
         WHERE feed_id = $1 AND lease_owner = $2`,
        [feedId, owner, outcome.failures, outcome.error.slice(0, 2000), outcome.delayMs],
      );
    }
  }

  /** Releases every lease this owner holds (clean shutdown), leaving schedules unchanged. */
  async releaseAll(owner: string): Promise<void> {
    await this.db.query(
      `UPDATE feed_poller.cursors SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`,
      [owner],
    );
  }

  async purgeSeen(olderThanDays: number): Promise<void> {
    await this.db.query(
      `DELETE FROM feed_poller.seen_entries WHERE seen_at < now() - make_interval(days => $1::int)`,
      [olderThanDays],
    );
  }
}
