import type { CredentialStatus } from '@broker/contracts';

export interface CredentialSecrets {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly clientSecret?: string;
}

export interface CredentialHealthState {
  readonly consecutiveFailures: number;
  readonly backoffUntil: number | null;
  readonly coolingUntil: number | null;
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
  readonly addedAt: number;
  readonly expiresAt: number;
  /** Encrypted token material, exactly as in the log. */
  readonly secrets: CredentialSecrets;
  readonly fingerprint: string;
  readonly lastRefreshAt: number | null;
  readonly refreshCount: number;
  readonly health: CredentialHealthState;
  readonly usage: CredentialUsageTotals;
}

export const HEALTHY: CredentialHealthState = {
  consecutiveFailures: 0,
  backoffUntil: null,
  coolingUntil: null,
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
