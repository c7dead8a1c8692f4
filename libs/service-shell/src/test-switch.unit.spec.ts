import { testOnlySetting } from './test-switch.js';

describe('testOnlySetting', () => {
  it('gives the value outside production and nothing when unset', () => {
    const env = { BROKER_TEST_DISABLE_REFRESH_LOCK: '1' };
    expect(testOnlySetting(env, 'BROKER_TEST_DISABLE_REFRESH_LOCK', false)).toBe('1');
    expect(testOnlySetting({}, 'BROKER_TEST_DISABLE_REFRESH_LOCK', true)).toBeUndefined();
  });

  it('refuses a set switch in production, naming it', () => {
    expect(() =>
      testOnlySetting(
        { BROKER_TEST_DISABLE_REFRESH_LOCK: '1' },
        'BROKER_TEST_DISABLE_REFRESH_LOCK',
        true,
      ),
    ).toThrow('BROKER_TEST_DISABLE_REFRESH_LOCK is a test switch and is refused in production');
  });
});
