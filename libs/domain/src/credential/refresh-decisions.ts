import { BrokerError, type CredentialEvent } from '@broker/contracts';
import type {
  CompleteRefresh,
  FailRefresh,
  MarkRefreshOutcomeUnknown,
  StartRefresh,
} from './commands.js';
import type { CredentialState } from './state.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export const REFRESH_BACKOFF_BASE_MS = 1_000;
export const REFRESH_BACKOFF_MAX_MS = 5 * 60_000;

/** Backoff after the n-th transient refresh failure in a row, spread by ±20 % jitter. */
export const refreshBackoff = (consecutiveFailures: number, jitter: number): number => {
  const base = Math.min(
    REFRESH_BACKOFF_BASE_MS * 2 ** Math.min(consecutiveFailures - 1, 20),
    REFRESH_BACKOFF_MAX_MS,
  );
  return Math.round(base * (0.8 + 0.4 * jitter));
};

/** The refresh this command completes must still be the one in flight: a late writer is refused. */
const mustBeInFlight = (state: CredentialState, refreshId: string): void => {
  if (state.refresh.inFlight?.refreshId !== refreshId) {
    throw new BrokerError(
      'INTERNAL',
      `refresh ${refreshId} of credential '${state.id}' is no longer the one in flight; its result is discarded`,
    );
  }
};

export const startRefresh = (
  command: StartRefresh,
  state: CredentialState,
  now: number,
): CredentialEvent[] => {
  const { credentialId } = command.data;
  if (state.status === 'reauth-required') {
    throw new BrokerError(
      'REAUTH_REQUIRED',
      `credential '${credentialId}' needs re-authorisation: ${state.statusReason ?? ''}`,
    );
  }
  if (state.status !== 'active') {
    throw new BrokerError(
      'REFRESH_FAILED',
      `credential '${credentialId}' is ${state.status}; it is not refreshed`,
    );
  }
  if (state.secrets.refreshToken === undefined) {
    throw new BrokerError(
      'REFRESH_FAILED',
      `credential '${credentialId}' has no refresh token; add a new token or log in again`,
    );
  }
  const { knownRefreshCount, ...startedData } = command.data;
  // Decided on a state that was behind: a sibling refreshed meanwhile, so there is nothing to do.
  if (state.refreshCount > knownRefreshCount) return [];
  const started: CredentialEvent = {
    type: 'credential.refresh-started.v1',
    data: { ...startedData, startedAt: iso(now) },
  };
  const orphan = state.refresh.inFlight;
  // The caller holds the lock, so an earlier refresh still "in flight" died with its process.
  if (orphan === null) return [started];
  return [
    {
      type: 'credential.refresh-outcome-unknown.v1',
      data: { credentialId, refreshId: orphan.refreshId, detectedBy: command.data.replica },
    },
    started,
  ];
};

export const completeRefresh = (
  command: CompleteRefresh,
  state: CredentialState,
  now: number,
): CredentialEvent[] => {
  mustBeInFlight(state, command.data.refreshId);
  return [{ type: 'credential.refreshed.v1', data: { ...command.data, refreshedAt: iso(now) } }];
};

export const failRefresh = (
  command: FailRefresh,
  state: CredentialState,
  now: number,
): CredentialEvent[] => {
  const { jitter, ...failure } = command.data;
  mustBeInFlight(state, failure.refreshId);
  if (failure.kind === 'permanent') {
    const said =
      failure.description === undefined
        ? failure.error
        : `${failure.error}: ${failure.description}`;
    const reason = state.refresh.outcomeUnknown
      ? `an earlier refresh was cut off before its result was stored, and the provider now rejects the stored refresh token (${said}); log in again`
      : `the provider rejected the refresh token (${said}); log in again`;
    return [
      {
        type: 'credential.reauth-required.v1',
        data: {
          credentialId: failure.credentialId,
          refreshId: failure.refreshId,
          error: failure.error,
          reason,
          at: iso(now),
        },
      },
    ];
  }
  if (failure.kind === 'superseded') {
    return [
      {
        type: 'credential.refresh-failed.v1',
        data: { ...failure, consecutiveFailures: state.refresh.consecutiveFailures },
      },
    ];
  }
  const consecutiveFailures = state.refresh.consecutiveFailures + 1;
  const wait = Math.max(refreshBackoff(consecutiveFailures, jitter), failure.retryAfterMs ?? 0);
  return [
    {
      type: 'credential.refresh-failed.v1',
      data: { ...failure, consecutiveFailures, nextAttemptAt: iso(now + wait) },
    },
  ];
};

export const markOutcomeUnknown = (
  command: MarkRefreshOutcomeUnknown,
  state: CredentialState,
): CredentialEvent[] =>
  state.refresh.inFlight?.refreshId === command.data.refreshId
    ? [{ type: 'credential.refresh-outcome-unknown.v1', data: command.data }]
    : [];
