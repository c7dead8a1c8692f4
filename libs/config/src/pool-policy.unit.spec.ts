import { DEFAULT_HEALTH_POLICY } from '@broker/domain';
import { poolPolicy } from './pool-policy.js';

describe('pool policy', () => {
  const file = {
    pools: {
      'qwen-code/team': { selection: 'priority' as const, health: { failuresToUnhealthy: 5 } },
    },
  };

  it('lays a pool’s config entry over the defaults', () => {
    expect(poolPolicy(file, 'qwen-code', 'team')).toEqual({
      selection: 'priority',
      health: { ...DEFAULT_HEALTH_POLICY, failuresToUnhealthy: 5 },
    });
    expect(poolPolicy(file, 'qwen-code', 'other')).toEqual({
      selection: 'round-robin',
      health: DEFAULT_HEALTH_POLICY,
    });
  });

  it('works each pool out once per config file', () => {
    expect(poolPolicy(file, 'qwen-code', 'team')).toBe(poolPolicy(file, 'qwen-code', 'team'));
    expect(poolPolicy({}, 'qwen-code', 'team').selection).toBe('round-robin');
  });
});
