/**
 * The rows of an UPDATE/DELETE … RETURNING: TypeORM's PostgreSQL driver answers those with
 * `[rows, affectedCount]`, and SELECT/INSERT with the rows alone.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

/** A readiness probe: one round trip to the database (rejects when it cannot answer). */
export async function pingDatabase(db: { query(sql: string): Promise<unknown> }): Promise<void> {
  await db.query('SELECT 1');
}
