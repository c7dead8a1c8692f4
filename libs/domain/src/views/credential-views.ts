import type {
  CredentialCondition,
  CredentialHealth,
  CredentialMetrics,
  CredentialView,
  PoolStatus,
} from '@broker/contracts';
import type { CredentialState, CredentialUsageTotals } from '../credential/state.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** The one word an operator needs about a credential at `now`. */
export const conditionOf = (c: CredentialState, now: number): CredentialCondition => {
  if (c.status !== 'active') return c.status;
  if (c.health.refreshRequired) return 'refresh-required';
  if (c.health.coolingUntil !== null && c.health.coolingUntil > now) return 'cooling';
  if (c.health.backoffUntil !== null && c.health.backoffUntil > now) return 'backing-off';
  if (c.expiresAt <= now) return 'expired';
  return 'ok';
};

export const toCredentialView = (c: CredentialState, now: number): CredentialView => ({
  id: c.id,
  provider: c.provider,
  pool: c.pool,
  ...(c.label === undefined ? {} : { label: c.label }),
  status: c.status,
  ...(c.statusReason === undefined ? {} : { statusReason: c.statusReason }),
  ...(c.statusChangedAt === null ? {} : { statusChangedAt: iso(c.statusChangedAt) }),
  state: conditionOf(c, now),
  expiresAt: iso(c.expiresAt),
  lastRefreshAt: isoOrNull(c.lastRefreshAt),
  refreshCount: c.refreshCount,
  priority: c.priority,
  fingerprint: c.fingerprint,
  hasRefreshToken: c.secrets.refreshToken !== undefined,
  scopes: [...c.scopes],
  addedAt: iso(c.addedAt),
});

export const toHealthView = (c: CredentialState, now: number): CredentialHealth => {
  const cooling = c.health.coolingUntil !== null && c.health.coolingUntil > now;
  return {
    consecutiveFailures: c.health.consecutiveFailures,
    backoffUntil:
      c.health.backoffUntil !== null && c.health.backoffUntil > now
        ? iso(c.health.backoffUntil)
        : null,
    coolingUntil: cooling ? iso(c.health.coolingUntil) : null,
    coolingStatus: cooling ? c.health.coolingStatus : null,
    modelCooldowns: Object.fromEntries(
      Object.entries(c.health.modelCooldowns)
        .filter(([, until]) => until > now)
        .map(([model, until]) => [model, iso(until)]),
    ),
    refreshRequired: c.health.refreshRequired,
    refreshing: c.refresh.inFlight !== null,
    refreshFailures: c.refresh.consecutiveFailures,
    nextRefreshAttemptAt:
      c.refresh.nextAttemptAt !== null && c.refresh.nextAttemptAt > now
        ? iso(c.refresh.nextAttemptAt)
        : null,
    lastRefreshError: c.refresh.lastError,
    refreshOutcomeUnknown: c.refresh.outcomeUnknown,
  };
};

export const toMetricsView = (u: CredentialUsageTotals): CredentialMetrics => ({
  leases: u.leases,
  requests: u.requests,
  successes: u.successes,
  failures: u.failures,
  successRate: u.requests === 0 ? null : u.successes / u.requests,
  byStatus: { ...u.byStatus },
  tokensUsed: u.tokensUsed,
  averageLatencyMs: u.latencySamples === 0 ? null : u.latencyMsTotal / u.latencySamples,
  lastUsedAt: isoOrNull(u.lastUsedAt),
});

export const toPoolStatus = (
  provider: string,
  pool: string,
  members: readonly CredentialState[],
  now: number,
): PoolStatus => {
  const status: PoolStatus = {
    provider,
    pool,
    total: members.length,
    usable: 0,
    cooling: 0,
    backingOff: 0,
    refreshRequired: 0,
    reauthRequired: 0,
    expired: 0,
    nextExpiry: null,
  };
  let nextExpiry: number | null = null;
  for (const c of members) {
    const condition = conditionOf(c, now);
    if (condition === 'ok') status.usable += 1;
    else if (condition === 'cooling') status.cooling += 1;
    else if (condition === 'backing-off') status.backingOff += 1;
    else if (condition === 'refresh-required') status.refreshRequired += 1;
    else if (condition === 'reauth-required') status.reauthRequired += 1;
    else if (condition === 'expired') status.expired += 1;
    if (c.status === 'active' && c.expiresAt > now)
      nextExpiry = Math.min(nextExpiry ?? c.expiresAt, c.expiresAt);
  }
  status.nextExpiry = isoOrNull(nextExpiry);
  return status;
};
