import { median, NO_SIGNALS, usageSignals } from './usage-signals.js';

const HOUR = 3_600_000;

describe('usageSignals', () => {
  it('rates requests per hour and failures per request over the whole window', () => {
    expect(usageSignals({ totals: { requests: 200, failures: 20 }, windowMs: 2 * HOUR })).toEqual({
      requestsPerHour: 100,
      errorRate: 0.1,
      refreshLatencyMs: null,
    });
  });

  it('counts only what happened since the baseline', () => {
    const signals = usageSignals({
      totals: { requests: 1_000, failures: 40 },
      baseline: { requests: 850, failures: 10 },
      windowMs: 15 * 60_000,
      refreshLatenciesMs: [900, 1_500, 1_200],
    });
    expect(signals.requestsPerHour).toBe(600);
    expect(signals.errorRate).toBeCloseTo(0.2);
    expect(signals.refreshLatencyMs).toBe(1_200);
  });

  it('reads nothing into an empty or backwards window', () => {
    expect(usageSignals({ totals: { requests: 0, failures: 0 }, windowMs: HOUR })).toEqual(
      NO_SIGNALS,
    );
    expect(
      usageSignals({ totals: { requests: 10, failures: 1 }, windowMs: 0 }).requestsPerHour,
    ).toBe(0);
    expect(
      usageSignals({
        totals: { requests: 5, failures: 0 },
        baseline: { requests: 9, failures: 3 },
        windowMs: HOUR,
      }),
    ).toEqual(NO_SIGNALS);
  });

  it('caps the error rate at 1', () => {
    expect(usageSignals({ totals: { requests: 2, failures: 5 }, windowMs: HOUR }).errorRate).toBe(
      1,
    );
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('ignores values that are not durations and has none without samples', () => {
    expect(median([Number.NaN, -5, 10, Infinity])).toBe(10);
    expect(median([])).toBeNull();
  });
});
