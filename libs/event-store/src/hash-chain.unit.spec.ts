import { createHash } from 'node:crypto';
import { canonicalJson, chainHash, type HashedFields } from './hash-chain.js';

const base: HashedFields = {
  eventId: '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f',
  streamId: 'credential-1',
  streamVersion: 3,
  type: 'CredentialRefreshed',
  data: { expiresAt: '2030-01-01T00:00:00.000Z', scopes: ['a', 'b'], nested: { z: 1, a: 2 } },
  metadata: { traceId: 't-1', actor: 'scheduler' },
  recordedAt: new Date('2024-11-07T10:00:00.123Z'),
};

it('hash chain - canonicalJson sorts keys at every depth', () => {
  const a = { b: 1, a: { d: [{ y: 1, x: 2 }], c: null } };
  const b = { a: { c: null, d: [{ x: 2, y: 1 }] }, b: 1 };
  expect(canonicalJson(a)).toBe('{"a":{"c":null,"d":[{"x":2,"y":1}]},"b":1}');
  expect(canonicalJson(b)).toBe(canonicalJson(a));
});

it('hash chain - canonicalJson keeps array order', () => {
  expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
  expect(canonicalJson([3, 1, 2])).not.toBe(canonicalJson([1, 2, 3]));
});

it('hash chain - canonicalJson drops undefined properties at every depth', () => {
  expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined, e: 'x' } })).toBe(
    '{"a":1,"c":{"e":"x"}}',
  );
  expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
});

it('hash chain - canonicalJson agrees with JSON for scalars and escapes keys and strings', () => {
  for (const value of [null, true, false, 0, -1.5, 1e21, 'text', 'q"uote\\', 'ünï ✓']) {
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  }
  expect(canonicalJson({ 'k"ey': 'v\n' })).toBe('{"k\\"ey":"v\\n"}');
});

it('hash chain - canonicalJson output parses back to the same value', () => {
  const value = { z: [1, { b: 'two', a: [true, null] }], a: { c: 3.25, b: 'x' } };
  expect(JSON.parse(canonicalJson(value))).toEqual(value);
});

it('hash chain - chainHash is sha256 of the previous hash and the canonical event', () => {
  const canonical = canonicalJson({ ...base, recordedAt: base.recordedAt.toISOString() });
  const expected = createHash('sha256').update('prev').update(canonical).digest('hex');
  expect(chainHash('prev', base)).toBe(expected);
  expect(chainHash('prev', base)).toMatch(/^[0-9a-f]{64}$/);
});

it('hash chain - chainHash is the same for the same event whatever its key order', () => {
  const reordered: HashedFields = {
    ...base,
    data: { nested: { a: 2, z: 1 }, scopes: ['a', 'b'], expiresAt: '2030-01-01T00:00:00.000Z' },
    metadata: { actor: 'scheduler', traceId: 't-1' },
  };
  expect(chainHash('', reordered)).toBe(chainHash('', base));
});

it('hash chain - chainHash ignores fields that are not part of the event', () => {
  const stored = { ...base, globalPosition: 9, transactionId: '77', hash: 'whatever' };
  expect(chainHash('', stored)).toBe(chainHash('', base));
});

it('hash chain - chainHash changes when any field changes', () => {
  const original = chainHash('prev', base);
  const variants: [string, string][] = [
    ['previous hash', chainHash('prev2', base)],
    ['empty previous hash', chainHash('', base)],
    ['eventId', chainHash('prev', { ...base, eventId: '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e60' })],
    ['streamId', chainHash('prev', { ...base, streamId: 'credential-2' })],
    ['streamVersion', chainHash('prev', { ...base, streamVersion: 4 })],
    ['type', chainHash('prev', { ...base, type: 'CredentialCooledDown' })],
    ['data', chainHash('prev', { ...base, data: { ...(base.data as object), scopes: ['a'] } })],
    [
      'nested data',
      chainHash('prev', {
        ...base,
        data: { ...(base.data as object), nested: { z: 1, a: 3 } },
      }),
    ],
    ['metadata', chainHash('prev', { ...base, metadata: { traceId: 't-2', actor: 'scheduler' } })],
    [
      'recordedAt',
      chainHash('prev', { ...base, recordedAt: new Date(base.recordedAt.getTime() + 1) }),
    ],
  ];
  for (const [field, hash] of variants) {
    expect({ field, same: hash === original }).toEqual({ field, same: false });
  }
  expect(new Set(variants.map(([, hash]) => hash)).size).toBe(variants.length);
});

it('hash chain - chaining three events depends on the order they are chained in', () => {
  const e1 = { ...base, streamVersion: 1 };
  const e2 = { ...base, streamVersion: 2 };
  const h1 = chainHash('', e1);
  const h2 = chainHash(h1, e2);
  expect(chainHash(chainHash('', e2), e1)).not.toBe(h2);
});
