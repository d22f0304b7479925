import { MigrationInterface, QueryRunner } from 'typeorm';

/** Each account's last poll: when its list was taken and which live instances it lacked (Note [Poll cost]). */
export class AccountPolls1796650000000 implements MigrationInterface {
  name = 'AccountPolls1796650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE state_tracker.account_polls (
        provider_account_id text PRIMARY KEY,
        listed_at timestamptz NOT NULL,
        unlisted text[] NOT NULL DEFAULT '{}')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE state_tracker.account_polls`);
  }
}
