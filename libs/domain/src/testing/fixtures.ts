/**
 * Builders for the domain's unit specs: events, folded states and pools with
 * fixed clocks, so that each spec states only what its rule is about. Pure code:
 * no clock, no randomness, no I/O.
 */
import {
  BrokerError,
  type CredentialEvent,
  type CredentialEventOf,
  type CredentialEventType,
} from '@broker/contracts';
import { evolveAt } from '../credential/evolve.js';
import {
  HEALTHY,
  NO_REFRESH,
  NO_USAGE,
  NOT_ROTATING,
  type CredentialHealthState,
  type CredentialState,
  type CredentialUsageTotals,
} from '../credential/state.js';

/** The fixed "now" of every spec: 2026-01-01T00:00:00.000Z. */
export const NOW = Date.parse('2026-01-01T00:00:00.000Z');
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export const iso = (ms: number): string => new Date(ms).toISOString();

export const CREDENTIAL_ID = 'cred-a';
export const LEASE_ID = '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f';
export const OTHER_LEASE_ID = '0b6d8f3a-2c1e-4f5a-8b7c-9d0e1f2a3b4c';

/** Encrypted token material in the shape the log stores (`enc:v1:<kid>:<iv>:<ct>`). */
export const ENCRYPTED_SECRETS = {
  accessToken: 'enc:v1:k1:aXYtYWNjZXNz:Y3QtYWNjZXNz',
  refreshToken: 'enc:v1:k1:aXYtcmVmcmVzaA:Y3QtcmVmcmVzaA',
} as const;

type DataOf<T extends CredentialEventType> = CredentialEventOf<T>['data'];

/** What an `AddCredential` command carries: the added event's data before it is stamped. */
export const newCredentialData = (
  overrides: Partial<Omit<DataOf<'credential.added.v1'>, 'addedAt'>> = {},
): Omit<DataOf<'credential.added.v1'>, 'addedAt'> => ({
  credentialId: CREDENTIAL_ID,
  provider: 'gemini-cli',
  pool: 'default',
  priority: 0,
  scopes: ['https://www.googleapis.com/auth/cloud-platform'],
  metadata: {},
  tokenType: 'Bearer',
  expiresAt: iso(NOW + HOUR),
  secrets: { ...ENCRYPTED_SECRETS },
  fingerprint: 'fp:3f2a9c',
  source: 'add',
  ...overrides,
});

export const addedEvent = (
  overrides: Partial<DataOf<'credential.added.v1'>> = {},
): CredentialEventOf<'credential.added.v1'> => ({
  type: 'credential.added.v1',
  data: { ...newCredentialData(), addedAt: iso(NOW - HOUR), ...overrides },
});

export const failureRecordedEvent = (
  consecutiveFailures: number,
  overrides: Partial<DataOf<'credential.failure-recorded.v1'>> = {},
): CredentialEventOf<'credential.failure-recorded.v1'> => ({
  type: 'credential.failure-recorded.v1',
  data: {
    credentialId: CREDENTIAL_ID,
    leaseId: LEASE_ID,
    status: 500,
    consecutiveFailures,
    ...overrides,
  },
});

export const backedOffEvent = (
  consecutiveFailures: number,
  until: number,
  overrides: Partial<DataOf<'credential.backed-off.v1'>> = {},
): CredentialEventOf<'credential.backed-off.v1'> => ({
  type: 'credential.backed-off.v1',
  data: {
    credentialId: CREDENTIAL_ID,
    leaseId: LEASE_ID,
    status: 500,
    consecutiveFailures,
    backoffMs: 1_000,
    until: iso(until),
    ...overrides,
  },
});

export const cooledDownEvent = (
  until: number,
  overrides: Partial<DataOf<'credential.cooled-down.v1'>> = {},
): CredentialEventOf<'credential.cooled-down.v1'> => ({
  type: 'credential.cooled-down.v1',
  data: {
    credentialId: CREDENTIAL_ID,
    leaseId: LEASE_ID,
    status: 429,
    cooldownMs: 60_000,
    capped: false,
    until: iso(until),
    ...overrides,
  },
});

