import type { CredentialEventOf } from '@broker/contracts';

type UsageData = CredentialEventOf<'credential.usage-recorded.v1'>['data'];

interface Counts {
  leases: number;
  requests: number;
  successes: number;
  failures: number;
  byStatus: Record<string, number>;
  tokensUsed: number;
  latencyMsTotal: number;
  latencySamples: number;
  lastUsedAt: number | null;
}

const empty = (): Counts => ({
  leases: 0,
  requests: 0,
  successes: 0,
  failures: 0,
  byStatus: {},
  tokensUsed: 0,
  latencyMsTotal: 0,
  latencySamples: 0,
  lastUsedAt: null,
});

export interface OutcomeSample {
  readonly outcome: 'success' | 'failure';
  readonly status?: number;
  readonly latencyMs?: number;
  readonly tokensUsed?: number;
}

/**
 * Usage counted in memory between two closes of the window, so that the log gets
 * one event per credential per window instead of one per call.
 */
export class UsageWindow {
  private counts = new Map<string, Counts>();
  private startedAt: number;

  constructor(now: number) {
    this.startedAt = now;
  }

  private of(credentialId: string): Counts {
    let counts = this.counts.get(credentialId);
    if (counts === undefined) {
      counts = empty();
      this.counts.set(credentialId, counts);
    }
    return counts;
  }

  countLease(credentialId: string, now: number): void {
    const counts = this.of(credentialId);
    counts.leases += 1;
    counts.lastUsedAt = now;
  }

  countOutcome(credentialId: string, sample: OutcomeSample, now: number): void {
    const counts = this.of(credentialId);
    counts.requests += 1;
    if (sample.outcome === 'success') counts.successes += 1;
    else counts.failures += 1;
    const statusKey = sample.status === undefined ? sample.outcome : String(sample.status);
    counts.byStatus[statusKey] = (counts.byStatus[statusKey] ?? 0) + 1;
    counts.tokensUsed += sample.tokensUsed ?? 0;
    if (sample.latencyMs !== undefined) {
      counts.latencyMsTotal += sample.latencyMs;
      counts.latencySamples += 1;
    }
    counts.lastUsedAt = now;
  }

  /** What this window counted so far for one credential, without closing it. */
  peek(credentialId: string): Readonly<Counts> | undefined {
    return this.counts.get(credentialId);
  }

  /** Ends the window: one usage record per credential that saw any traffic. */
  close(now: number, replica: string): UsageData[] {
    const windowStart = new Date(this.startedAt).toISOString();
    const windowEnd = new Date(now).toISOString();
    const records = [...this.counts].map(([credentialId, c]) => ({
      credentialId,
      replica,
      windowStart,
      windowEnd,
      leases: c.leases,
      requests: c.requests,
      successes: c.successes,
      failures: c.failures,
      byStatus: c.byStatus,
      tokensUsed: c.tokensUsed,
      latencyMsTotal: c.latencyMsTotal,
      latencySamples: c.latencySamples,
      lastUsedAt: c.lastUsedAt === null ? null : new Date(c.lastUsedAt).toISOString(),
    }));
    this.counts = new Map();
    this.startedAt = now;
    return records;
  }

  /** Puts records back after a failed append, so that a Postgres outage loses no counts. */
  restore(records: readonly UsageData[]): void {
    for (const r of records) {
      const c = this.of(r.credentialId);
      c.leases += r.leases;
      c.requests += r.requests;
      c.successes += r.successes;
      c.failures += r.failures;
      for (const [k, n] of Object.entries(r.byStatus)) c.byStatus[k] = (c.byStatus[k] ?? 0) + n;
      c.tokensUsed += r.tokensUsed;
      c.latencyMsTotal += r.latencyMsTotal;
      c.latencySamples += r.latencySamples;
      const last = r.lastUsedAt === null ? null : Date.parse(r.lastUsedAt);
      if (last !== null) c.lastUsedAt = Math.max(c.lastUsedAt ?? last, last);
    }
  }
}
