import { CloudEvent } from '@nephele/contracts';
import { Queryable } from './outbox';

/**
 * Records that `consumer` processed `event.id` inside the caller's transaction. Returns false when it
 * was already recorded: the caller then skips its side effects (see Note [Outbox]: delivery is at
 * least once). Use it in the same transaction as the handler's writes.
 */
export async function markProcessed(
  tx: Queryable,
  schema: string,
  consumer: string,
  event: CloudEvent,
): Promise<boolean> {
  const rows: unknown[] = await tx.query(
    `INSERT INTO "${schema}".processed_messages (consumer, id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id`,
    [consumer, event.id],
  );
  return rows.length > 0;
}

/** Forgets processed ids older than the cutoff (run from a housekeeping loop). */
export async function purgeProcessed(db: Queryable, schema: string, cutoff: Date): Promise<void> {
  await db.query(`DELETE FROM "${schema}".processed_messages WHERE processed_at < $1`, [
    cutoff.toISOString(),
  ]);
}
