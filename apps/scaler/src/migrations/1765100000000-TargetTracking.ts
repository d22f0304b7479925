import { MigrationInterface, QueryRunner } from 'typeorm';

/** Target-tracking policies: their remembered recommendations, metric observations, Prometheus sources. */
export class TargetTracking1765100000000 implements MigrationInterface {
  name = 'TargetTracking1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE scaler.policies ADD COLUMN target_state jsonb`);
    await q.query(`CREATE INDEX policies_target_idx ON scaler.policies (group_id) WHERE type = 'target'`);
    await q.query(`ALTER TABLE scaler.groups ADD COLUMN metric_sources jsonb NOT NULL DEFAULT '[]'`);
    // The latest value of each metric of each group (target tracking needs no history).
    await q.query(`
      CREATE TABLE scaler.metric_observations (
        group_id uuid NOT NULL REFERENCES scaler.groups(id) ON DELETE CASCADE,
        metric text NOT NULL,
        value double precision NOT NULL,
        observed_at timestamptz NOT NULL,
        source text NOT NULL,
        PRIMARY KEY (group_id, metric))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE scaler.metric_observations`);
    await q.query(`ALTER TABLE scaler.groups DROP COLUMN metric_sources`);
    await q.query(`DROP INDEX scaler.policies_target_idx`);
    await q.query(`ALTER TABLE scaler.policies DROP COLUMN target_state`);
  }
}
