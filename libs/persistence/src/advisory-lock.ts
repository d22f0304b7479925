import { createHash } from 'node:crypto';

/** A stable 63-bit key for pg_advisory_lock from a name. */
export function advisoryKey(name: string): string {
  const h = createHash('sha256').update(name).digest();
  return (h.readBigInt64BE(0) & 0x7fffffffffffffffn).toString();
}
