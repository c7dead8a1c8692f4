import type { AlertDetails } from '@broker/contracts';
import type { CredentialState } from '../credential/state.js';
import type { AlertFacts } from './alert-facts.js';
import { about, condition, where, type Condition } from './condition.js';
import type { AlertThresholds } from './thresholds.js';

/** What the rules must know of the pools' configuration. */
export interface RulePolicy {
  /** Whether a rotated credential of the pool is decommissioned when its grace period ends. */
  readonly autoDecommissions: (provider: string, pool: string) => boolean;
}

/** The configuration's default: rotated credentials are decommissioned after their grace. */
export const DEFAULT_RULE_POLICY: RulePolicy = { autoDecommissions: () => true };

interface Ending {
  readonly at: number;
  /** "Token" or "Credential": what ends. */
  readonly what: string;
  /** Why nothing will take its place. */
  readonly why: string;
  readonly details: AlertDetails;
}

/** The access token ends and nothing will renew it: no refresh token, or refreshes keep failing. */
const tokenEnding = (
  facts: AlertFacts,
  credential: CredentialState,
  t: AlertThresholds,
): Ending | null => {
  const hasRefreshToken = credential.secrets.refreshToken !== undefined;
  const failure = facts.refreshFailureOf(credential.id);
  const refreshFailing =
    failure !== null &&
    failure.kind !== 'superseded' &&
    failure.consecutive >= t.refreshFailuresToAlert;
  if (hasRefreshToken && !refreshFailing) return null;
  return {
    at: credential.expiresAt,
    what: 'Token',
    why: hasRefreshToken ? 'its refreshes keep failing' : 'it has no refresh token',
    details: { ends: 'token', has_refresh_token: hasRefreshToken },
  };
};

/**
 * The credential itself ends: a rotated one is decommissioned when its grace
 * period is over. That is the plan while its successor serves; it is an
 * incident when the successor cannot take over (re-authorisation required,
 * revoked, gone), because then the pool loses the account with nothing in its place.
 */
const credentialEnding = (
  facts: AlertFacts,
  credential: CredentialState,
  policy: RulePolicy,
): Ending | null => {
  const { graceUntil, successorId } = credential.rotation;
  if (graceUntil === null || !policy.autoDecommissions(credential.provider, credential.pool))
    return null;
  const successor = successorId === null ? undefined : facts.credentials.get(successorId);
  if (successor?.status === 'active') return null;
  const successorStatus = successor?.status ?? 'unknown';
  return {
    at: graceUntil,
    what: 'Credential',
    why: `its successor '${successorId ?? ''}' is ${successorStatus === 'unknown' ? 'not known' : successorStatus}`,
    details: {
      ends: 'rotation_grace',
      successor_id: successorId,
      successor_status: successorStatus,
    },
  };
};

/**
 * Expiry warning: the token or the credential ends within the warning time and
 * nothing will renew or replace it. The earlier such end is the one named.
 */
export const expiryWarning = (
  facts: AlertFacts,
  credential: CredentialState,
  now: number,
  t: AlertThresholds,
  policy: RulePolicy,
): Condition | null => {
  if (credential.status !== 'active') return null;
  const ending = [tokenEnding(facts, credential, t), credentialEnding(facts, credential, policy)]
    .filter((e): e is Ending => e !== null && e.at - now <= t.expiryWarningSeconds * 1000)
    .sort((a, b) => a.at - b.at)[0];
  if (ending === undefined) return null;
  const secondsLeft = Math.round((ending.at - now) / 1000);
  const when =
    secondsLeft > 0
      ? `${ending.what === 'Token' ? 'expires' : 'ends'} in ${Math.ceil(secondsLeft / 60)} minutes`
      : `${ending.what === 'Token' ? 'has expired' : 'has ended'}`;
  return condition(
    'expiry_warning',
    about(credential),
    `${ending.what} ${when} and ${ending.why}`,
    {
      ...where(credential),
      ...ending.details,
      expires_at: new Date(ending.at).toISOString(),
      seconds_left: secondsLeft,
      warning_seconds: t.expiryWarningSeconds,
    },
  );
};
