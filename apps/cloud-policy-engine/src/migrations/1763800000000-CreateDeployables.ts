import { MigrationInterface, QueryRunner } from 'typeorm';
import { busTablesSql } from '@nephele/bus';

export class CreateDeployables1763800000000 implements MigrationInterface {
  name = 'CreateDeployables1763800000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of busTablesSql('cpe')) await q.query(sql);
    await q.query(`
      CREATE TABLE cpe.deployables (
        id uuid PRIMARY KEY,
        project text NOT NULL,
        name text NOT NULL,
        desired text NOT NULL DEFAULT 'started',
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project, name))`);
    await q.query(`
      CREATE TABLE cpe.deployable_versions (
        deployable_id uuid NOT NULL REFERENCES cpe.deployables(id) ON DELETE CASCADE,
        version int NOT NULL,
        format text NOT NULL,
        source text NOT NULL,
        document jsonb NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (deployable_id, version))`);
    await q.query(`
      CREATE TABLE cpe.dpe_registry (
        deployable_id uuid PRIMARY KEY REFERENCES cpe.deployables(id) ON DELETE CASCADE,
        epoch int NOT NULL DEFAULT 0,
        worker_id text,
        pid int,
        runtime text,
        state text NOT NULL DEFAULT 'none',
        restarts int NOT NULL DEFAULT 0,
        started_at timestamptz,
        next_start_at timestamptz,
        last_reason text)`);
    await q.query(`
      CREATE TABLE cpe.dpe_state (
        deployable_id uuid PRIMARY KEY REFERENCES cpe.deployables(id) ON DELETE CASCADE,
        epoch int NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`
      CREATE TABLE cpe.deployable_live (
        deployable_id uuid PRIMARY KEY REFERENCES cpe.deployables(id) ON DELETE CASCADE,
        epoch int NOT NULL,
        status text NOT NULL,
        reason text,
        observed jsonb,
        updated_at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE cpe.deployable_live, cpe.dpe_state, cpe.dpe_registry, cpe.deployable_versions, cpe.deployables`,
    );
  }
}
