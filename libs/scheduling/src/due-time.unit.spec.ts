import { credential } from '../../domain/src/testing/fixtures.js';
import {
  dueInputOf,
  dueTime,
  effectiveBuffer,
  KEEP_ALIVE_REASON,
  type Due,
  type DueInput,
} from './due-time.js';
import { resolveStrategy, type RefreshStrategyConfig } from './strategy.js';
import { NO_SIGNALS, type UsageSignals } from './usage-signals.js';

/** 2026-01-01T00:00:00.000Z */
const NOW = Date.parse('2026-01-01T00:00:00.000Z');
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

type InputOverrides = Partial<Omit<DueInput, 'refresh'>> & {
  readonly refresh?: Partial<DueInput['refresh']>;
};

/** Refreshed an hour ago, an 8 h access token: 7 h left, the keep-alive 23 h away. */
const input = (overrides: InputOverrides = {}): DueInput => {
  const { refresh, ...rest } = overrides;
  return {
    id: 'cred-a',
    provider: 'gemini-cli',
    status: 'active',
    addedAt: NOW - 48 * HOUR,
    lastRefreshAt: NOW - HOUR,
    expiresAt: NOW + 7 * HOUR,
    hasRefreshToken: true,
    ...rest,
    refresh: { inFlight: false, nextAttemptAt: null, ...refresh },
  };
};

const signals = (overrides: Partial<UsageSignals> = {}): UsageSignals => ({
  ...NO_SIGNALS,
  ...overrides,
});

const due = (
  config: RefreshStrategyConfig | undefined,
  overrides: InputOverrides = {},
  usage: UsageSignals = NO_SIGNALS,
  jitterUnit = 0,
): Due => {
  const result = dueTime(input(overrides), resolveStrategy(config), usage, NOW, jitterUnit);
  if (result === null) throw new Error('expected a due time');
  return result;
};

const EXPIRES = NOW + 7 * HOUR;