export const refreshRequiredEvent = (
  overrides: Partial<DataOf<'credential.refresh-required.v1'>> = {},
): CredentialEventOf<'credential.refresh-required.v1'> => ({
  type: 'credential.refresh-required.v1',
  data: { credentialId: CREDENTIAL_ID, leaseId: LEASE_ID, status: 401, ...overrides },
});

export const recoveredEvent = (
  previousFailures: number,
  overrides: Partial<DataOf<'credential.recovered.v1'>> = {},
): CredentialEventOf<'credential.recovered.v1'> => ({
  type: 'credential.recovered.v1',
  data: { credentialId: CREDENTIAL_ID, leaseId: LEASE_ID, previousFailures, ...overrides },
});

export const usageRecordedEvent = (
  overrides: Partial<DataOf<'credential.usage-recorded.v1'>> = {},
): CredentialEventOf<'credential.usage-recorded.v1'> => ({
  type: 'credential.usage-recorded.v1',
  data: {
    credentialId: CREDENTIAL_ID,
    replica: 'token-service-1',
    windowStart: iso(NOW - MINUTE),
    windowEnd: iso(NOW),
    leases: 0,
    requests: 0,
    successes: 0,
    failures: 0,
    byStatus: {},
    tokensUsed: 0,
    latencyMsTotal: 0,
    latencySamples: 0,
    lastUsedAt: null,
    ...overrides,
  },
});

export const revokedEvent = (
  overrides: Partial<DataOf<'credential.revoked.v1'>> = {},
): CredentialEventOf<'credential.revoked.v1'> => ({
  type: 'credential.revoked.v1',
  data: { credentialId: CREDENTIAL_ID, reason: 'leaked in a log file', ...overrides },
});

/** Folds past events as the log would replay them: stream versions 1, 2, 3, ... */
export const stateFrom = (events: readonly CredentialEvent[]): CredentialState | null =>
  events.reduce<CredentialState | null>(
    (state, event, index) => evolveAt(state, event, index + 1),
    null,
  );

/** Like `stateFrom`, for histories that must produce a credential. */
export const given = (...events: CredentialEvent[]): CredentialState => {
  const state = stateFrom(events);
  if (state === null) throw new Error('given: these events do not produce a credential');
  return state;
};

export type CredentialOverrides = Partial<Omit<CredentialState, 'health' | 'usage' | 'refresh'>> & {
  readonly health?: Partial<CredentialHealthState>;
  readonly refresh?: Partial<CredentialState['refresh']>;
  readonly usage?: Partial<CredentialUsageTotals>;
};

/** A credential state built directly, for selection and views: active, healthy, valid for an hour. */
export const credential = (overrides: CredentialOverrides = {}): CredentialState => {
  const { health, usage, refresh, ...rest } = overrides;
  return {
    id: CREDENTIAL_ID,
    version: 1,
    provider: 'gemini-cli',
    pool: 'default',
    priority: 0,
    scopes: [],
    metadata: {},
    tokenType: 'Bearer',
    status: 'active',
    statusChangedAt: null,
    addedAt: NOW - HOUR,
    expiresAt: NOW + HOUR,
    secrets: { ...ENCRYPTED_SECRETS },
    fingerprint: 'fp:3f2a9c',
    lastRefreshAt: null,
    refreshCount: 0,
    ...rest,
    health: { ...HEALTHY, ...health },
    refresh: { ...NO_REFRESH, ...refresh },
    rotation: NOT_ROTATING,
    usage: { ...NO_USAGE, ...usage },
  };
};

/** Runs `fn` and returns the BrokerError it throws; fails when it throws nothing or something else. */
export const brokerErrorFrom = (fn: () => unknown): BrokerError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof BrokerError) return error;
    throw error;
  }
  throw new Error('expected a BrokerError, but nothing was thrown');
};
