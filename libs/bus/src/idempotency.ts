import { CloudEvent } from '@nephele/contracts';
import { Queryable } from './outbox';

/**
 * The key an idempotent consumer records for an event: its CloudEvents identity (source, id),
 * whatever its `time` (ARCHITECTURE §1). JSON keeps the pair unambiguous.
 */
export function eventIdentityKey(event: Pick<CloudEvent, 'source' | 'id'>): string {
  return JSON.stringify([event.source, event.id]);
}

/**
 * Records that `consumer` processed the event (keyed by its identity, `eventIdentityKey`) inside the
 * caller's transaction. Returns false when it was already recorded: the caller then skips its side
 * effects (see Note [Outbox]: delivery is at least once). Use it in the same transaction as the
 * handler's writes. Rows written before identities were keyed by (source, id) held the bare id; they
 * still count until they are purged.
 */
export async function markProcessed(
  tx: Queryable,
  schema: string,
  consumer: string,
  event: CloudEvent,
): Promise<boolean> {
  const rows: unknown[] = await tx.query(
    `INSERT INTO "${schema}".processed_messages (consumer, id)
     SELECT $1::text, $2::text WHERE NOT EXISTS (
       SELECT 1 FROM "${schema}".processed_messages WHERE consumer = $1::text AND id = $3::text)
     ON CONFLICT DO NOTHING RETURNING id`,
    [consumer, eventIdentityKey(event), event.id],
  );
  return rows.length > 0;
}

/** Forgets processed ids older than the cutoff (run from a housekeeping loop). */
export async function purgeProcessed(db: Queryable, schema: string, cutoff: Date): Promise<void> {
  await db.query(`DELETE FROM "${schema}".processed_messages WHERE processed_at < $1`, [
    cutoff.toISOString(),
  ]);
}
