import { generateMasterKey, parseMasterKeys, redactSecrets, SecretBox } from './index';

describe(SecretBox.name, () => {
  const k1 = generateMasterKey();
  const k2 = generateMasterKey();

  it('round-trips a secret and never stores the plaintext', () => {
    const sut = new SecretBox(k1);
    const sealed = sut.seal('rec-1', { password: 'hunter2-very-secret' });
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(sut.open('rec-1', sealed)).toEqual({ password: 'hunter2-very-secret' });
  });

  it('uses a fresh data key and IV per seal', () => {
    const sut = new SecretBox(k1);
    const a = sut.seal('r', 'same');
    const b = sut.seal('r', 'same');
    expect(a.ct).not.toBe(b.ct);
    expect(a.dk).not.toBe(b.dk);
  });

  it('refuses a ciphertext moved onto another record, or tampered with', () => {
    const sut = new SecretBox(k1);
    const sealed = sut.seal('rec-1', 'x');
    expect(() => sut.open('rec-2', sealed)).toThrow();
    const bytes = Buffer.from(sealed.ct, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => sut.open('rec-1', { ...sealed, ct: bytes.toString('base64') })).toThrow();
  });

  it('rotates: re-wraps data keys under the new master key, ciphertext unchanged', () => {
    const old = new SecretBox(k1);
    const sealed = old.seal('rec', { token: 't' });
    const rotating = new SecretBox(`${k2},${k1}`);
    const rewrapped = rotating.rewrap('rec', sealed);
    expect(rewrapped.kid).toBe(rotating.currentKeyId);
    expect(rewrapped.ct).toBe(sealed.ct);
    expect(new SecretBox(k2).open('rec', rewrapped)).toEqual({ token: 't' });
    expect(() => new SecretBox(k2).open('rec', sealed)).toThrow(/no master key/);
  });

  it('refuses a master key of the wrong size', () => {
    expect(() => parseMasterKeys('c2hvcnQ=')).toThrow(/32 bytes/);
    expect(parseMasterKeys('00'.repeat(32))[0]!.key).toHaveLength(32);
  });
});

describe('redactSecrets', () => {
  it('replaces secret-looking fields at any depth', () => {
    expect(
      redactSecrets({ name: 'a', credentials: { user: 'u' }, nested: [{ apiKey: 'k', ok: 1 }] }),
    ).toEqual({
      name: 'a',
      credentials: '[redacted]',
      nested: [{ apiKey: '[redacted]', ok: 1 }],
    });
  });
});
