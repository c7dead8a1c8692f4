import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecryptionError, KeyRing, KeyRingError, secretContext } from './key-ring.js';
import { loadKeyRing } from './load-key-ring.js';

const keyText = () => randomBytes(32).toString('base64');

/** Replaces one byte of the sealed body (ciphertext and tag), keeping the envelope well formed. */
const flipBodyByte = (sealed: string, index: number): string => {
  const parts = sealed.split(':');
  const body = Buffer.from(parts[4] as string, 'base64url');
  body[index] = (body[index] as number) ^ 0x01;
  parts[4] = body.toString('base64url');
  return parts.join(':');
};

const k1 = keyText();
const ring = KeyRing.parse(`k1:${k1}`);
const ad = secretContext('cred-a', 'refreshToken');

it('key ring - decrypts what it encrypted', () => {
  const sealed = ring.encrypt('rt-secret-value', ad);
  expect(sealed.startsWith('enc:v1:k1:')).toBe(true);
  expect(sealed).not.toContain('rt-secret-value');
  expect(ring.decrypt(sealed, ad)).toBe('rt-secret-value');
});

it('key ring - round-trips an empty string and non-ASCII text', () => {
  expect(ring.decrypt(ring.encrypt('', ad), ad)).toBe('');
  expect(ring.decrypt(ring.encrypt('jeton ✓ 令牌', ad), ad)).toBe('jeton ✓ 令牌');
});

it('key ring - two encryptions of the same value differ', () => {
  const a = ring.encrypt('same', ad);
  const b = ring.encrypt('same', ad);
  expect(a).not.toBe(b);
  expect(ring.decrypt(a, ad)).toBe('same');
  expect(ring.decrypt(b, ad)).toBe('same');
});

it('key ring - a flipped byte in the ciphertext or the tag fails with DecryptionError', () => {
  const sealed = ring.encrypt('access-token', ad);
  const bodyLength = Buffer.from(sealed.split(':')[4] as string, 'base64url').length;
  for (const index of [0, bodyLength - 1]) {
    const tampered = flipBodyByte(sealed, index);
    expect(tampered).not.toBe(sealed);
    expect(() => ring.decrypt(tampered, ad)).toThrow(DecryptionError);
    expect(() => ring.decrypt(tampered, ad)).toThrow(/failed authentication/);
  }
});

it('key ring - a changed IV fails with DecryptionError', () => {
  const parts = ring.encrypt('access-token', ad).split(':');
  const iv = Buffer.from(parts[3] as string, 'base64url');
  iv[0] = (iv[0] as number) ^ 0x80;
  parts[3] = iv.toString('base64url');
  expect(() => ring.decrypt(parts.join(':'), ad)).toThrow(DecryptionError);
});

it("key ring - a ciphertext sealed for credential A does not open with credential B's associated data", () => {
  const sealed = ring.encrypt('token-of-a', secretContext('cred-a', 'accessToken'));
  expect(() => ring.decrypt(sealed, secretContext('cred-b', 'accessToken'))).toThrow(
    DecryptionError,
  );
  // Nor as another field of the same credential.
  expect(() => ring.decrypt(sealed, secretContext('cred-a', 'refreshToken'))).toThrow(
    DecryptionError,
  );
  expect(ring.decrypt(sealed, secretContext('cred-a', 'accessToken'))).toBe('token-of-a');
});

it('key ring - an unknown key id fails with DecryptionError naming the key', () => {
  const other = KeyRing.parse(`k9:${keyText()}`);
  const sealed = other.encrypt('v', ad);
  expect(() => ring.decrypt(sealed, ad)).toThrow(DecryptionError);
  expect(() => ring.decrypt(sealed, ad)).toThrow(/'k9'/);
});

it('key ring - text that is not a broker ciphertext fails with DecryptionError', () => {
  expect(() => ring.decrypt('plain-token', ad)).toThrow(DecryptionError);
  expect(() => ring.decrypt('enc:v2:k1:aaaa:bbbb', ad)).toThrow(DecryptionError);
  expect(() => ring.decrypt('enc:v1:k1:AAAA:AAAA', ad)).toThrow(/truncated/);
});

it('key ring - after a new current key is put in front, old ciphertexts still open and new ones carry it', () => {
  const old = ring.encrypt('before-rotation', ad);
  const rotated = KeyRing.parse(`k2:${keyText()},k1:${k1}`);
  expect(rotated.currentKeyId).toBe('k2');
  expect(rotated.decrypt(old, ad)).toBe('before-rotation');
  const fresh = rotated.encrypt('after-rotation', ad);
  expect(fresh.split(':')[2]).toBe('k2');
  expect(rotated.decrypt(fresh, ad)).toBe('after-rotation');
  // The ring without the new key cannot read what the new key sealed.
  expect(() => ring.decrypt(fresh, ad)).toThrow(/'k2'/);
});

