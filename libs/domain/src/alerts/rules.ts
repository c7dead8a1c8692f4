import type { CredentialState } from '../credential/state.js';
import type { AlertFacts, PoolFacts, SetAsideFact } from './alert-facts.js';
import { about, alertKey, condition, where, type Condition } from './condition.js';
import { DEFAULT_RULE_POLICY, expiryWarning, type RulePolicy } from './expiry-rule.js';
import type { AlertThresholds } from './thresholds.js';

export { alertKey, type Condition } from './condition.js';
export { DEFAULT_RULE_POLICY, type RulePolicy } from './expiry-rule.js';

const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;
const rounded = (value: number): number => Math.round(value * 10_000) / 10_000;

/**
 * Failure rate over the sliding window. A firing alert keeps firing on any
 * volume while the rate stays above the threshold, and through a window with
 * no requests at all, so that a quiet minute does not resolve it and the next
 * failure fire it again: it resolves only when requests show the rate back
 * at or under the threshold.
 */
const failureRate = (
  facts: AlertFacts,
  credential: CredentialState,
  now: number,
  t: AlertThresholds,
  firing: boolean,
): Condition | null => {
  const since = now - t.windowSeconds * 1000;
  let requests = 0;
  let failures = 0;
  for (const sample of facts.usageOf(credential.id)) {
    if (sample.end <= since || sample.end > now + t.windowSeconds * 1000) continue;
    requests += sample.requests;
    failures += sample.failures;
  }
  if (requests === 0) {
    return firing
      ? condition(
          'failure',
          about(credential),
          'High failure rate: no requests in the window to show a recovery',
          {
            ...where(credential),
            total_requests: 0,
            threshold: t.failureRateThreshold,
            window_seconds: t.windowSeconds,
          },
        )
      : null;
  }
  const rate = failures / requests;
  if (rate <= t.failureRateThreshold) return null;
  if (requests < t.minRequests && !firing) return null;
  return condition('failure', about(credential), `High failure rate detected: ${percent(rate)}`, {
    ...where(credential),
    failure_rate: rounded(rate),
    success_rate: rounded(1 - rate),
    total_requests: requests,
    error_count: failures,
    threshold: t.failureRateThreshold,
    window_seconds: t.windowSeconds,
  });
};

const refreshFailure = (
  facts: AlertFacts,
  credential: CredentialState,
  t: AlertThresholds,
): Condition | null => {
  const failure = facts.refreshFailureOf(credential.id);
  if (failure === null || failure.kind === 'superseded') return null;
  if (failure.kind === 'transient' && failure.consecutive < t.refreshFailuresToAlert) return null;
  const message =
    failure.kind === 'permanent'
      ? `Refresh refused for good: ${failure.error}`
      : `Refresh failing: ${failure.consecutive} failures in a row, last ${failure.error}`;
  return condition('refresh', about(credential), message, {
    ...where(credential),
    error: failure.error,
    error_kind: failure.kind,
    consecutive_failures: failure.consecutive,
    status: failure.status,
  });
};

const reauthRequired = (credential: CredentialState): Condition | null =>
  credential.status !== 'reauth-required'
    ? null
    : condition(
        'reauth_required',
        about(credential),
        `Re-authorisation required: ${credential.refresh.lastError ?? 'the provider refused the refresh token'}`,
        {
          ...where(credential),
          error: credential.refresh.lastError,
          reason: credential.statusReason ?? null,
        },
      );

const rotationDue = (credential: CredentialState): Condition | null =>
  credential.status !== 'active' ||
  credential.rotation.dueAt === null ||
  credential.rotation.successorId !== null
    ? null
    : condition('rotation', about(credential), 'Rotation due: add a successor account', {
        ...where(credential),
        due_at: new Date(credential.rotation.dueAt).toISOString(),
      });

const poolExhausted = (pool: PoolFacts): Condition | null =>
  pool.lastRefusalEnd === null || (pool.lastCleanEnd ?? -Infinity) > pool.lastRefusalEnd
    ? null
    : condition(
        'pool_exhausted',
        { provider: pool.provider, pool: pool.pool },
        `Pool exhausted: ${pool.provider}/${pool.pool} refused ${pool.refusedInLastWindow} leases, no credential could serve`,
        {
          provider: pool.provider,
          pool: pool.pool,
          refused: pool.refusedInLastWindow,
          window_end: new Date(pool.lastRefusalEnd).toISOString(),
        },
      );

/** A message a consumer gave up on: it stays set aside, so the alert does not resolve. */
const messageSetAside = (record: SetAsideFact): Condition =>
  condition(
    'message_set_aside',
    { setAside: record.key },
    `${record.consumer} set aside ${record.event === null ? 'a message' : `event ${record.event.type} at position ${record.event.globalPosition}`} on ${record.subject} after ${record.attempts} attempts: ${record.reason}`,
    {
      consumer: record.consumer,
      replica: record.replica,
      subject: record.subject,
      stream_sequence: record.streamSequence,
      attempts: record.attempts,
      reason: record.reason,
      event_id: record.event?.eventId ?? null,
      event_type: record.event?.type ?? null,
      global_position: record.event?.globalPosition ?? null,
      set_aside_at: record.setAsideAt,
    },
  );

/** Every incident the facts show at `now`; `firing` holds the keys of alerts firing now. */
export const evaluateRules = (
  facts: AlertFacts,
  now: number,
  thresholds: AlertThresholds,
  firing: ReadonlySet<string>,
  policy: RulePolicy = DEFAULT_RULE_POLICY,
): Condition[] => {
  const found: (Condition | null)[] = [];
  for (const credential of facts.credentials.all()) {
    if (credential.status === 'revoked' || credential.status === 'decommissioned') continue;
    const failing = firing.has(alertKey('failure', about(credential)));
    found.push(
      failureRate(facts, credential, now, thresholds, failing),
      refreshFailure(facts, credential, thresholds),
      reauthRequired(credential),
      expiryWarning(facts, credential, now, thresholds, policy),
      rotationDue(credential),
    );
  }
  for (const pool of facts.allPools()) found.push(poolExhausted(pool));
  for (const record of facts.setAside()) found.push(messageSetAside(record));
  return found.filter((c): c is Condition => c !== null);
};
