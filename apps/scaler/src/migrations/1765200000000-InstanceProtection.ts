import { MigrationInterface, QueryRunner } from 'typeorm';

/** Instance protection, detached servers, launch-config versions and the group's termination policy. */
export class InstanceProtection1765200000000 implements MigrationInterface {
  name = 'InstanceProtection1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE scaler.servers ADD COLUMN protected boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE scaler.servers ADD COLUMN detached boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE scaler.servers ADD COLUMN launch_version int NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE scaler.groups ADD COLUMN launch_version int NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE scaler.groups ADD COLUMN termination_policy text NOT NULL DEFAULT 'oldest'`);
    await q.query(`ALTER TABLE scaler.groups ADD COLUMN termination_webhook jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE scaler.groups DROP COLUMN termination_webhook, DROP COLUMN termination_policy, DROP COLUMN launch_version`,
    );
    await q.query(
      `ALTER TABLE scaler.servers DROP COLUMN launch_version, DROP COLUMN detached, DROP COLUMN protected`,
    );
  }
}
