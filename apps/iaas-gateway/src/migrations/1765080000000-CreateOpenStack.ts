import { MigrationInterface, QueryRunner } from 'typeorm';

/** The OpenStack-compatible API's own state: server extras, keypairs and Heat stacks. */
export class CreateOpenStack1765080000000 implements MigrationInterface {
  name = 'CreateOpenStack1765080000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE iaas_gateway.os_servers (
        instance_id uuid PRIMARY KEY,
        project text NOT NULL,
        pool_id text NOT NULL,
        name text NOT NULL,
        image_id text NOT NULL,
        flavor_id text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        key_name text,
        stack_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz)`);
    await q.query(
      `CREATE INDEX os_servers_pool_idx ON iaas_gateway.os_servers (pool_id) WHERE deleted_at IS NULL`,
    );
    await q.query(`
      CREATE TABLE iaas_gateway.os_keypairs (
        project text NOT NULL,
        name text NOT NULL,
        public_key text NOT NULL,
        fingerprint text NOT NULL,
        type text NOT NULL DEFAULT 'ssh',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project, name))`);
    await q.query(`
      CREATE TABLE iaas_gateway.stacks (
        id uuid PRIMARY KEY,
        project text NOT NULL,
        pool_id text NOT NULL,
        name text NOT NULL,
        template jsonb NOT NULL,
        parameters jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL,
        status_reason text NOT NULL DEFAULT '',
        resources jsonb NOT NULL DEFAULT '{}',
        outputs jsonb NOT NULL DEFAULT '[]',
        events jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz)`);
    await q.query(
      `CREATE UNIQUE INDEX stacks_live_name_idx ON iaas_gateway.stacks (project, name) WHERE deleted_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE iaas_gateway.stacks`);
    await q.query(`DROP TABLE iaas_gateway.os_keypairs`);
    await q.query(`DROP TABLE iaas_gateway.os_servers`);
  }
}
