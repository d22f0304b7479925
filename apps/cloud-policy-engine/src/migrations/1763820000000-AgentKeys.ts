import { MigrationInterface, QueryRunner } from 'typeorm';

/** Each deployable's agent key (Note [Agent identity] in @nephele/contracts); set lazily for old rows. */
export class AgentKeys1763820000000 implements MigrationInterface {
  name = 'AgentKeys1763820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cpe.deployables ADD COLUMN agent_key text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cpe.deployables DROP COLUMN agent_key`);
  }
}
