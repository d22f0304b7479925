import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The project an event belongs to (its `project` extension attribute, else `data.project`), so a
 * project's tokens read only their project's events. Events without one are visible to admins only.
 */
export class EventProject1763900000000 implements MigrationInterface {
  name = 'EventProject1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE event_log.events ADD COLUMN IF NOT EXISTS project text`);
    await q.query(
      `UPDATE event_log.events SET project = COALESCE(event->>'project', event->'data'->>'project') WHERE project IS NULL`,
    );
    await q.query(`CREATE INDEX IF NOT EXISTS events_project_seq_idx ON event_log.events (project, seq)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE event_log.events DROP COLUMN project`);
  }
}
