import { NOW } from '../testing/fixtures.js';
import { judgeAttempt, MAX_ATTEMPTS, RETRY_SCHEDULE_MS } from './delivery-policy.js';

describe('webhook delivery policy', () => {
  it('ends on any 2xx', () => {
    expect(judgeAttempt({ kind: 'response', status: 204 }, 1, NOW, 0.5)).toEqual({
      outcome: 'delivered',
    });
  });

  it('retries 5xx, 408, 429, 3xx and connection errors on the schedule, with jitter within ±10 %', () => {
    for (const status of [500, 503, 408, 429, 301]) {
      expect(judgeAttempt({ kind: 'response', status }, 1, NOW, 0.5)).toMatchObject({
        outcome: 'retry',
        at: NOW + 5_000,
      });
    }
    expect(judgeAttempt({ kind: 'error', error: 'connection refused' }, 3, NOW, 0)).toEqual({
      outcome: 'retry',
      at: NOW + 0.9 * 30 * 60_000,
      why: 'connection refused',
    });
    expect(judgeAttempt({ kind: 'error', error: 'timeout' }, 3, NOW, 1)).toMatchObject({
      at: NOW + 1.1 * 30 * 60_000,
    });
  });

  it('covers more than a day before giving up', () => {
    const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    expect(total * 0.9).toBeGreaterThan(24 * 3_600_000);
    expect(MAX_ATTEMPTS).toBe(8);
    expect(judgeAttempt({ kind: 'response', status: 500 }, MAX_ATTEMPTS, NOW, 0.5)).toEqual({
      outcome: 'dead',
      why: 'receiver answered 500; retry schedule exhausted after 8 attempts',
    });
  });

  it('gives up at once on a 4xx other than 408 and 429, and says why', () => {
    expect(judgeAttempt({ kind: 'response', status: 410 }, 1, NOW, 0.5)).toEqual({
      outcome: 'dead',
      why: 'receiver answered 410: a 4xx other than 408 or 429 is not retried',
    });
  });

  it('waits at least the Retry-After the receiver asked for', () => {
    expect(
      judgeAttempt({ kind: 'response', status: 429, retryAfterMs: 60_000 }, 1, NOW, 0.5),
    ).toMatchObject({
      at: NOW + 60_000,
    });
  });
});
