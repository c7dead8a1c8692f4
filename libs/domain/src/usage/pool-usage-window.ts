import type { AlertingEventOf } from '@broker/contracts';

type PoolUsageData = AlertingEventOf<'pool.usage-recorded.v1'>['data'];

/**
 * Leases each pool served and refused (every credential unavailable) between two
 * closes of the window: what tells the alerting service that a pool ran dry.
 */
export class PoolUsageWindow {
  private counts = new Map<
    string,
    { provider: string; pool: string; served: number; refused: number }
  >();
  private startedAt: number;

  constructor(now: number) {
    this.startedAt = now;
  }

  count(provider: string, pool: string, outcome: 'served' | 'refused'): void {
    this.of(provider, pool)[outcome] += 1;
  }

  private of(provider: string, pool: string) {
    const key = `${provider}/${pool}`;
    let counts = this.counts.get(key);
    if (counts === undefined) {
      counts = { provider, pool, served: 0, refused: 0 };
      this.counts.set(key, counts);
    }
    return counts;
  }

  /** Ends the window: one record per pool that saw a lease request. */
  close(now: number, replica: string): PoolUsageData[] {
    const windowStart = new Date(this.startedAt).toISOString();
    const windowEnd = new Date(now).toISOString();
    const records = [...this.counts.values()].map((c) => ({
      ...c,
      replica,
      windowStart,
      windowEnd,
    }));
    this.counts = new Map();
    this.startedAt = now;
    return records;
  }

  /** Puts records back after a failed append. */
  restore(records: readonly PoolUsageData[]): void {
    for (const r of records) {
      const counts = this.of(r.provider, r.pool);
      counts.served += r.served;
      counts.refused += r.refused;
    }
  }
}
