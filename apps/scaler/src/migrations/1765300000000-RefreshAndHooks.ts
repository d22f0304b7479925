import { MigrationInterface, QueryRunner } from 'typeorm';

/** Instance refreshes (Note [Instance refresh]) and lifecycle hooks (Note [Lifecycle hooks]). */
export class RefreshAndHooks1765300000000 implements MigrationInterface {
  name = 'RefreshAndHooks1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scaler.refreshes (
        id uuid PRIMARY KEY,
        group_id uuid NOT NULL REFERENCES scaler.groups(id) ON DELETE CASCADE,
        status text NOT NULL,
        spec jsonb NOT NULL,
        from_version int NOT NULL,
        to_version int NOT NULL,
        from_launch_config jsonb NOT NULL,
        batch jsonb,
        batches int NOT NULL DEFAULT 0,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    // At most one refresh in flight per group.
    await q.query(
      `CREATE UNIQUE INDEX refreshes_one_active ON scaler.refreshes (group_id)
       WHERE status IN ('running', 'paused', 'rolling-back')`,
    );
    await q.query(`CREATE INDEX refreshes_group ON scaler.refreshes (group_id, created_at DESC)`);
    await q.query(`ALTER TABLE scaler.groups ADD COLUMN lifecycle_hooks jsonb NOT NULL DEFAULT '[]'`);
    // Servers that exist before this migration are in service; new ones start 'pending'.
    await q.query(`ALTER TABLE scaler.servers ADD COLUMN lifecycle text NOT NULL DEFAULT 'in-service'`);
    await q.query(`ALTER TABLE scaler.servers ADD COLUMN hook_wait jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE scaler.servers DROP COLUMN hook_wait, DROP COLUMN lifecycle`);
    await q.query(`ALTER TABLE scaler.groups DROP COLUMN lifecycle_hooks`);
    await q.query(`DROP TABLE scaler.refreshes`);
  }
}
