import { MigrationInterface, QueryRunner } from 'typeorm';
import { busTablesSql } from '@nephele/bus';

export class CreateInstances1763780000000 implements MigrationInterface {
  name = 'CreateInstances1763780000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of busTablesSql('state_tracker')) await q.query(sql);
    await q.query(`
      CREATE TABLE state_tracker.instances (
        id uuid PRIMARY KEY,
        owner text NOT NULL,
        project text,
        pool text,
        provider_account_id text NOT NULL,
        provider_instance_id text,
        idempotency_key text UNIQUE,
        name text,
        image text,
        hardware_profile text,
        state text NOT NULL,
        addresses jsonb NOT NULL DEFAULT '[]',
        reason text,
        last_seen timestamptz,
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE UNIQUE INDEX instances_provider_idx ON state_tracker.instances (provider_account_id, provider_instance_id)`,
    );
    await q.query(`CREATE INDEX instances_owner_idx ON state_tracker.instances (owner)`);
    await q.query(
      `CREATE INDEX instances_live_idx ON state_tracker.instances (provider_account_id) WHERE state <> 'terminated'`,
    );
    await q.query(`
      CREATE TABLE state_tracker.instance_history (
        seq bigserial PRIMARY KEY,
        instance_id uuid NOT NULL REFERENCES state_tracker.instances(id) ON DELETE CASCADE,
        from_state text,
        to_state text NOT NULL,
        reason text NOT NULL,
        source text NOT NULL,
        at timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE INDEX instance_history_instance_idx ON state_tracker.instance_history (instance_id, seq)`,
    );
    await q.query(`
      CREATE TABLE state_tracker.orphans (
        provider_account_id text NOT NULL,
        provider_instance_id text NOT NULL,
        first_seen timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (provider_account_id, provider_instance_id))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE state_tracker.orphans, state_tracker.instance_history, state_tracker.instances`,
    );
  }
}