describe('dueTime: strategies', () => {
  it('default: 5 min before expiry', () => {
    expect(due(undefined)).toEqual<Due>({
      at: EXPIRES - 5 * MINUTE,
      reason: 'default: 5 min before expiry',
      strategy: 'default',
      bufferSeconds: 300,
      trigger: 'strategy',
    });
    expect(due('default').at).toBe(EXPIRES - 5 * MINUTE);
  });

  it('conservative: 15 min before expiry', () => {
    expect(due('conservative')).toMatchObject({
      at: EXPIRES - 15 * MINUTE,
      reason: 'conservative: 15 min before expiry',
      bufferSeconds: 900,
    });
  });

  it('fixed strategies ignore traffic', () => {
    const busy = signals({ requestsPerHour: 5_000, errorRate: 0.5, refreshLatencyMs: 9_000 });
    expect(due('default', {}, busy).at).toBe(EXPIRES - 5 * MINUTE);
    expect(due('conservative', {}, busy).at).toBe(EXPIRES - 15 * MINUTE);
    expect(due({ bufferSeconds: 600 }, {}, busy).at).toBe(EXPIRES - 10 * MINUTE);
  });

  it('custom: the configured buffer', () => {
    expect(due({ bufferSeconds: 600 })).toMatchObject({
      at: EXPIRES - 10 * MINUTE,
      reason: 'custom: 10 min before expiry',
      strategy: 'custom',
    });
  });

  describe('adaptive', () => {
    it('without observations keeps its 5 min base', () => {
      const result = due('adaptive');
      expect(result.at).toBe(EXPIRES - 5 * MINUTE);
      expect(result.reason).toBe(
        'adaptive: 5 min before expiry (no traffic or refresh observed yet)',
      );
    });

    it('grows with refresh latency, request rate and error rate', () => {
      // (300 s + 10 × 1.2 s + 50 req/h × 1 s) × (1 + 0.1) = 398.2 s
      const result = due(
        'adaptive',
        {},
        signals({ refreshLatencyMs: 1_200, requestsPerHour: 50, errorRate: 0.1 }),
      );
      expect(result.bufferSeconds).toBeCloseTo(398.2);
      expect(result.at).toBe(EXPIRES - 398_200);
      expect(result.reason).toBe(
        'adaptive: 6.6 min before expiry (refresh p50 1.2 s, 50 req/h, errors 10 %)',
      );
    });

    it('each signal alone moves the buffer up', () => {
      const base = due('adaptive').bufferSeconds;
      expect(due('adaptive', {}, signals({ refreshLatencyMs: 3_000 })).bufferSeconds).toBe(
        base + 30,
      );
      expect(due('adaptive', {}, signals({ requestsPerHour: 60 })).bufferSeconds).toBe(base + 60);
      expect(due('adaptive', {}, signals({ errorRate: 0.5 })).bufferSeconds).toBe(base * 1.5);
    });

    it('doubles above highTrafficPerHour (100), not at it', () => {
      // (300 + 12 + 140) × 2 = 904 s
      const busy = due('adaptive', {}, signals({ refreshLatencyMs: 1_200, requestsPerHour: 140 }));
      expect(busy.bufferSeconds).toBe(904);
      expect(busy.at).toBe(EXPIRES - 904 * SECOND);
      expect(busy.reason).toBe(
        'adaptive: 15.1 min before expiry (refresh p50 1.2 s, 140 req/h > 100: doubled)',
      );
      expect(due('adaptive', {}, signals({ requestsPerHour: 100 })).bufferSeconds).toBe(400);
      expect(due('adaptive', {}, signals({ requestsPerHour: 101 })).bufferSeconds).toBe(802);
    });

    it('a custom threshold and preemptive: false are honoured', () => {
      expect(
        due({ minBufferSeconds: 120, highTrafficPerHour: 10 }, {}, signals({ requestsPerHour: 20 }))
          .bufferSeconds,
      ).toBe(640);
      expect(
        due({ minBufferSeconds: 120, preemptive: false }, {}, signals({ requestsPerHour: 200 }))
          .bufferSeconds,
      ).toBe(500);
    });

    it('is capped at 30 min', () => {
      const result = due('adaptive', {}, signals({ requestsPerHour: 5_000, errorRate: 1 }));
      expect(result.bufferSeconds).toBe(1_800);
      expect(result.at).toBe(EXPIRES - 30 * MINUTE);
      expect(result.reason).toContain('capped at the 30 min maximum');
    });

    it('is raised to its minimum', () => {
      const result = due({ bufferSeconds: 30, minBufferSeconds: 120, maxBufferSeconds: 1_800 });
      expect(result.bufferSeconds).toBe(120);
      expect(result.at).toBe(EXPIRES - 2 * MINUTE);
      expect(result.reason).toContain('raised to the 2 min minimum');
    });

    it('stays within its bounds for any traffic', () => {
      const strategy = resolveStrategy('adaptive');
      for (const requestsPerHour of [0, 1, 99, 100, 101, 1_000, 1e9]) {
        for (const errorRate of [0, 0.3, 1]) {
          for (const refreshLatencyMs of [null, 0, 800, 60_000]) {
            const { seconds } = effectiveBuffer(
              strategy,
              signals({ requestsPerHour, errorRate, refreshLatencyMs }),
            );
            expect(seconds).toBeGreaterThanOrEqual(120);
            expect(seconds).toBeLessThanOrEqual(1_800);
          }
        }
      }
    });
  });

  describe('lifetime-fraction', () => {
    it('refreshes at 80 % of the lifetime since the last refresh', () => {
      // issued NOW − 1 h, expires NOW + 7 h: 8 h lifetime, due 6.4 h after issue
      expect(due('lifetime-fraction')).toEqual<Due>({
        at: NOW - HOUR + 6.4 * HOUR,
        reason: "lifetime-fraction: at 80 % of the token's 8 h lifetime, 96 min before expiry",
        strategy: 'lifetime-fraction',
        bufferSeconds: 1.6 * 3_600,
        trigger: 'strategy',
      });
    });

    it('counts from when the credential was added when it was never refreshed', () => {
      const result = due('lifetime-fraction', {
        lastRefreshAt: null,
        addedAt: NOW - 10 * MINUTE,
        expiresAt: NOW + 50 * MINUTE,
      });
      expect(result.at).toBe(NOW - 10 * MINUTE + 48 * MINUTE);
    });

    it('a custom fraction', () => {
      expect(due({ lifetimeFraction: 0.5 }).at).toBe(NOW + 3 * HOUR);
    });

    it('a token with no lifetime (imported without an access token) is due now', () => {
      const result = due('lifetime-fraction', { lastRefreshAt: null, addedAt: NOW, expiresAt: 0 });
      expect(result.at).toBeLessThanOrEqual(NOW);
      expect(result.bufferSeconds).toBe(0);
    });
  });

  it('a buffer longer than the token lives refreshes at half-life, not in a loop', () => {
    const result = due('conservative', { lastRefreshAt: NOW, expiresAt: NOW + 10 * MINUTE });
    expect(result.at).toBe(NOW + 5 * MINUTE);
    expect(result.reason).toContain("longer than half the token's 10 min lifetime");
  });

  it('an expired token is due now and the reason says since when', () => {
    const result = due('default', { lastRefreshAt: NOW - 2 * HOUR, expiresAt: NOW - 3 * MINUTE });
    expect(result.at).toBeLessThan(NOW);
    expect(result.reason).toBe('default: 5 min before expiry; the access token expired 3 min ago');
  });
});

