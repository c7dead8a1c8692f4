/** How reports turn into health, per pool (`pools.<provider>/<pool>.health` in the config). */
export interface HealthPolicy {
  /** Consecutive failures after which a credential backs off. */
  readonly failuresToUnhealthy: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Cooldown after a 429/402 that came without a reset hint. */
  readonly defaultCooldownMs: number;
  /** Upper bound on any provider reset hint, so that a bad hint cannot park an account for days. */
  readonly maxCooldownMs: number;
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = {
  failuresToUnhealthy: 3,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  defaultCooldownMs: 60_000,
  maxCooldownMs: 30 * 60_000,
};

/** Backoff for the n-th consecutive failure: base at the threshold, doubling, capped. */
export const backoffFor = (consecutiveFailures: number, policy: HealthPolicy): number => {
  const doublings = Math.max(0, consecutiveFailures - policy.failuresToUnhealthy);
  // 2^31 already exceeds any sane cap; stop before the number loses meaning.
  return Math.min(policy.backoffBaseMs * 2 ** Math.min(doublings, 31), policy.backoffMaxMs);
};

export const cooldownFor = (
  requestedMs: number | undefined,
  policy: HealthPolicy,
): { cooldownMs: number; capped: boolean } => {
  const wanted = requestedMs ?? policy.defaultCooldownMs;
  return wanted > policy.maxCooldownMs
    ? { cooldownMs: policy.maxCooldownMs, capped: true }
    : { cooldownMs: wanted, capped: false };
};
