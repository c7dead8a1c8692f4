import fc from 'fast-check';
import { LeaseCache, leaseKey, type KeptLease } from './lease-cache.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const lease = (id: string, credentialId: string, expiresInMs: number): KeptLease => ({
  leaseId: id,
  credentialId,
  expiresAt: new Date(NOW + expiresInMs),
});
const KEY = leaseKey('gemini-cli', 'default');

describe('LeaseCache', () => {
  it('hands the kept lease out again until the margin before its expiry, then drops it', () => {
    const cache = new LeaseCache<KeptLease>(120_000);
    const kept = lease('l-1', 'cred-a', 600_000);
    expect(cache.set(KEY, kept, NOW)).toBe(true);
    expect(cache.get(KEY, NOW)).toBe(kept);
    expect(cache.get(KEY, NOW + 479_999)).toBe(kept);
    expect(cache.get(KEY, NOW + 480_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not keep a lease that is already inside the margin', () => {
    const cache = new LeaseCache<KeptLease>(120_000);
    expect(cache.set(KEY, lease('l-1', 'cred-a', 119_000), NOW)).toBe(false);
    expect(cache.get(KEY, NOW)).toBeUndefined();
  });

  it('a caller that needs more validity than the margin gets nothing, and the lease stays for others', () => {
    const cache = new LeaseCache<KeptLease>(60_000);
    const kept = lease('l-1', 'cred-a', 300_000);
    cache.set(KEY, kept, NOW);
    expect(cache.get(KEY, NOW, { minValidityMs: 300_000 })).toBeUndefined();
    expect(cache.get(KEY, NOW, { minValidityMs: 200_000 })).toBe(kept);
    expect(cache.size).toBe(1);
  });

  it('skips a lease on an excluded credential', () => {
    const cache = new LeaseCache<KeptLease>(0);
    cache.set(KEY, lease('l-1', 'cred-a', 300_000), NOW);
    expect(cache.get(KEY, NOW, { exclude: new Set(['cred-a']) })).toBeUndefined();
  });

  it('forgets every lease on a credential, whatever the key', () => {
    const cache = new LeaseCache<KeptLease>(0);
    cache.set(
      leaseKey('gemini-cli', 'default', 'gemini-2.5-pro'),
      lease('l-1', 'cred-a', 9e5),
      NOW,
    );
    cache.set(leaseKey('gemini-cli', 'default'), lease('l-2', 'cred-a', 9e5), NOW);
    cache.set(leaseKey('gemini-cli', 'batch'), lease('l-3', 'cred-b', 9e5), NOW);
    expect(cache.forgetCredential('cred-a')).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('keeps one slot per provider, pool and model', () => {
    expect(
      new Set([
        leaseKey('gemini-cli', 'default'),
        leaseKey('gemini-cli', 'default', 'gemini-2.5-pro'),
        leaseKey('gemini-cli', 'batch'),
        leaseKey('qwen-code', 'default'),
      ]).size,
    ).toBe(4);
  });

  it('refuses a negative margin', () => {
    expect(() => new LeaseCache(-1)).toThrow('renewMarginMs must be a non-negative number');
  });

  it('never hands out a lease past expiresAt - margin, whatever the query', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: -60_000, max: 3_600_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        (margin, expiresIn, elapsed, minValidityMs) => {
          const cache = new LeaseCache<KeptLease>(margin);
          const kept = lease('l-1', 'cred-a', expiresIn);
          cache.set(KEY, kept, NOW);
          const now = NOW + elapsed;
          const got = cache.get(KEY, now, { minValidityMs });
          const usableUntil = NOW + expiresIn - Math.max(margin, minValidityMs);
          expect(got === kept).toBe(now < usableUntil);
        },
      ),
    );
  });
});
