import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SqlRepository, Tx } from '@nephele/persistence';
import { CONFIG_API_DB } from '../config-api.tokens';

/** The accounts of a pool family (its join table) and what the hardware matcher reads of a pool. */
@Injectable()
export class PoolFamiliesRepository extends SqlRepository {
  constructor(@Inject(CONFIG_API_DB) db: DataSource) {
    super(db);
  }

  /** Replaces the family's accounts with `accountIds`. */
  async setAccounts(tx: Tx, familyId: string, accountIds: string[]): Promise<void> {
    await tx.query(`DELETE FROM config_api.pool_family_accounts WHERE family_id = $1`, [familyId]);
    if (accountIds.length) {
      await tx.query(
        `INSERT INTO config_api.pool_family_accounts (family_id, account_id) SELECT $1, unnest($2::uuid[])`,
        [familyId, accountIds],
      );
    }
  }

  async pool(poolId: string): Promise<{ family_id: string; project_id: string } | undefined> {
    const rows: { family_id: string; project_id: string }[] = await this.db.query(
      `SELECT family_id, project_id FROM config_api.pools WHERE id = $1`,
      [poolId],
    );
    return rows[0];
  }

  /** The family's accounts with their provider, by account id. */
  async familyAccounts(familyId: string): Promise<{ id: string; provider_id: string; enabled: boolean }[]> {
    return this.db.query(
      `SELECT a.id, a.provider_id, a.enabled FROM config_api.pool_family_accounts fa
       JOIN config_api.provider_accounts a ON a.id = fa.account_id WHERE fa.family_id = $1 ORDER BY a.id`,
      [familyId],
    );
  }
}
