/** What the cache needs of a lease. */
export interface KeptLease {
  readonly leaseId: string;
  readonly credentialId: string;
  readonly expiresAt: Date;
}

export interface CacheQuery {
  /** The caller needs the token to stay valid this long (ms) from now. */
  readonly minValidityMs?: number;
  /** Credentials the caller does not want (they just failed it). */
  readonly exclude?: ReadonlySet<string>;
}

/** One cache slot per provider, pool and model: a per-model cooldown can move one model only. */
export const leaseKey = (provider: string, pool: string, model?: string): string =>
  `${provider}/${pool}/${model ?? ''}`;

/**
 * Leases kept for reuse. A lease is handed out again only while
 * `now < expiresAt - max(renewMarginMs, minValidityMs)`: never past
 * `expiresAt - renewMarginMs`, whatever the caller asks. Pure: time comes in.
 */
export class LeaseCache<L extends KeptLease> {
  private readonly entries = new Map<string, L>();

  constructor(readonly renewMarginMs: number) {
    if (!Number.isFinite(renewMarginMs) || renewMarginMs < 0)
      throw new RangeError(`renewMarginMs must be a non-negative number, got ${renewMarginMs}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The kept lease for `key` if it is still good enough, else undefined (and a stale one is dropped). */
  get(key: string, now: number, query: CacheQuery = {}): L | undefined {
    const lease = this.entries.get(key);
    if (lease === undefined) return undefined;
    const expiresAt = lease.expiresAt.getTime();
    if (now >= expiresAt - this.renewMarginMs) {
      this.entries.delete(key);
      return undefined;
    }
    if (query.exclude?.has(lease.credentialId) === true) return undefined;
    if (now >= expiresAt - Math.max(this.renewMarginMs, query.minValidityMs ?? 0)) return undefined;
    return lease;
  }

  /** Keeps `lease` under `key` if it is still usable; says whether it did. */
  set(key: string, lease: L, now: number): boolean {
    if (now >= lease.expiresAt.getTime() - this.renewMarginMs) {
      this.entries.delete(key);
      return false;
    }
    this.entries.set(key, lease);
    return true;
  }

  /** Drops every kept lease on the credential (it failed, or was revoked); returns how many. */
  forgetCredential(credentialId: string): number {
    let dropped = 0;
    for (const [key, lease] of this.entries) {
      if (lease.credentialId === credentialId) {
        this.entries.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  clear(): void {
    this.entries.clear();
  }
}