describe('dueTime: nothing to schedule', () => {
  const strategy = resolveStrategy('default');

  it('without a refresh token', () => {
    expect(dueTime(input({ hasRefreshToken: false }), strategy, NO_SIGNALS, NOW, 0)).toBeNull();
  });

  it.each(['reauth-required', 'revoked', 'decommissioned'])('when %s', (status) => {
    expect(dueTime(input({ status }), strategy, NO_SIGNALS, NOW, 0)).toBeNull();
  });

  it('while a refresh is in flight', () => {
    expect(
      dueTime(input({ refresh: { inFlight: true } }), strategy, NO_SIGNALS, NOW, 0),
    ).toBeNull();
  });
});

describe('dueTime: jitter', () => {
  const configs: (RefreshStrategyConfig | undefined)[] = [
    undefined,
    'conservative',
    'adaptive',
    'lifetime-fraction',
    { bufferSeconds: 600, jitterSeconds: 120 },
  ];

  it('jitterUnit 0 leaves the due time alone; just under 1 moves it almost the full jitter earlier', () => {
    const plain = due('default');
    expect(due('default', {}, NO_SIGNALS, 0).at).toBe(plain.at);
    const early = due('default', {}, NO_SIGNALS, 0.999_999);
    expect(early.at).toBeLessThanOrEqual(plain.at);
    expect(early.at).toBeGreaterThanOrEqual(plain.at - 30 * SECOND);
    expect(early.at).toBe(plain.at - 30 * SECOND);
    expect(early.reason).toBe(plain.reason);
  });

  it('always lands within [due − jitter, due], earlier for larger units', () => {
    // A fixed pseudo-random sequence plus an even sweep: many tokens issued together.
    let seed = 12_345;
    const units = Array.from({ length: 500 }, (_, i) => i / 500);
    for (let i = 0; i < 500; i += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      units.push(seed / 2 ** 31);
    }
    units.push(0.999_999_999);
    for (const config of configs) {
      const strategy = resolveStrategy(config);
      const plain = due(config).at;
      const jitterMs = strategy.jitterSeconds * SECOND;
      let previous = { unit: -1, at: Infinity };
      for (const unit of [...units].sort((a, b) => a - b)) {
        const at = due(config, {}, NO_SIGNALS, unit).at;
        expect(at).toBeLessThanOrEqual(plain);
        expect(at).toBeGreaterThanOrEqual(plain - jitterMs);
        if (unit > previous.unit) expect(at).toBeLessThanOrEqual(previous.at);
        previous = { unit, at };
      }
    }
  });

  it('spreads tokens issued together', () => {
    const times = new Set(
      Array.from({ length: 100 }, (_, i) => due('default', {}, NO_SIGNALS, i / 100).at),
    );
    expect(times.size).toBe(100);
  });

  it('never moves a due time before the token was issued', () => {
    // 20 s token: half-life at +10 s; a 30 s jitter may take only those 10 s.
    const at = due(
      'default',
      { lastRefreshAt: NOW, expiresAt: NOW + 20 * SECOND },
      NO_SIGNALS,
      0.99,
    ).at;
    expect(at).toBeGreaterThanOrEqual(NOW);
  });

  it('out-of-range units are clamped, never later than the due time', () => {
    const plain = due('default').at;
    expect(due('default', {}, NO_SIGNALS, -3).at).toBe(plain);
    expect(due('default', {}, NO_SIGNALS, Number.NaN).at).toBe(plain);
    expect(due('default', {}, NO_SIGNALS, 7).at).toBe(plain - 30 * SECOND);
  });
});

