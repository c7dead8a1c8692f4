import type { CredentialHealth, CredentialView } from '@broker/contracts';
import type { CredentialState } from '../credential/state.js';
import { toCredentialView, toHealthView } from './credential-views.js';

/** What a live replica says about a credential, as `credentials.get` and `credentials.status` answer. */
export interface LiveCredential {
  readonly credential: CredentialView;
  readonly health: CredentialHealth;
  readonly version: number;
}

/** Fields that depend on the state alone, whatever the clock says. */
const STABLE_VIEW_FIELDS = [
  'provider',
  'pool',
  'label',
  'status',
  'statusReason',
  'statusChangedAt',
  'expiresAt',
  'lastRefreshAt',
  'refreshCount',
  'priority',
  'fingerprint',
  'hasRefreshToken',
  'scopes',
  'addedAt',
] as const satisfies readonly (keyof CredentialView)[];

const STABLE_HEALTH_FIELDS = [
  'consecutiveFailures',
  'refreshRequired',
  'refreshing',
  'refreshFailures',
  'lastRefreshError',
  'refreshOutcomeUnknown',
] as const satisfies readonly (keyof CredentialHealth)[];

/** Shown only while they run: a live value must be the folded one; a live null says nothing. */
const RUNNING_HEALTH_FIELDS = [
  'backoffUntil',
  'coolingUntil',
  'coolingStatus',
  'nextRefreshAttemptAt',
] as const satisfies readonly (keyof CredentialHealth)[];

const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

/**
 * Where a credential folded from the log disagrees with what a live replica
 * says about it at the same stream version. Compares what does not depend on the
 * clock; usage is left out, since a replica adds what it has not flushed yet.
 * Empty when they agree.
 */
export const differencesFromLive = (folded: CredentialState, live: LiveCredential): string[] => {
  const differences: string[] = [];
  const differ = (field: string, mine: unknown, theirs: unknown) => {
    if (JSON.stringify(mine) !== JSON.stringify(theirs))
      differences.push(`${field}: the log says ${show(mine)}, the live service ${show(theirs)}`);
  };
  differ('version', folded.version, live.version);
  const view = toCredentialView(folded, 0);
  for (const field of STABLE_VIEW_FIELDS) differ(field, view[field], live.credential[field]);
  // At the earliest possible moment every cooldown and backoff is still running.
  const health = toHealthView(folded, Number.NEGATIVE_INFINITY);
  for (const field of STABLE_HEALTH_FIELDS) differ(field, health[field], live.health[field]);
  for (const field of RUNNING_HEALTH_FIELDS) {
    if (live.health[field] !== null) differ(field, health[field], live.health[field]);
  }
  for (const [model, until] of Object.entries(live.health.modelCooldowns))
    differ(`modelCooldowns.${model}`, health.modelCooldowns[model], until);
  return differences;
};
