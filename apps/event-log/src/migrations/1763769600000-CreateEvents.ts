import { MigrationInterface, QueryRunner } from 'typeorm';
import { busTablesSql } from '@nephele/bus';

/**
 * The events table, partitioned by day on the event's time. Uniqueness is (id, time): a partitioned
 * table can only enforce keys that include the partition key, and a redelivered event carries the
 * same id and time, so duplicates are refused exactly. `seq` orders events for keyset pagination
 * and stream resumption (see Note [Event order]).
 */
export class CreateEvents1763769600000 implements MigrationInterface {
  name = 'CreateEvents1763769600000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of busTablesSql('event_log')) await q.query(sql);
    await q.query(`CREATE SEQUENCE IF NOT EXISTS event_log.events_seq`);
    await q.query(`
      CREATE TABLE event_log.events (
        seq bigint NOT NULL DEFAULT nextval('event_log.events_seq'),
        id text NOT NULL,
        source text NOT NULL,
        type text NOT NULL,
        subject text,
        time timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        event jsonb NOT NULL,
        PRIMARY KEY (id, time)
      ) PARTITION BY RANGE (time)`);
    await q.query(`CREATE TABLE event_log.events_default PARTITION OF event_log.events DEFAULT`);
    await q.query(`CREATE INDEX events_seq_idx ON event_log.events (seq)`);
    await q.query(`CREATE INDEX events_type_seq_idx ON event_log.events (type text_pattern_ops, seq)`);
    await q.query(`CREATE INDEX events_subject_seq_idx ON event_log.events (subject, seq)`);
    await q.query(`CREATE INDEX events_time_idx ON event_log.events (time)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_log.events`);
    await q.query(`DROP SEQUENCE event_log.events_seq`);
  }
}
