import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateClusters1763810000000 implements MigrationInterface {
  name = 'CreateClusters1763810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cpe.clusters (
        id uuid PRIMARY KEY,
        project text NOT NULL,
        name text NOT NULL,
        appliance_id text NOT NULL,
        appliance_name text NOT NULL,
        implementation_id text NOT NULL,
        template_version text NOT NULL,
        deployable_id uuid REFERENCES cpe.deployables(id) ON DELETE SET NULL,
        parameters jsonb NOT NULL,
        outputs jsonb NOT NULL DEFAULT '[]',
        credentials jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project, name))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cpe.clusters`);
  }
}
