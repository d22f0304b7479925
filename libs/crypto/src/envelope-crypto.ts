import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// Note [Envelope encryption]
// Each secret is encrypted with its own random 256-bit data key (AES-256-GCM); the data key is
// itself encrypted ("wrapped") with the master key, also AES-256-GCM. A sealed record stores the
// wrapped data key, the id of the master key that wrapped it, and the ciphertext. Rotating the
// master key re-wraps only the data keys (small, fast) and never touches the ciphertexts. The record
// id is bound as additional authenticated data, so a ciphertext copied onto another record fails to
// open.

/** A secret at rest: safe to store, useless without the master key. */
export interface SealedSecret {
  /** Format version. */
  v: 1;
  /** Id of the master key that wrapped the data key (first 8 bytes of its SHA-256, hex). */
  kid: string;
  /** The wrapped data key: iv | tag | ciphertext, base64. */
  dk: string;
  /** The secret: iv | tag | ciphertext, base64. */
  ct: string;
}

export interface MasterKey {
  id: string;
  key: Buffer;
}

/**
 * Parses NEPHELE_MASTER_KEY: 32 bytes as base64 or 64 hex characters. Several keys may be given
 * comma-separated during a rotation: the first seals, all open.
 */
export function parseMasterKeys(value: string): MasterKey[] {
  const keys = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
      if (key.length !== 32)
        throw new Error('NEPHELE_MASTER_KEY must be 32 bytes (base64 or 64 hex characters)');
      return { id: keyId(key), key };
    });
  if (!keys.length) throw new Error('NEPHELE_MASTER_KEY is empty');
  return keys;
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** A new random master key, base64 (for `nephele` set-up and tests). */
export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
}

function open(key: Buffer, sealed: string, aad: Buffer): Buffer {
  const b = Buffer.from(sealed, 'base64');
  if (b.length < 28) throw new Error('sealed value too short');
  const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
  d.setAAD(aad);
  d.setAuthTag(b.subarray(12, 28));
  return Buffer.concat([d.update(b.subarray(28)), d.final()]);
}

/** Encrypts and decrypts secrets under the master key(s); see Note [Envelope encryption]. */
export class SecretBox {
  private readonly keys: MasterKey[];

  constructor(masterKeys: MasterKey[] | string) {
    this.keys = typeof masterKeys === 'string' ? parseMasterKeys(masterKeys) : masterKeys;
  }

  /** The id of the key that seals new secrets. */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  /** Encrypts a JSON value for the record `recordId` (bound as AAD). */
  seal(recordId: string, value: unknown): SealedSecret {
    const dataKey = randomBytes(32);
    const aad = Buffer.from(`nephele:${recordId}`);
    const master = this.keys[0]!;
    return {
      v: 1,
      kid: master.id,
      dk: seal(master.key, dataKey, Buffer.from(`dk:${recordId}`)),
      ct: seal(dataKey, Buffer.from(JSON.stringify(value)), aad),
    };
  }

  open<T = unknown>(recordId: string, sealed: SealedSecret): T {
    const master = this.keys.find((k) => k.id === sealed.kid);
    if (!master) throw new Error(`no master key with id ${sealed.kid} is configured`);
    const dataKey = open(master.key, sealed.dk, Buffer.from(`dk:${recordId}`));
    return JSON.parse(open(dataKey, sealed.ct, Buffer.from(`nephele:${recordId}`)).toString('utf8')) as T;
  }

  /** Re-wraps the data key under the current master key; the ciphertext is unchanged. */
  rewrap(recordId: string, sealed: SealedSecret): SealedSecret {
    if (sealed.kid === this.currentKeyId) return sealed;
    const old = this.keys.find((k) => k.id === sealed.kid);
    if (!old) throw new Error(`no master key with id ${sealed.kid} is configured`);
    const dataKey = open(old.key, sealed.dk, Buffer.from(`dk:${recordId}`));
    const current = this.keys[0]!;
    return { ...sealed, kid: current.id, dk: seal(current.key, dataKey, Buffer.from(`dk:${recordId}`)) };
  }
}

/** True when a value looks like a sealed secret (for redaction). */
export function isSealed(v: unknown): v is SealedSecret {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as SealedSecret).v === 1 &&
    typeof (v as SealedSecret).ct === 'string'
  );
}
