import type { CredentialStatus } from '@broker/contracts';

export interface CredentialSecrets {
  /** Absent until the first refresh for files that held only a refresh token. */
  readonly accessToken?: string;
  readonly refreshToken?: string;
  readonly clientSecret?: string;
}

export interface CredentialHealthState {
  readonly consecutiveFailures: number;
  readonly backoffUntil: number | null;
  readonly coolingUntil: number | null;
  /** The HTTP status (429, 402) that started the credential-wide cooldown. */
  readonly coolingStatus: number | null;
  readonly modelCooldowns: Readonly<Record<string, number>>;
  readonly refreshRequired: boolean;
}

export interface CredentialUsageTotals {
  readonly leases: number;
  readonly requests: number;
  readonly successes: number;
  readonly failures: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly tokensUsed: number;
  readonly latencyMsTotal: number;
  readonly latencySamples: number;
  readonly lastUsedAt: number | null;
}

export interface RefreshInFlight {
  readonly refreshId: string;
  readonly startedAt: number;
  readonly reason: string;
  readonly replica: string;
}

export interface CredentialRefreshState {
  /** A refresh whose outcome is not in the log yet. */
  readonly inFlight: RefreshInFlight | null;
  readonly consecutiveFailures: number;
  /** No refresh before this time: backoff after transient failures or a provider's Retry-After. */
  readonly nextAttemptAt: number | null;
  readonly lastError: string | null;
  /** A refresh started and its outcome was lost (the process died); the next one decides. */
  readonly outcomeUnknown: boolean;
  /** How long the last few successful refreshes took, newest last: the adaptive strategy reads it. */
  readonly recentDurationsMs: readonly number[];
}

export const NO_REFRESH: CredentialRefreshState = {
  inFlight: null,
  consecutiveFailures: 0,
  nextAttemptAt: null,
  lastError: null,
  outcomeUnknown: false,
  recentDurationsMs: [],
};

export interface CredentialRotationState {
  /** When the pool's interval said this credential should be replaced, once noticed. */
  readonly dueAt: number | null;
  readonly successorId: string | null;
  /** Until when the old credential keeps serving beside its successor. */
  readonly graceUntil: number | null;
}

export const NOT_ROTATING: CredentialRotationState = {
  dueAt: null,
  successorId: null,
  graceUntil: null,
};

/** A credential as folded from its stream. Times are epoch milliseconds. */
export interface CredentialState {
  readonly id: string;
  /** Stream version of the last event folded in. */
  readonly version: number;
  readonly provider: string;
  readonly pool: string;
  readonly label?: string;
  readonly priority: number;
  readonly scopes: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly clientId?: string;
  readonly tokenType: string;
  readonly status: CredentialStatus;
  readonly statusReason?: string;
  /** When the status last changed, if the event said (older events do not). */
  readonly statusChangedAt: number | null;
  readonly addedAt: number;
  readonly expiresAt: number;
  /** Encrypted token material, exactly as in the log. */
  readonly secrets: CredentialSecrets;
  readonly fingerprint: string;
  readonly lastRefreshAt: number | null;
  readonly refreshCount: number;
  readonly health: CredentialHealthState;
  readonly refresh: CredentialRefreshState;
  readonly rotation: CredentialRotationState;
  readonly usage: CredentialUsageTotals;
}

export const HEALTHY: CredentialHealthState = {
  consecutiveFailures: 0,
  backoffUntil: null,
  coolingUntil: null,
  coolingStatus: null,
  modelCooldowns: {},
  refreshRequired: false,
};

export const NO_USAGE: CredentialUsageTotals = {
  leases: 0,
  requests: 0,
  successes: 0,
  failures: 0,
  byStatus: {},
  tokensUsed: 0,
  latencyMsTotal: 0,
  latencySamples: 0,
  lastUsedAt: null,
};
