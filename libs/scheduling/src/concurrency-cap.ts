/**
 * Which due refreshes to start now without exceeding each provider's
 * `maxConcurrentRefreshes`, counting the refreshes already in flight. Pure code.
 */

export interface DueCandidate {
  readonly id: string;
  readonly provider: string;
  /** The due time (`Due.at`), epoch milliseconds. */
  readonly at: number;
}

export interface Picked {
  /** Credential ids to refresh now, earliest due first. */
  readonly start: string[];
  /** Due but held back by their provider's cap, earliest due first. */
  readonly waiting: string[];
}

/** A cap below 1 (or not a number) starts nothing; Infinity means no cap. */
const capOf = (value: number): number => (Number.isNaN(value) ? 0 : Math.max(0, Math.floor(value)));

const inFlightOf = (
  inFlightByProvider: Readonly<Record<string, number>>,
  provider: string,
): number => {
  const count = Object.hasOwn(inFlightByProvider, provider) ? inFlightByProvider[provider] : 0;
  return count !== undefined && Number.isFinite(count) ? Math.max(0, count) : 0;
};

/**
 * Earliest due first (ties by id, so the pick is deterministic); a provider starts at most
 * `maxConcurrentByProvider(provider)` minus its in-flight count. Candidates not due yet
 * (`at > now`) are in neither list; a repeated id counts once; one provider's cap never
 * holds back another's refreshes.
 */
export const pickDue = (
  candidates: readonly DueCandidate[],
  inFlightByProvider: Readonly<Record<string, number>>,
  maxConcurrentByProvider: (provider: string) => number,
  now: number,
): Picked => {
  const due = candidates
    .filter((c) => c.at <= now)
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const running = new Map<string, number>();
  const caps = new Map<string, number>();
  const seen = new Set<string>();
  const start: string[] = [];
  const waiting: string[] = [];
  for (const candidate of due) {
    if (seen.has(candidate.id)) continue;
    seen.add(candidate.id);
    const { provider } = candidate;
    let cap = caps.get(provider);
    if (cap === undefined) {
      cap = capOf(maxConcurrentByProvider(provider));
      caps.set(provider, cap);
    }
    const inFlight = running.get(provider) ?? inFlightOf(inFlightByProvider, provider);
    if (inFlight < cap) {
      start.push(candidate.id);
      running.set(provider, inFlight + 1);
    } else {
      running.set(provider, inFlight);
      waiting.push(candidate.id);
    }
  }
  return { start, waiting };
};
