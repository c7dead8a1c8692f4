/**
 * What the adaptive strategy reads of a credential's traffic. Pure code: the caller
 * decides the window and passes the counts and refresh latencies it observed.
 */

/** Traffic over a window chosen by the caller. */
export interface UsageSignals {
  /** Requests per hour over the window. */
  readonly requestsPerHour: number;
  /** Failed requests / requests over the window, in [0, 1]; 0 without requests. */
  readonly errorRate: number;
  /** Median (p50) duration of the recent refreshes; null when none was observed. */
  readonly refreshLatencyMs: number | null;
}

export const NO_SIGNALS: UsageSignals = {
  requestsPerHour: 0,
  errorRate: 0,
  refreshLatencyMs: null,
};

/** The request counters of a credential's usage totals (`CredentialState['usage']`). */
export interface RequestCounts {
  readonly requests: number;
  readonly failures: number;
}

export interface UsageSignalsInput {
  /** The usage totals at the end of the window (usually the credential's current totals). */
  readonly totals: RequestCounts;
  /** The totals at the start of the window; omitted: the window starts at zero. */
  readonly baseline?: RequestCounts;
  /** The window's length in milliseconds, e.g. `now - baselineTakenAt` or `now - addedAt`. */
  readonly windowMs: number;
  /** Durations of recent refreshes (completed minus started), most recent window only. */
  readonly refreshLatenciesMs?: readonly number[];
}

const HOUR_MS = 3_600_000;

/** The median of the finite, non-negative values; null when there is none. */
export const median = (values: readonly number[]): number | null => {
  const sorted = values.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
};

/**
 * Request rate, error rate and refresh latency over the caller's window. Counters that
 * went backwards (a baseline newer than the totals) count as zero rather than negative.
 */
export const usageSignals = (input: UsageSignalsInput): UsageSignals => {
  const requests = Math.max(0, input.totals.requests - (input.baseline?.requests ?? 0));
  const failures = Math.max(0, input.totals.failures - (input.baseline?.failures ?? 0));
  const requestsPerHour =
    Number.isFinite(input.windowMs) && input.windowMs > 0
      ? (requests * HOUR_MS) / input.windowMs
      : 0;
  const errorRate = requests > 0 ? Math.min(1, failures / requests) : 0;
  return {
    requestsPerHour,
    errorRate,
    refreshLatencyMs: median(input.refreshLatenciesMs ?? []),
  };
};
