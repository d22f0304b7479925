import { createHash } from 'node:crypto';

/**
 * A name-based UUID (version 5 layout, SHA-1) from a namespace and a name: the same inputs always
 * give the same id, so a retried operation names the same thing (an instance per idempotency key,
 * an event per feed entry).
 */
export function nameUuid(namespace: string, name: string): string {
  const h = createHash('sha1').update(namespace).update('\0').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
