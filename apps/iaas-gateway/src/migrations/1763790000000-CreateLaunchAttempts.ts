import { MigrationInterface, QueryRunner } from 'typeorm';
import { busTablesSql } from '@nephele/bus';

export class CreateLaunchAttempts1763790000000 implements MigrationInterface {
  name = 'CreateLaunchAttempts1763790000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of busTablesSql('iaas_gateway')) await q.query(sql);
    await q.query(`
      CREATE TABLE iaas_gateway.launch_attempts (
        idempotency_key text PRIMARY KEY,
        instance_id uuid NOT NULL UNIQUE,
        owner text NOT NULL,
        project text,
        pool_id text,
        family_id text,
        account_id text,
        provider_instance_id text,
        image_id text,
        hardware_profile_id text,
        cores int NOT NULL DEFAULT 0,
        memory_mb int NOT NULL DEFAULT 0,
        status text NOT NULL,
        reason text,
        epoch int,
        name text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE INDEX launch_attempts_live_idx ON iaas_gateway.launch_attempts (account_id) WHERE status = 'launched'`,
    );
    await q.query(`
      CREATE TABLE iaas_gateway.owner_epochs (
        owner_key text PRIMARY KEY,
        epoch int NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`
      CREATE TABLE iaas_gateway.account_failures (
        seq bigserial PRIMARY KEY,
        account_id text NOT NULL,
        reason text NOT NULL,
        at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX account_failures_idx ON iaas_gateway.account_failures (account_id, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE iaas_gateway.account_failures, iaas_gateway.owner_epochs, iaas_gateway.launch_attempts`,
    );
  }
}
