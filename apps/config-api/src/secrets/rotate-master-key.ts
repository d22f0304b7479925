import { DataSource } from 'typeorm';
import { enqueueEvents } from '@nephele/bus';
import { AuditData, createEvent } from '@nephele/contracts';
import { SecretBox } from '@nephele/crypto';
import { createAppDataSource } from '@nephele/persistence';
import { SERVICE } from '../common/change-recorder';
import { ConfigApiConfig } from '../config/env';
import { CONFIG_API_SCHEMA, configApiEntities, configApiMigrations } from '../data-source';
import { ProviderAccountsRepository } from '../provider-accounts/provider-accounts.repository';

export interface RotationReport {
  /** Id of the master key every data key is now wrapped with. */
  keyId: string;
  rewrapped: number;
  alreadyCurrent: number;
  failed: { accountId: string; reason: string }[];
}

const BATCH = 200;

// Note [Master key rotation]
// NEPHELE_MASTER_KEY="new,old": the first key seals, every listed key opens. The rotation re-wraps
// each account's data key under the first key (the ciphertext stays as it is, see Note [Envelope
// encryption]), in batches, each row locked while it is rewritten so a concurrent credentials update
// is not lost. Running it twice is harmless. Once it reports no failure the old key can be dropped
// from NEPHELE_MASTER_KEY. The audit event (through the outbox) is relayed by the running service.
export async function rotateMasterKey(db: DataSource, masterKey: string): Promise<RotationReport> {
  const box = new SecretBox(masterKey);
  const report: RotationReport = { keyId: box.currentKeyId, rewrapped: 0, alreadyCurrent: 0, failed: [] };
  const failed = new Set<string>();
  const accounts = new ProviderAccountsRepository(db);
  report.alreadyCurrent = await accounts.countSealedWith(box.currentKeyId);
  for (;;) {
    const done = await accounts.transaction(async (tx) => {
      const rows = await accounts.lockSealedOtherwise(tx, box.currentKeyId, [...failed], BATCH);
      for (const r of rows) {
        try {
          await accounts.setCredentials(tx, r.id, box.rewrap(r.id, r.credentials));
          report.rewrapped++;
        } catch (e) {
          failed.add(r.id);
          report.failed.push({ accountId: r.id, reason: (e as Error).message });
        }
      }
      return rows.length < BATCH;
    });
    if (done) break;
  }
  const audit: AuditData = {
    actor: 'system',
    action: 'rotated',
    resource: 'master-key',
    after: { keyId: report.keyId, rewrapped: report.rewrapped, failed: report.failed.length },
  };
  await enqueueEvents(db, CONFIG_API_SCHEMA, [
    createEvent(SERVICE, 'nephele.audit.master-key.rotated', audit, { subject: report.keyId }),
  ]);
  return report;
}

/** `node dist/apps/config-api/main.js rotate-master-key`: prints the report as JSON; exit 1 on any failure. */
export async function rotateMasterKeyCommand(config: ConfigApiConfig): Promise<number> {
  if (!config.masterKey) {
    console.error('rotate-master-key: NEPHELE_MASTER_KEY is not set (give "new,old")');
    return 2;
  }
  const { dataSource } = await createAppDataSource({
    schema: CONFIG_API_SCHEMA,
    url: config.databaseUrl,
    entities: configApiEntities,
    migrations: configApiMigrations,
    // Two: migrating holds one connection for its advisory lock while the migrations use another.
    poolSize: 2,
  });
  try {
    const report = await rotateMasterKey(dataSource, config.masterKey);
    console.log(JSON.stringify(report));
    return report.failed.length ? 1 : 0;
  } finally {
    await dataSource.destroy();
  }
}
