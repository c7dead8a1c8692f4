import { backoffFor, cooldownFor, DEFAULT_HEALTH_POLICY } from './health-policy.js';

describe('health policy', () => {
  it('backs off 1 s at the third failure and doubles up to 60 s', () => {
    const steps = [3, 4, 5, 6, 7, 8, 9, 10, 50].map((n) => backoffFor(n, DEFAULT_HEALTH_POLICY));
    expect(steps).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('caps a reset hint at 30 minutes and says it did', () => {
    expect(cooldownFor(2 * 3600_000, DEFAULT_HEALTH_POLICY)).toEqual({
      cooldownMs: 1_800_000,
      capped: true,
    });
    expect(cooldownFor(5000, DEFAULT_HEALTH_POLICY)).toEqual({ cooldownMs: 5000, capped: false });
  });

  it('cools for the default time when the provider gave no hint', () => {
    expect(cooldownFor(undefined, DEFAULT_HEALTH_POLICY)).toEqual({
      cooldownMs: 60_000,
      capped: false,
    });
  });
});
