import {
  setAsideKey,
  type BrokerEvent,
  type ConsumerEvent,
  type CredentialEvent,
} from '@broker/contracts';
import { CredentialRegistry, type ApplyResult } from '../projection/credential-registry.js';

/** One closed usage window of a credential: what the failure-rate rule sums. */
export interface UsageSample {
  readonly end: number;
  readonly requests: number;
  readonly failures: number;
}

export interface RefreshFailureFact {
  readonly kind: 'transient' | 'permanent' | 'superseded';
  readonly error: string;
  readonly status: number | null;
  readonly consecutive: number;
}

export interface PoolFacts {
  readonly provider: string;
  readonly pool: string;
  /** End of the newest window in which a lease of the pool was refused, and how many were. */
  readonly lastRefusalEnd: number | null;
  readonly refusedInLastWindow: number;
  /** End of the newest window that served leases and refused none. */
  readonly lastCleanEnd: number | null;
}

/** A message a consumer set aside, keyed by `setAsideKey`. */
export type SetAsideFact = ConsumerEvent['data'] & { readonly key: string };

/** Samples older than this behind the newest are dropped: no window is ever longer. */
const MAX_SAMPLE_AGE_MS = 24 * 3_600_000;

/**
 * What the alert rules look at, folded from the log: every credential's state
 * (the same fold as the token service's), its recent usage windows, its last
 * refresh failure, and each pool's refused leases.
 */
export class AlertFacts {
  readonly credentials = new CredentialRegistry();
  private readonly usage = new Map<string, UsageSample[]>();
  private readonly refreshFailures = new Map<string, RefreshFailureFact>();
  private readonly pools = new Map<string, PoolFacts>();
  private readonly setAsideMessages = new Map<string, SetAsideFact>();

  apply(event: BrokerEvent, streamVersion: number): ApplyResult {
    if (event.type === 'pool.usage-recorded.v1') {
      this.applyPoolWindow(event.data);
      return 'applied';
    }
    if (event.type === 'consumer.message-set-aside.v1') {
      const key = setAsideKey(event.data);
      this.setAsideMessages.set(key, { ...event.data, key });
      return 'applied';
    }
    if (!event.type.startsWith('credential.')) return 'applied';
    const credentialEvent = event as CredentialEvent;
    const result = this.credentials.apply(credentialEvent, streamVersion);
    if (result === 'applied') this.applySideFacts(credentialEvent);
    return result;
  }

  usageOf(credentialId: string): readonly UsageSample[] {
    return this.usage.get(credentialId) ?? [];
  }

  refreshFailureOf(credentialId: string): RefreshFailureFact | null {
    return this.refreshFailures.get(credentialId) ?? null;
  }

  allPools(): readonly PoolFacts[] {
    return [...this.pools.values()];
  }

  setAside(): readonly SetAsideFact[] {
    return [...this.setAsideMessages.values()];
  }

  private applySideFacts(event: CredentialEvent): void {
    const id = event.data.credentialId;
    switch (event.type) {
      case 'credential.usage-recorded.v1': {
        if (event.data.requests === 0) return;
        const end = Date.parse(event.data.windowEnd);
        const kept = (this.usage.get(id) ?? []).filter((s) => s.end > end - MAX_SAMPLE_AGE_MS);
        kept.push({ end, requests: event.data.requests, failures: event.data.failures });
        this.usage.set(id, kept);
        return;
      }
      case 'credential.refresh-failed.v1':
        this.refreshFailures.set(id, {
          kind: event.data.kind,
          error: event.data.error,
          status: event.data.status ?? null,
          consecutive: event.data.consecutiveFailures,
        });
        return;
      case 'credential.reauth-required.v1':
        // The provider refused the refresh token for good: a permanent refresh failure.
        this.refreshFailures.set(id, {
          kind: 'permanent',
          error: event.data.error,
          status: this.refreshFailures.get(id)?.status ?? null,
          consecutive: (this.refreshFailures.get(id)?.consecutive ?? 0) + 1,
        });
        return;
      case 'credential.refreshed.v1':
        this.refreshFailures.delete(id);
        return;
      default:
        return;
    }
  }

  private applyPoolWindow(data: {
    provider: string;
    pool: string;
    windowEnd: string;
    served: number;
    refused: number;
  }): void {
    const key = `${data.provider}/${data.pool}`;
    const end = Date.parse(data.windowEnd);
    const current: PoolFacts = this.pools.get(key) ?? {
      provider: data.provider,
      pool: data.pool,
      lastRefusalEnd: null,
      refusedInLastWindow: 0,
      lastCleanEnd: null,
    };
    if (data.refused > 0 && end >= (current.lastRefusalEnd ?? -Infinity)) {
      this.pools.set(key, { ...current, lastRefusalEnd: end, refusedInLastWindow: data.refused });
    } else if (
      data.refused === 0 &&
      data.served > 0 &&
      end >= (current.lastCleanEnd ?? -Infinity)
    ) {
      this.pools.set(key, { ...current, lastCleanEnd: end });
    }
  }
}
