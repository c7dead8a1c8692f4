import type { SelectionPolicy, SelectionReason, SkipReason } from '@broker/contracts';
import type { HealthPolicy } from '../credential/health-policy.js';
import type { CredentialState } from '../credential/state.js';
import { availability, isActive, type LeaseAsk } from './availability.js';

export interface SelectionInput {
  /** The pool's credentials in rotation order. */
  readonly credentials: readonly CredentialState[];
  readonly policy: SelectionPolicy;
  readonly health: HealthPolicy;
  /** Id of the credential this pool handed out last, for round-robin. */
  readonly lastChosen: string | null;
  /** Where `lastChosen` stood in `credentials` last time: spares a search of a large pool. */
  readonly lastPosition?: number;
  readonly ask: LeaseAsk;
  readonly now: number;
  readonly trialsInFlight: Pick<ReadonlySet<string>, 'has'>;
  /** Expected duration of a refresh, for retry hints; 2 s when unknown. */
  readonly refreshEstimateMs?: number;
}

export type Selection =
  | { readonly ok: true; readonly credential: CredentialState; readonly reason: SelectionReason }
  | {
      readonly ok: false;
      readonly code: 'NO_CREDENTIALS' | 'ALL_CREDENTIALS_UNAVAILABLE';
      readonly message: string;
      readonly retryAfterMs?: number;
      readonly skipped: SelectionReason['skipped'];
    };

const summarise = (skipped: readonly { reason: SkipReason }[]): string => {
  const counts = new Map<SkipReason, number>();
  for (const { reason } of skipped) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} ${reason}`).join(', ');
};

/** Where round-robin starts: just after the credential handed out last (found by its hint when it still fits). */
const rotationStart = (
  credentials: readonly CredentialState[],
  lastChosen: string | null,
  lastPosition: number | undefined,
): number => {
  if (lastChosen === null) return 0;
  if (lastPosition !== undefined && credentials[lastPosition]?.id === lastChosen)
    return lastPosition + 1;
  return credentials.findIndex((c) => c.id === lastChosen) + 1;
};

/**
 * Picks the credential for one lease. Pure: the caller passes the pool, the
 * clock and which credentials have a half-open trial out.
 */
export const selectCredential = (input: SelectionInput): Selection => {
  const { credentials, ask, now, health, trialsInFlight } = input;
  const context = {
    now,
    policy: health,
    trialsInFlight,
    refreshEstimateMs: input.refreshEstimateMs ?? 2000,
  };
  const skipped: { credentialId: string; reason: SkipReason }[] = [];
  let earliest: number | undefined;
  let best: { index: number; halfOpenTrial: boolean } | undefined;

  const count = credentials.length;
  const start = rotationStart(credentials, input.lastChosen, input.lastPosition);
  for (let step = 0; step < count; step += 1) {
    const index = (start + step) % count;
    const credential = credentials[index] as CredentialState;
    const verdict = availability(credential, ask, context);
    if (!verdict.usable) {
      skipped.push({ credentialId: credential.id, reason: verdict.reason });
      if (verdict.availableAt !== undefined)
        earliest = Math.min(earliest ?? Infinity, verdict.availableAt);
      continue;
    }
    const better =
      best === undefined ||
      (input.policy === 'priority' &&
        credential.priority < (credentials[best.index] as CredentialState).priority);
    if (better) best = { index, halfOpenTrial: verdict.halfOpenTrial };
    if (input.policy === 'round-robin') break;
  }

  if (best === undefined) {
    const active = credentials.filter(isActive).length;
    if (active === 0) {
      const why =
        credentials.length === 0
          ? 'the pool has no credentials'
          : `none is active (${summarise(skipped)})`;
      return { ok: false, code: 'NO_CREDENTIALS', message: why, skipped };
    }
    return {
      ok: false,
      code: 'ALL_CREDENTIALS_UNAVAILABLE',
      message: `no credential can serve this request now: ${summarise(skipped)}`,
      ...(earliest === undefined ? {} : { retryAfterMs: Math.max(1, Math.ceil(earliest - now)) }),
      skipped,
    };
  }

  return {
    ok: true,
    credential: credentials[best.index] as CredentialState,
    reason: {
      policy: input.policy,
      position: best.index,
      candidates: credentials.length,
      halfOpenTrial: best.halfOpenTrial,
      skipped,
    },
  };
};
