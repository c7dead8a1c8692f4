import type { PoolConfig } from '@broker/config';
import {
  PRESET_STRATEGIES,
  resolveStrategy,
  type RefreshStrategy,
  type RefreshStrategyConfig,
} from './strategy.js';

describe('resolveStrategy', () => {
  it('uses the default strategy when the pool names none: 5 min before expiry, 30 s jitter', () => {
    expect(resolveStrategy(undefined)).toEqual<RefreshStrategy>({
      kind: 'default',
      bufferSeconds: 300,
      minBufferSeconds: 300,
      maxBufferSeconds: 300,
      adaptive: false,
      preemptive: false,
      highTrafficPerHour: 100,
      jitterSeconds: 30,
    });
    expect(resolveStrategy('default')).toBe(PRESET_STRATEGIES.default);
  });

  it('conservative refreshes 15 min before expiry with 90 s jitter', () => {
    expect(resolveStrategy('conservative')).toMatchObject({
      kind: 'conservative',
      bufferSeconds: 900,
      minBufferSeconds: 900,
      maxBufferSeconds: 900,
      adaptive: false,
      preemptive: false,
      jitterSeconds: 90,
    });
  });

  it('adaptive starts at 5 min, stays within 2..30 min and doubles above 100 requests per hour', () => {
    expect(resolveStrategy('adaptive')).toEqual<RefreshStrategy>({
      kind: 'adaptive',
      bufferSeconds: 300,
      minBufferSeconds: 120,
      maxBufferSeconds: 1800,
      adaptive: true,
      preemptive: true,
      highTrafficPerHour: 100,
      jitterSeconds: 30,
    });
  });

  it('lifetime-fraction refreshes at 80 % of the lifetime', () => {
    const strategy = resolveStrategy('lifetime-fraction');
    expect(strategy.kind).toBe('lifetime-fraction');
    expect(strategy.lifetimeFraction).toBe(0.8);
    expect(strategy.jitterSeconds).toBe(30);
  });

  it('only the lifetime-fraction preset carries a fraction', () => {
    for (const name of ['default', 'conservative', 'adaptive'] as const) {
      expect(resolveStrategy(name).lifetimeFraction).toBeUndefined();
    }
  });

  it('refuses an unknown name, including names inherited from Object.prototype', () => {
    expect(() => resolveStrategy('aggressive' as RefreshStrategyConfig)).toThrow(
      "unknown refreshStrategy 'aggressive'",
    );
    expect(() => resolveStrategy('constructor' as RefreshStrategyConfig)).toThrow(RangeError);
  });

  describe('custom objects', () => {
    it('an empty object is the default buffer under the custom kind', () => {
      expect(resolveStrategy({})).toEqual<RefreshStrategy>({
        ...PRESET_STRATEGIES.default,
        kind: 'custom',
      });
    });

    it('a bare buffer is fixed, with 10 % of it as jitter', () => {
      expect(resolveStrategy({ bufferSeconds: 600 })).toEqual<RefreshStrategy>({
        kind: 'custom',
        bufferSeconds: 600,
        minBufferSeconds: 600,
        maxBufferSeconds: 600,
        adaptive: false,
        preemptive: false,
        highTrafficPerHour: 100,
        jitterSeconds: 60,
      });
    });

    it('bounds make it adaptive and preemptive, every named field wins', () => {
      expect(
        resolveStrategy({
          bufferSeconds: 600,
          minBufferSeconds: 180,
          maxBufferSeconds: 2400,
          highTrafficPerHour: 50,
          jitterSeconds: 5,
        }),
      ).toEqual<RefreshStrategy>({
        kind: 'custom',
        bufferSeconds: 600,
        minBufferSeconds: 180,
        maxBufferSeconds: 2400,
        adaptive: true,
        preemptive: true,
        highTrafficPerHour: 50,
        jitterSeconds: 5,
      });
    });

    it('one bound given: the other defaults to the adaptive bound, widened to hold the buffer', () => {
      expect(resolveStrategy({ maxBufferSeconds: 600 })).toMatchObject({
        minBufferSeconds: 120,
        maxBufferSeconds: 600,
        adaptive: true,
      });
      expect(resolveStrategy({ bufferSeconds: 3600, minBufferSeconds: 60 })).toMatchObject({
        minBufferSeconds: 60,
        maxBufferSeconds: 3600,
      });
      expect(resolveStrategy({ minBufferSeconds: 60, preemptive: false }).preemptive).toBe(false);
    });

    it('preemptive on a fixed buffer may double it', () => {
      expect(resolveStrategy({ bufferSeconds: 300, preemptive: true })).toMatchObject({
        adaptive: false,
        preemptive: true,
        minBufferSeconds: 300,
        maxBufferSeconds: 600,
      });
    });

    it('a lifetime fraction is kept', () => {
      expect(resolveStrategy({ lifetimeFraction: 0.5 })).toMatchObject({
        kind: 'custom',
        lifetimeFraction: 0.5,
      });
    });

    it('refuses a minimum above the maximum, naming both fields', () => {
      expect(() => resolveStrategy({ minBufferSeconds: 900, maxBufferSeconds: 600 })).toThrow(
        'refreshStrategy.minBufferSeconds (900) is above maxBufferSeconds (600)',
      );
    });

    it('refuses values the schema would refuse', () => {
      expect(() => resolveStrategy({ bufferSeconds: -1 })).toThrow('refreshStrategy.bufferSeconds');
      expect(() => resolveStrategy({ jitterSeconds: Number.NaN })).toThrow(
        'refreshStrategy.jitterSeconds',
      );
      expect(() => resolveStrategy({ lifetimeFraction: 1 })).toThrow(
        'refreshStrategy.lifetimeFraction',
      );
      expect(() => resolveStrategy({ highTrafficPerHour: 0 })).toThrow(
        'refreshStrategy.highTrafficPerHour',
      );
    });
  });

  it("accepts exactly what a pool's configuration holds", () => {
    const configured: PoolConfig['refreshStrategy'][] = [
      undefined,
      'adaptive',
      { bufferSeconds: 120, jitterSeconds: 0 },
    ];
    expect(configured.map((c) => resolveStrategy(c).kind)).toEqual([
      'default',
      'adaptive',
      'custom',
    ]);
  });
});