describe('dueTime: idle keep-alive', () => {
  const longLived = { lastRefreshAt: NOW - HOUR, expiresAt: NOW + 7 * 24 * HOUR };

  it('refreshes at least daily even when the access token lives longer', () => {
    expect(due('default', longLived)).toEqual<Due>({
      at: NOW + 23 * HOUR,
      reason: KEEP_ALIVE_REASON,
      strategy: 'default',
      bufferSeconds: 300,
      trigger: 'keep-alive',
    });
    expect(KEEP_ALIVE_REASON).toBe('idle keep-alive: refreshed at least daily');
  });

  it('counts from when the credential was added when it was never refreshed', () => {
    expect(
      due('conservative', { ...longLived, lastRefreshAt: null, addedAt: NOW - 30 * HOUR }).at,
    ).toBe(NOW - 6 * HOUR);
  });

  it('applies to every strategy and is jittered earlier too', () => {
    for (const config of ['default', 'conservative', 'adaptive', 'lifetime-fraction'] as const) {
      const result = due(config, longLived, NO_SIGNALS, 0.5);
      expect(result.trigger).toBe('keep-alive');
      expect(result.at).toBeLessThanOrEqual(NOW + 23 * HOUR);
      expect(result.at).toBeGreaterThanOrEqual(
        NOW + 23 * HOUR - resolveStrategy(config).jitterSeconds * SECOND,
      );
    }
  });

  it('does not apply when the strategy is due sooner', () => {
    expect(due('default').trigger).toBe('strategy');
  });
});

describe('dueTime: backoff', () => {
  it('never before refresh.nextAttemptAt', () => {
    const plain = due('default');
    const hold = plain.at + 2 * MINUTE;
    const result = due('default', { refresh: { nextAttemptAt: hold } });
    expect(result.at).toBe(hold);
    expect(result.trigger).toBe('backoff');
    expect(result.reason).toBe(
      `backoff after a failed refresh: not before ${new Date(hold).toISOString()} (otherwise default: 5 min before expiry)`,
    );
  });

  it('a backoff that has passed changes nothing', () => {
    const plain = due('default');
    expect(due('default', { refresh: { nextAttemptAt: plain.at - MINUTE } })).toEqual(plain);
    expect(due('default', { refresh: { nextAttemptAt: plain.at } })).toEqual(plain);
  });

  it('holds even past expiry, and says so', () => {
    const hold = EXPIRES + 4 * MINUTE;
    const result = due('adaptive', { refresh: { nextAttemptAt: hold } }, NO_SIGNALS, 0.5);
    expect(result.at).toBe(hold);
    expect(result.reason).toContain('the access token expires 4 min before then');
  });

  it('holds the keep-alive too', () => {
    const hold = NOW + 30 * HOUR;
    const result = due('default', {
      lastRefreshAt: NOW - HOUR,
      expiresAt: NOW + 7 * 24 * HOUR,
      refresh: { nextAttemptAt: hold },
    });
    expect(result).toMatchObject({ at: hold, trigger: 'backoff' });
    expect(result.reason).toContain(`(otherwise ${KEEP_ALIVE_REASON})`);
  });
});

describe('dueInputOf', () => {
  it("reads a credential's folded state", () => {
    const state = credential({
      lastRefreshAt: NOW - HOUR,
      refresh: { nextAttemptAt: NOW + MINUTE },
    });
    expect(dueInputOf(state)).toEqual<DueInput>({
      id: state.id,
      provider: state.provider,
      status: 'active',
      expiresAt: state.expiresAt,
      lastRefreshAt: NOW - HOUR,
      addedAt: state.addedAt,
      hasRefreshToken: true,
      refresh: { inFlight: false, nextAttemptAt: NOW + MINUTE },
    });
  });

  it('sees a missing refresh token and a refresh in flight', () => {
    const state = credential({
      secrets: { accessToken: 'enc:a' },
      refresh: {
        inFlight: { refreshId: 'r1', startedAt: NOW, reason: 'due', replica: 'sched-1' },
      },
    });
    expect(dueInputOf(state)).toMatchObject({
      hasRefreshToken: false,
      refresh: { inFlight: true },
    });
  });
});

describe('dueTime: a token added from a file', () => {
  it('is due by its buffer alone: its issue time is unknown, so no half-life floor applies', () => {
    const added = due('conservative', {
      addedAt: NOW,
      lastRefreshAt: null,
      expiresAt: NOW + 10 * MINUTE,
    });
    expect(added.at).toBe(NOW + 10 * MINUTE - 15 * MINUTE);
    expect(added.at).toBeLessThan(NOW);
  });
});
