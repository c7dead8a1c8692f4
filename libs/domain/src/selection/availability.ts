import type { SkipReason } from '@broker/contracts';
import type { HealthPolicy } from '../credential/health-policy.js';
import type { CredentialState } from '../credential/state.js';

export interface LeaseAsk {
  readonly minValiditySeconds: number;
  readonly exclude: ReadonlySet<string>;
  readonly model?: string;
}

export type Availability =
  | { readonly usable: true; readonly halfOpenTrial: boolean }
  | {
      readonly usable: false;
      readonly reason: SkipReason;
      /** When the credential is expected to be usable again on its own, if it will be. */
      readonly availableAt?: number;
    };

const later = (a: number | null | undefined, now: number): a is number =>
  a !== null && a !== undefined && a > now;

/**
 * Whether one credential can serve one lease request now. Order matters: the first
 * reason that applies is the one recorded, from the most to the least permanent.
 */
export interface AvailabilityContext {
  readonly now: number;
  readonly policy: HealthPolicy;
  readonly trialsInFlight: Pick<ReadonlySet<string>, 'has'>;
  /** How long a refresh is expected to take, for the retry hint while one runs. */
  readonly refreshEstimateMs: number;
}

/** When a refresh could give this credential a fresh token, if it can be refreshed at all. */
const refreshedBy = (
  credential: CredentialState,
  { now, refreshEstimateMs }: AvailabilityContext,
): number | undefined => {
  if (credential.secrets.refreshToken === undefined) return undefined;
  const { inFlight, nextAttemptAt } = credential.refresh;
  if (inFlight !== null) return Math.max(now + 1, inFlight.startedAt + refreshEstimateMs);
  return Math.max(now, nextAttemptAt ?? now) + refreshEstimateMs;
};

export const availability = (
  credential: CredentialState,
  ask: LeaseAsk,
  context: AvailabilityContext,
): Availability => {
  const { now, policy, trialsInFlight } = context;
  if (credential.status !== 'active') return { usable: false, reason: credential.status };
  if (ask.exclude.has(credential.id)) return { usable: false, reason: 'excluded' };
  const { health } = credential;
  const refreshed = () => {
    const at = refreshedBy(credential, context);
    return at === undefined ? {} : { availableAt: at };
  };
  if (health.refreshRequired) return { usable: false, reason: 'refresh-required', ...refreshed() };
  // While a refresh runs, leases go elsewhere: the token may be replaced any moment.
  if (credential.refresh.inFlight !== null)
    return { usable: false, reason: 'refreshing', ...refreshed() };
  if (later(health.coolingUntil, now))
    return { usable: false, reason: 'cooling', availableAt: health.coolingUntil };
  const modelUntil = ask.model === undefined ? undefined : health.modelCooldowns[ask.model];
  if (later(modelUntil, now))
    return { usable: false, reason: 'model-cooling', availableAt: modelUntil };
  if (later(health.backoffUntil, now))
    return { usable: false, reason: 'backing-off', availableAt: health.backoffUntil };
  const halfOpenTrial = health.consecutiveFailures >= policy.failuresToUnhealthy;
  if (halfOpenTrial && trialsInFlight.has(credential.id))
    return { usable: false, reason: 'trial-in-flight' };
  // A token valid for exactly the requested time still serves the request.
  if (credential.expiresAt < now + ask.minValiditySeconds * 1000)
    return { usable: false, reason: 'expiring' };
  return { usable: true, halfOpenTrial };
};

/** A credential that counts toward the pool at all: not revoked, decommissioned or awaiting re-authorisation. */
export const isActive = (credential: CredentialState): boolean => credential.status === 'active';
