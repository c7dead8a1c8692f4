/**
 * When a credential's next refresh is due, and why. Pure code: the clock (`now`) and
 * the randomness (`jitterUnit`) are parameters.
 */
import { formatLatency, formatPercent, formatSeconds } from './format.js';
import type { RefreshStrategy, RefreshStrategyKind } from './strategy.js';
import type { UsageSignals } from './usage-signals.js';

/** The part of a credential's state the due time depends on. Times are epoch milliseconds. */
export interface DueInput {
  readonly id: string;
  readonly provider: string;
  readonly status: string;
  readonly expiresAt: number;
  readonly lastRefreshAt: number | null;
  readonly addedAt: number;
  readonly hasRefreshToken: boolean;
  readonly refresh: { readonly inFlight: boolean; readonly nextAttemptAt: number | null };
}

/** What decided the due time: the strategy, the daily keep-alive, or a backoff hold. */
export type DueTrigger = 'strategy' | 'keep-alive' | 'backoff';

export interface Due {
  /** Epoch milliseconds; at or before `now` means due now. */
  readonly at: number;
  /** A sentence for `schedule.list` and `oauthctl schedule`. */
  readonly reason: string;
  readonly strategy: RefreshStrategyKind;
  /**
   * How long before expiry the strategy wants the refresh, in seconds: the effective
   * (adapted, clamped) buffer, or for `lifetime-fraction` the time its point leaves.
   * Before jitter, keep-alive and backoff.
   */
  readonly bufferSeconds: number;
  readonly trigger: DueTrigger;
}

/** Providers revoke refresh tokens that go unused; every credential is refreshed at least daily. */
export const KEEP_ALIVE_MS = 24 * 3_600_000;
export const KEEP_ALIVE_REASON = 'idle keep-alive: refreshed at least daily';
/** Adaptive: seconds of buffer per second of median refresh latency. */
export const LATENCY_BUFFER_FACTOR = 10;
/** Adaptive: seconds of buffer per request per hour. */
export const BUFFER_SECONDS_PER_REQUEST_PER_HOUR = 1;
/** A buffer-based due time never comes before this fraction of the token's lifetime. */
export const MIN_LIFETIME_FRACTION_BEFORE_REFRESH = 0.5;

export interface EffectiveBuffer {
  readonly seconds: number;
  /** What moved the buffer away from the strategy's base, for the reason. */
  readonly notes: readonly string[];
}

const isHighTraffic = (strategy: RefreshStrategy, signals: UsageSignals): boolean =>
  strategy.preemptive && signals.requestsPerHour > strategy.highTrafficPerHour;

/**
 * The buffer before expiry: the base, grown (adaptive) by 10 × the median refresh latency,
 * 1 s per request per hour and × (1 + error rate); doubled (preemptive) above the
 * high-traffic rate; then clamped to the strategy's bounds.
 */
export const effectiveBuffer = (
  strategy: RefreshStrategy,
  signals: UsageSignals,
): EffectiveBuffer => {
  const notes: string[] = [];
  let seconds = strategy.bufferSeconds;
  const highTraffic = isHighTraffic(strategy, signals);
  const rate = Math.max(0, signals.requestsPerHour);
  if (strategy.adaptive) {
    const latency = signals.refreshLatencyMs;
    if (latency !== null && latency > 0) {
      seconds += (LATENCY_BUFFER_FACTOR * latency) / 1000;
      notes.push(`refresh p50 ${formatLatency(latency)}`);
    }
    if (rate > 0) {
      seconds += BUFFER_SECONDS_PER_REQUEST_PER_HOUR * rate;
      if (!highTraffic) notes.push(`${Math.round(rate)} req/h`);
    }
    const errorRate = Math.min(1, Math.max(0, signals.errorRate));
    if (errorRate > 0) {
      seconds *= 1 + errorRate;
      notes.push(`errors ${formatPercent(errorRate)}`);
    }
    if (notes.length === 0 && !highTraffic) notes.push('no traffic or refresh observed yet');
  }
  if (highTraffic) {
    seconds *= 2;
    notes.push(`${Math.round(rate)} req/h > ${strategy.highTrafficPerHour}: doubled`);
  }
  if (seconds < strategy.minBufferSeconds) {
    seconds = strategy.minBufferSeconds;
    notes.push(`raised to the ${formatSeconds(seconds)} minimum`);
  } else if (seconds > strategy.maxBufferSeconds) {
    seconds = strategy.maxBufferSeconds;
    notes.push(`capped at the ${formatSeconds(seconds)} maximum`);
  }
  return { seconds, notes };
};

interface Planned {
  readonly at: number;
  readonly reason: string;
  readonly bufferSeconds: number;
}