it('key ring - the fingerprint is stable across rotation and does not contain the secret', () => {
  const secret = 'client-secret-0123456789abcdef';
  const before = ring.fingerprint(secret);
  const rotated = KeyRing.parse(`k3:${keyText()},k2:${keyText()},k1:${k1}`);
  expect(rotated.fingerprint(secret)).toBe(before);
  expect(before).toMatch(/^fp_[0-9a-f]{16}$/);
  expect(before).not.toContain(secret);
  expect(ring.fingerprint(`${secret}x`)).not.toBe(before);
});

it('key ring - the fingerprint is keyed: another oldest key gives another fingerprint', () => {
  const secret = 'client-secret';
  expect(KeyRing.parse(`k1:${keyText()}`).fingerprint(secret)).not.toBe(ring.fingerprint(secret));
});

it('key ring - parse refuses a key of the wrong length', () => {
  const short = randomBytes(16).toString('base64');
  expect(() => KeyRing.parse(`k1:${short}`)).toThrow(KeyRingError);
  expect(() => KeyRing.parse(`k1:${short}`)).toThrow("key 'k1' must be 32 bytes, got 16");
});

it('key ring - parse refuses an entry without a key id', () => {
  expect(() => KeyRing.parse(`:${k1}`)).toThrow(KeyRingError);
  expect(() => KeyRing.parse(`:${k1}`)).toThrow(/without a key id/);
  expect(() => KeyRing.parse(k1)).toThrow(/without a key id/);
});

it('key ring - parse refuses a key id used twice', () => {
  expect(() => KeyRing.parse(`k1:${k1},k1:${keyText()}`)).toThrow(KeyRingError);
  expect(() => KeyRing.parse(`k1:${k1},k1:${keyText()}`)).toThrow(/key id twice/);
});

it('key ring - parse refuses an empty spec and a malformed key id', () => {
  expect(() => KeyRing.parse(' , ')).toThrow(/empty/);
  expect(() => KeyRing.parse(`bad kid:${k1}`)).toThrow(KeyRingError);
  expect(() => KeyRing.parse(`bad kid:${k1}`)).toThrow(/key id 'bad kid'/);
});

it('key ring - generateSpec makes a spec that parses', () => {
  const spec = KeyRing.generateSpec('gen1');
  const generated = KeyRing.parse(spec);
  expect(generated.currentKeyId).toBe('gen1');
  expect(generated.decrypt(generated.encrypt('x', ad), ad)).toBe('x');
});

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-keys-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

it('loadKeyRing - uses BROKER_KEYS when set', () => {
  const warn = jest.fn();
  const dataDir = tempDir();
  const loaded = loadKeyRing({ keys: `kx:${keyText()}`, dataDir, production: true, warn });
  expect(loaded.currentKeyId).toBe('kx');
  expect(warn).not.toHaveBeenCalled();
  expect(() => statSync(join(dataDir, 'broker.key'))).toThrow();
});

it('loadKeyRing - production without keys throws naming BROKER_KEYS', () => {
  const dataDir = tempDir();
  const warn = jest.fn();
  expect(() => loadKeyRing({ dataDir, production: true, warn })).toThrow(KeyRingError);
  expect(() => loadKeyRing({ keys: '  ', dataDir, production: true, warn })).toThrow(/BROKER_KEYS/);
  expect(() => statSync(join(dataDir, 'broker.key'))).toThrow();
});

it('loadKeyRing - outside production generates <dataDir>/broker.key with mode 0600 and reuses it', () => {
  const dataDir = join(tempDir(), 'nested', 'data');
  const warn = jest.fn();
  const first = loadKeyRing({ dataDir, production: false, warn });
  const file = join(dataDir, 'broker.key');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn.mock.calls[0]?.[0]).toContain(file);
  const spec = readFileSync(file, 'utf8');

  const second = loadKeyRing({ dataDir, production: false, warn });
  expect(warn).toHaveBeenCalledTimes(1);
  expect(readFileSync(file, 'utf8')).toBe(spec);
  expect(second.currentKeyId).toBe(first.currentKeyId);
  const ad = secretContext('cred-a', 'accessToken');
  expect(second.decrypt(first.encrypt('kept', ad), ad)).toBe('kept');
  expect(second.fingerprint('s')).toBe(first.fingerprint('s'));
});

it('loadKeyRing - tightens an existing key file to mode 0600 and uses its key', () => {
  const dataDir = tempDir();
  const file = join(dataDir, 'broker.key');
  writeFileSync(file, `kfile:${k1}\n`, { mode: 0o644 });
  chmodSync(file, 0o644);
  const warn = jest.fn();
  const loaded = loadKeyRing({ dataDir, production: false, warn });
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(warn).not.toHaveBeenCalled();
  expect(loaded.currentKeyId).toBe('kfile');
  expect(loaded.fingerprint('s')).toBe(ring.fingerprint('s'));
});
