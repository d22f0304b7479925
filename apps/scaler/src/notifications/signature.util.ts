import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of a signed customer webhook. */
export const SIGNATURE_HEADER = 'x-nephele-signature';
export const TIMESTAMP_HEADER = 'x-nephele-timestamp';

/**
 * The signature of a webhook body: `v1=` + hex HMAC-SHA256 under the group's secret of
 * `<timestamp>.<body>`, the timestamp being Unix seconds (sent in X-Nephele-Timestamp), so a
 * receiver can refuse old replays.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Receiver side (used by tests and documented for customers): checks signature and age. */
export function verifyWebhook(
  secret: string,
  headers: { signature?: string; timestamp?: string },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds || !headers.signature)
    return false;
  const want = Buffer.from(signWebhook(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
