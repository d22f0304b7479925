import { createHash } from 'node:crypto';

/** Namespace of feed-poller event ids (a fixed random UUID). */
export const FEED_EVENT_NAMESPACE = '6f3b0a52-2d4e-4c1b-9a57-3e0c8f1d2b64';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** RFC 9562 UUID version 5 (SHA-1 of namespace and name). */
export function uuidV5(name: string, namespace = FEED_EVENT_NAMESPACE): string {
  const h = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const b = h.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The CloudEvent id of a feed entry: the same (feed, entry) always gives the same id, so an entry
 * published again after a crash is recognised by every consumer (they dedupe on the id).
 */
export function feedEventId(feedId: string, entryId: string): string {
  // The separator cannot occur in a UUID, so (feed, entry) pairs never collide as strings.
  return uuidV5(`${feedId}\n${entryId}`);
}