/** The strategy's own due time, before keep-alive, jitter and backoff. */
const strategyDue = (
  credential: DueInput,
  strategy: RefreshStrategy,
  signals: UsageSignals,
  issuedAt: number,
): Planned => {
  const lifetimeMs = credential.expiresAt - issuedAt;
  if (strategy.lifetimeFraction !== undefined) {
    const fraction = strategy.lifetimeFraction;
    if (lifetimeMs <= 0) {
      return {
        at: Math.min(issuedAt, credential.expiresAt),
        reason: `${strategy.kind}: the access token has no lifetime left since it was issued; refresh now`,
        bufferSeconds: 0,
      };
    }
    const at = Math.floor(issuedAt + fraction * lifetimeMs);
    const bufferSeconds = (credential.expiresAt - at) / 1000;
    return {
      at,
      reason: `${strategy.kind}: at ${formatPercent(fraction)} of the token's ${formatSeconds(lifetimeMs / 1000)} lifetime, ${formatSeconds(bufferSeconds)} before expiry`,
      bufferSeconds,
    };
  }
  const buffer = effectiveBuffer(strategy, signals);
  const notes = [...buffer.notes];
  let at = Math.floor(credential.expiresAt - buffer.seconds * 1000);
  // A buffer as long as the token's life would refresh again as soon as it is issued.
  // Only known issue times count: a token added from a file may be older than its addition.
  const floor = issuedAt + Math.ceil(MIN_LIFETIME_FRACTION_BEFORE_REFRESH * lifetimeMs);
  if (credential.lastRefreshAt !== null && lifetimeMs > 0 && at < floor) {
    at = floor;
    notes.push(
      `longer than half the token's ${formatSeconds(lifetimeMs / 1000)} lifetime: at half-life`,
    );
  }
  const detail = notes.length > 0 ? ` (${notes.join(', ')})` : '';
  return {
    at,
    reason: `${strategy.kind}: ${formatSeconds(buffer.seconds)} before expiry${detail}`,
    bufferSeconds: buffer.seconds,
  };
};

const iso = (ms: number): string => new Date(ms).toISOString();

const unit = (value: number): number =>
  Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;

/**
 * The next refresh of a credential, or null when there is nothing to schedule: no
 * refresh token, not active, or a refresh in flight (its outcome sets the next one).
 *
 * 1. The strategy's due time (a buffer before expiry, or a fraction of the lifetime).
 * 2. No later than 24 h after the last refresh (or the credential's addition): idle keep-alive.
 * 3. Jitter moves it earlier by `jitterUnit × jitterSeconds` (`jitterUnit` in [0, 1)),
 *    never later, so jitter never lets a token expire; never before the token was issued.
 * 4. Never before `refresh.nextAttemptAt` (backoff or Retry-After), even past expiry:
 *    the reason then says so.
 */
export const dueTime = (
  credential: DueInput,
  strategy: RefreshStrategy,
  signals: UsageSignals,
  now: number,
  jitterUnit: number,
): Due | null => {
  if (!credential.hasRefreshToken || credential.status !== 'active') return null;
  if (credential.refresh.inFlight) return null;

  const issuedAt = credential.lastRefreshAt ?? credential.addedAt;
  let planned = strategyDue(credential, strategy, signals, issuedAt);
  let trigger: DueTrigger = 'strategy';
  const keepAliveAt = issuedAt + KEEP_ALIVE_MS;
  if (keepAliveAt < planned.at) {
    planned = { ...planned, at: keepAliveAt, reason: KEEP_ALIVE_REASON };
    trigger = 'keep-alive';
  }

  const maxJitterMs = Math.max(0, Math.min(strategy.jitterSeconds * 1000, planned.at - issuedAt));
  let at = planned.at - Math.round(unit(jitterUnit) * maxJitterMs);
  let reason = planned.reason;

  const nextAttemptAt = credential.refresh.nextAttemptAt;
  if (nextAttemptAt !== null && nextAttemptAt > at) {
    const pastExpiry =
      nextAttemptAt >= credential.expiresAt
        ? `; the access token expires ${formatSeconds((nextAttemptAt - credential.expiresAt) / 1000)} before then`
        : '';
    reason = `backoff after a failed refresh: not before ${iso(nextAttemptAt)}${pastExpiry} (otherwise ${reason})`;
    at = nextAttemptAt;
    trigger = 'backoff';
  } else if (credential.expiresAt <= now) {
    reason = `${reason}; the access token expired ${formatSeconds((now - credential.expiresAt) / 1000)} ago`;
  }

  return { at, reason, strategy: strategy.kind, bufferSeconds: planned.bufferSeconds, trigger };
};

/** The fields of a credential's folded state (`CredentialState`) that `dueTime` reads. */
export interface DueSource {
  readonly id: string;
  readonly provider: string;
  readonly status: string;
  readonly expiresAt: number;
  readonly lastRefreshAt: number | null;
  readonly addedAt: number;
  readonly secrets: { readonly refreshToken?: string };
  readonly refresh: { readonly inFlight: object | null; readonly nextAttemptAt: number | null };
}

/** A `CredentialState` (or anything shaped like it) as `dueTime` input. */
export const dueInputOf = (state: DueSource): DueInput => ({
  id: state.id,
  provider: state.provider,
  status: state.status,
  expiresAt: state.expiresAt,
  lastRefreshAt: state.lastRefreshAt,
  addedAt: state.addedAt,
  hasRefreshToken: state.secrets.refreshToken !== undefined && state.secrets.refreshToken !== '',
  refresh: {
    inFlight: state.refresh.inFlight !== null,
    nextAttemptAt: state.refresh.nextAttemptAt,
  },
});
