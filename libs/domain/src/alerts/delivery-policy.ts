const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Wait before each attempt after the first: the Standard Webhooks reference
 * schedule, about 27 hours in all, so a receiver down for a day still gets it.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;

/** What one attempt came to. */
export type AttemptResult =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfterMs?: number }
  | { readonly kind: 'error'; readonly error: string };

export type AttemptVerdict =
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'retry'; readonly at: number; readonly why: string }
  | { readonly outcome: 'dead'; readonly why: string };

/** 4xx means the receiver will not take it, except timeouts and rate limits. */
const isPermanent = (status: number): boolean =>
  status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * What follows an attempt: a 2xx ends it; a 4xx other than 408/429 gives up at
 * once; anything else waits its turn in the schedule (±10 % jitter, at least
 * the receiver's Retry-After) until the schedule runs out.
 */
export const judgeAttempt = (
  result: AttemptResult,
  attemptsMade: number,
  now: number,
  random: number,
): AttemptVerdict => {
  if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
    return { outcome: 'delivered' };
  }
  const what = result.kind === 'response' ? `receiver answered ${result.status}` : result.error;
  if (result.kind === 'response' && isPermanent(result.status)) {
    return { outcome: 'dead', why: `${what}: a 4xx other than 408 or 429 is not retried` };
  }
  const wait = RETRY_SCHEDULE_MS[attemptsMade - 1];
  if (wait === undefined) {
    return {
      outcome: 'dead',
      why: `${what}; retry schedule exhausted after ${attemptsMade} attempts`,
    };
  }
  const jittered = Math.round(wait * (0.9 + 0.2 * random));
  const retryAfter = result.kind === 'response' ? (result.retryAfterMs ?? 0) : 0;
  return {
    outcome: 'retry',
    at: now + Math.max(jittered, Math.min(retryAfter, 24 * HOUR)),
    why: what,
  };
};
