import { MigrationInterface, QueryRunner } from 'typeorm';
import { busTablesSql } from '@nephele/bus';

/**
 * Feeds (configuration, versioned for ETags), their cursors (poll state, leases and backoff, kept
 * apart so polling never bumps a feed's version) and the entry ids seen per feed (dedupe window).
 */
export class CreateFeeds1764547200000 implements MigrationInterface {
  name = 'CreateFeeds1764547200000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of busTablesSql('feed_poller')) await q.query(sql);
    await q.query(`
      CREATE TABLE feed_poller.feeds (
        id uuid PRIMARY KEY,
        project text,
        name text NOT NULL,
        url text NOT NULL,
        interval_ms integer NOT NULL,
        page_limit integer NOT NULL,
        enabled boolean NOT NULL,
        start_at text NOT NULL,
        credentials jsonb,
        provider_account_id text,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE UNIQUE INDEX feeds_project_name ON feed_poller.feeds (coalesce(project, ''), name)`,
    );
    await q.query(`CREATE INDEX feeds_project_id ON feed_poller.feeds (project, id)`);
    await q.query(`
      CREATE TABLE feed_poller.cursors (
        feed_id uuid PRIMARY KEY REFERENCES feed_poller.feeds (id) ON DELETE CASCADE,
        marker text,
        next_poll_at timestamptz NOT NULL DEFAULT now(),
        failures integer NOT NULL DEFAULT 0,
        last_error text,
        last_polled_at timestamptz,
        last_success_at timestamptz,
        entries_published bigint NOT NULL DEFAULT 0,
        lease_owner text,
        lease_until timestamptz)`);
    await q.query(`CREATE INDEX cursors_due ON feed_poller.cursors (next_poll_at)`);
    await q.query(`
      CREATE TABLE feed_poller.seen_entries (
        feed_id uuid NOT NULL REFERENCES feed_poller.feeds (id) ON DELETE CASCADE,
        entry_id text NOT NULL,
        event_id uuid NOT NULL,
        seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (feed_id, entry_id))`);
    await q.query(`CREATE INDEX seen_entries_seen_at ON feed_poller.seen_entries (seen_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE feed_poller.seen_entries`);
    await q.query(`DROP TABLE feed_poller.cursors`);
    await q.query(`DROP TABLE feed_poller.feeds`);
  }
}
