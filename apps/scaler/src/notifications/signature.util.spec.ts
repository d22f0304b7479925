import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhook } from './signature.util';

describe('customer webhook signature', () => {
  const secret = 'customer-secret-0123456789';
  const body = '{"event":"server.ready"}';

  it('is the HMAC-SHA256 of "<timestamp>.<body>"', () => {
    const want = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signWebhook(secret, 1_700_000_000, body)).toBe(`v1=${want}`);
  });

  it('verifies a fresh signature and refuses a changed body, another secret or an old timestamp', () => {
    const signature = signWebhook(secret, 1000, body);
    expect(verifyWebhook(secret, { signature, timestamp: '1000' }, body, 1010)).toBe(true);
    expect(verifyWebhook(secret, { signature, timestamp: '1000' }, `${body} `, 1010)).toBe(false);
    expect(verifyWebhook('other-secret-0123456789', { signature, timestamp: '1000' }, body, 1010)).toBe(
      false,
    );
    expect(verifyWebhook(secret, { signature, timestamp: '1000' }, body, 1000 + 301)).toBe(false);
    expect(verifyWebhook(secret, { signature, timestamp: '999' }, body, 1000)).toBe(false);
    expect(verifyWebhook(secret, { timestamp: '1000' }, body, 1000)).toBe(false);
  });
});
