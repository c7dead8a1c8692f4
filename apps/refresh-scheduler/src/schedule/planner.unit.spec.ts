import { addedEvent, given, NOW } from '../../../../libs/domain/src/testing/fixtures.js';
import {
  commandFor,
  commandKey,
  jitterUnitOf,
  maxConcurrentFor,
  plan,
  scheduleEntry,
  DEFAULT_MAX_CONCURRENT_REFRESHES,
} from './planner.js';

describe('scheduler planner', () => {
  it('gives each credential and refresh a stable jitter unit in [0, 1), spread across credentials', () => {
    const units = Array.from({ length: 1000 }, (_, i) => jitterUnitOf(`cred-${i}`, 0));
    expect(units.every((u) => u >= 0 && u < 1)).toBe(true);
    expect(jitterUnitOf('cred-1', 0)).toBe(jitterUnitOf('cred-1', 0));
    expect(jitterUnitOf('cred-1', 1)).not.toBe(jitterUnitOf('cred-1', 0));
    const deciles = new Set(units.map((u) => Math.floor(u * 10)));
    expect(deciles.size).toBe(10);
  });

  it('caps a provider at the smallest maxConcurrentRefreshes of its pools, 10 by default', () => {
    const cap = maxConcurrentFor({
      pools: {
        'qwen-code/a': { maxConcurrentRefreshes: 4 },
        'qwen-code/b': { maxConcurrentRefreshes: 2 },
        'gemini-cli/x': {},
      },
    });
    expect(cap('qwen-code')).toBe(2);
    expect(cap('gemini-cli')).toBe(DEFAULT_MAX_CONCURRENT_REFRESHES);
  });

  it('plans by the pool strategy and builds a command that names the refresh it is for', () => {
    const credential = given(addedEvent({ expiresAt: new Date(NOW + 10 * 60_000).toISOString() }));
    const planned = plan(
      credential,
      { pools: { 'gemini-cli/default': { refreshStrategy: 'conservative' } } },
      NOW,
    );
    expect(planned.due?.strategy).toBe('conservative');
    expect(planned.due?.at).toBeLessThanOrEqual(NOW);
    const command = commandFor(
      { credential, due: planned.due!, rotationDueAt: null },
      'scheduler-1',
      '8a1f0f2e-1b2c-4d3e-8f40-5a6b7c8d9e0f',
      NOW,
    );
    expect(command).toMatchObject({
      credentialId: credential.id,
      reason: 'scheduled',
      knownRefreshCount: 0,
      issuedBy: 'scheduler-1',
    });
    expect(commandKey(credential)).toBe(`${credential.id}:0:0`);
    expect(scheduleEntry(planned)).toMatchObject({
      credentialId: credential.id,
      strategy: 'conservative',
      refreshing: false,
    });
  });

  it('says why a credential is not scheduled', () => {
    const credential = given(addedEvent({ secrets: { accessToken: 'enc:v1:k1:aXY:Y3Q' } }));
    const entry = scheduleEntry(plan(credential, {}, NOW));
    expect(entry.nextRefreshAt).toBeNull();
    expect(entry.reason).toBe('not refreshed: no refresh token');
  });
});

describe('scheduler planner - adaptive', () => {
  it('plans earlier for a credential whose refreshes have been slow', () => {
    const credential = given(addedEvent({ expiresAt: new Date(NOW + 3_600_000).toISOString() }));
    const slow = {
      ...credential,
      refresh: { ...credential.refresh, recentDurationsMs: [20_000, 30_000, 25_000] },
    };
    const file = { pools: { 'gemini-cli/default': { refreshStrategy: 'adaptive' as const } } };
    const fast = plan(credential, file, NOW).due!;
    const slowDue = plan(slow, file, NOW).due!;
    expect(slowDue.bufferSeconds).toBeGreaterThan(fast.bufferSeconds);
    expect(slowDue.reason).toContain('refresh p50');
  });
});
