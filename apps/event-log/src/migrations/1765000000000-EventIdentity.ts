import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An event's identity is (`source`, `id`) whatever its `time` (CloudEvents; see Note [Event
 * identity]). A partitioned table can only enforce keys that include the partition key, so the
 * identity lives in a small unpartitioned table of its own, with the same retention as the events.
 * The events' primary key becomes (id, time, source): two sources may use the same id.
 */
export class EventIdentity1765000000000 implements MigrationInterface {
  name = 'EventIdentity1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS event_log.event_ids (
        source text NOT NULL,
        id text NOT NULL,
        time timestamptz NOT NULL,
        PRIMARY KEY (source, id))`);
    await q.query(`CREATE INDEX IF NOT EXISTS event_ids_time_idx ON event_log.event_ids (time)`);
    await q.query(
      `INSERT INTO event_log.event_ids (source, id, time)
       SELECT source, id, min(time) FROM event_log.events GROUP BY source, id
       ON CONFLICT DO NOTHING`,
    );
    await q.query(`ALTER TABLE event_log.events DROP CONSTRAINT IF EXISTS events_pkey`);
    await q.query(`ALTER TABLE event_log.events ADD PRIMARY KEY (id, time, source)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE event_log.events DROP CONSTRAINT IF EXISTS events_pkey`);
    await q.query(`ALTER TABLE event_log.events ADD PRIMARY KEY (id, time)`);
    await q.query(`DROP TABLE event_log.event_ids`);
  }
}
