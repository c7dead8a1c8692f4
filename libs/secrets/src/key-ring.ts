import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

/** Raised when a ciphertext cannot be opened: tampered, moved to another credential, or an unknown key. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

const b64url = (buf: Buffer): string => buf.toString('base64url');

/**
 * AES-256-GCM under a ring of keys. The first key encrypts; every key decrypts,
 * so keys can be rotated by putting a new one first. Each ciphertext names its
 * key and is bound to the associated data it was sealed with (the credential id
 * and the field), so it cannot be copied to another row.
 */
export class KeyRing {
  private readonly keys: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;
  private readonly fingerprintKey: Buffer;

  constructor(entries: readonly (readonly [string, Buffer])[]) {
    const first = entries[0];
    if (first === undefined) throw new KeyRingError('the key ring is empty');
    for (const [kid, key] of entries) {
      if (!KEY_ID.test(kid))
        throw new KeyRingError(`key id '${kid}' must be 1-32 letters, digits, '_' or '-'`);
      if (key.length !== KEY_BYTES)
        throw new KeyRingError(`key '${kid}' must be ${KEY_BYTES} bytes, got ${key.length}`);
    }
    this.keys = new Map(entries);
    if (this.keys.size !== entries.length)
      throw new KeyRingError('the key ring names a key id twice');
    this.currentKeyId = first[0];
    // Fingerprints stay stable across rotations: they derive from the oldest key.
    const oldest = entries[entries.length - 1] as readonly [string, Buffer];
    this.fingerprintKey = Buffer.from(
      hkdfSync('sha256', oldest[1], Buffer.alloc(0), 'broker fingerprint v1', KEY_BYTES),
    );
  }

  /** Parses `kid:base64key,kid:base64key` (first is current), as `BROKER_KEYS` holds it. */
  static parse(spec: string): KeyRing {
    const entries = spec
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0)
      .map((part): [string, Buffer] => {
        const colon = part.indexOf(':');
        if (colon <= 0)
          throw new KeyRingError(
            `key ring entry must be 'kid:base64key', got an entry without a key id`,
          );
        return [part.slice(0, colon), Buffer.from(part.slice(colon + 1), 'base64')];
      });
    return new KeyRing(entries);
  }

  static generateSpec(kid = `k${Date.now().toString(36)}`): string {
    return `${kid}:${randomBytes(KEY_BYTES).toString('base64')}`;
  }

  encrypt(plaintext: string, associatedData: string): string {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${PREFIX}:${this.currentKeyId}:${b64url(iv)}:${b64url(body)}`;
  }

  decrypt(ciphertext: string, associatedData: string): string {
    const parts = ciphertext.split(':');
    if (parts.length !== 5 || `${parts[0]}:${parts[1]}` !== PREFIX) {
      throw new DecryptionError('not a broker ciphertext (expected enc:v1:<kid>:<iv>:<data>)');
    }
    const [, , kid, ivText, bodyText] = parts as [string, string, string, string, string];
    const key = this.keys.get(kid);
    if (key === undefined)
      throw new DecryptionError(
        `ciphertext was sealed with key '${kid}', which is not in the key ring`,
      );
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES)
      throw new DecryptionError('ciphertext is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new DecryptionError(
        'ciphertext failed authentication: altered, or sealed for another credential',
      );
    }
  }

  /** A keyed, non-reversible short name for a secret, safe to log and show. */
  fingerprint(secret: string): string {
    return `fp_${createHmac('sha256', this.fingerprintKey).update(secret, 'utf8').digest('hex').slice(0, 16)}`;
  }
}

/** Associated data that binds a ciphertext to one field of one credential. */
export const secretContext = (credentialId: string, field: string): string =>
  `credential:${credentialId}:${field}`;
