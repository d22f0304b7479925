import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SealedSecret } from '@nephele/crypto';
import { Db, SqlRepository, Tx } from '@nephele/persistence';
import { CONFIG_API_DB } from '../config-api.tokens';

/** Provider accounts' sealed credentials and the driver kind behind an account or provider. */
@Injectable()
export class ProviderAccountsRepository extends SqlRepository {
  constructor(@Inject(CONFIG_API_DB) db: DataSource) {
    super(db);
  }

  async credentials(
    accountId: string,
  ): Promise<{ provider_id: string; credentials: SealedSecret | null } | undefined> {
    const rows: { provider_id: string; credentials: SealedSecret | null }[] = await this.db.query(
      `SELECT provider_id, credentials FROM config_api.provider_accounts WHERE id = $1`,
      [accountId],
    );
    return rows[0];
  }

  /** The driver kind of a provider (see Note [Host drivers]). */
  async providerKind(db: Db, providerId: string): Promise<string | undefined> {
    const rows: { kind: string }[] = await db.query(`SELECT kind FROM config_api.providers WHERE id = $1`, [
      providerId,
    ]);
    return rows[0]?.kind;
  }

  /** The driver kind of an account's provider (see Note [Host drivers]). */
  async accountProviderKind(db: Db, accountId: string): Promise<string | undefined> {
    const rows: { kind: string }[] = await db.query(
      `SELECT p.kind FROM config_api.provider_accounts a JOIN config_api.providers p ON p.id = a.provider_id
       WHERE a.id = $1`,
      [accountId],
    );
    return rows[0]?.kind;
  }

  /** How many accounts' credentials are sealed under the key `kid`. */
  async countSealedWith(kid: string): Promise<number> {
    const rows: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM config_api.provider_accounts
       WHERE credentials IS NOT NULL AND credentials->>'kid' = $1`,
      [kid],
    );
    return rows[0]!.n;
  }

  /** Up to `limit` accounts sealed under another key than `kid` (except `skip`), locked for update. */
  async lockSealedOtherwise(
    tx: Tx,
    kid: string,
    skip: string[],
    limit: number,
  ): Promise<{ id: string; credentials: SealedSecret }[]> {
    return tx.query(
      `SELECT id, credentials FROM config_api.provider_accounts
       WHERE credentials IS NOT NULL AND credentials->>'kid' <> $1 AND NOT (id = ANY($2::uuid[]))
       ORDER BY id LIMIT ${Number(limit)} FOR UPDATE`,
      [kid, skip],
    );
  }

  async setCredentials(tx: Tx, accountId: string, sealed: SealedSecret): Promise<void> {
    await tx.query(`UPDATE config_api.provider_accounts SET credentials = $2 WHERE id = $1`, [
      accountId,
      JSON.stringify(sealed),
    ]);
  }

  /** Which of `ids` are accounts of `project` (as text). */
  async inProject(tx: Tx, ids: string[], project: string | undefined): Promise<Set<string>> {
    const rows: { id: string }[] = await tx.query(
      `SELECT id::text AS id FROM config_api.provider_accounts WHERE id = ANY($1::uuid[]) AND project_id = $2`,
      [ids, project],
    );
    return new Set(rows.map((r) => r.id));
  }
}
