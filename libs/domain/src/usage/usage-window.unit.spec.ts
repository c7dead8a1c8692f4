import { CredentialUsageRecordedV1 } from '@broker/contracts';
import { iso, MINUTE, NOW, SECOND } from '../testing/fixtures.js';
import { UsageWindow } from './usage-window.js';

const REPLICA = 'token-service-1';

describe('UsageWindow', () => {
  describe('counting', () => {
    it('counts leases and remembers when the credential was last used', () => {
      const window = new UsageWindow(NOW);

      window.countLease('cred-a', NOW + SECOND);
      window.countLease('cred-a', NOW + 2 * SECOND);

      expect(window.peek('cred-a')).toMatchObject({ leases: 2, lastUsedAt: NOW + 2 * SECOND });
    });

    it('counts outcomes by status, falling back to the outcome when there is no status', () => {
      const window = new UsageWindow(NOW);

      window.countOutcome('cred-a', { outcome: 'success', status: 200 }, NOW);
      window.countOutcome('cred-a', { outcome: 'success', status: 200 }, NOW);
      window.countOutcome('cred-a', { outcome: 'failure', status: 429 }, NOW);
      window.countOutcome('cred-a', { outcome: 'success' }, NOW);
      window.countOutcome('cred-a', { outcome: 'failure' }, NOW);

      expect(window.peek('cred-a')).toMatchObject({
        requests: 5,
        successes: 3,
        failures: 2,
        byStatus: { '200': 2, '429': 1, success: 1, failure: 1 },
      });
    });

    it('adds up tokens used and latency, counting only the samples that carry a latency', () => {
      const window = new UsageWindow(NOW);

      window.countOutcome('cred-a', { outcome: 'success', latencyMs: 120, tokensUsed: 800 }, NOW);
      window.countOutcome('cred-a', { outcome: 'success', latencyMs: 80 }, NOW);
      window.countOutcome('cred-a', { outcome: 'success', tokensUsed: 200 }, NOW);

      expect(window.peek('cred-a')).toMatchObject({
        tokensUsed: 1_000,
        latencyMsTotal: 200,
        latencySamples: 2,
      });
    });

    it('keeps each credential apart and knows nothing of a credential it never saw', () => {
      const window = new UsageWindow(NOW);

      window.countLease('cred-a', NOW);
      window.countOutcome('cred-b', { outcome: 'failure', status: 500 }, NOW);

      expect(window.peek('cred-a')).toMatchObject({ leases: 1, requests: 0 });
      expect(window.peek('cred-b')).toMatchObject({ leases: 0, requests: 1, failures: 1 });
      expect(window.peek('cred-c')).toBeUndefined();
    });
  });

  describe('close', () => {
    it('returns one record per credential that saw traffic, spanning the window', () => {
      const window = new UsageWindow(NOW);
      window.countLease('cred-a', NOW + SECOND);
      window.countOutcome(
        'cred-a',
        { outcome: 'success', status: 200, latencyMs: 50, tokensUsed: 10 },
        NOW + 2 * SECOND,
      );
      window.countLease('cred-b', NOW + 3 * SECOND);

      const records = window.close(NOW + MINUTE, REPLICA);

      expect(records).toEqual([
        {
          credentialId: 'cred-a',
          replica: REPLICA,
          windowStart: iso(NOW),
          windowEnd: iso(NOW + MINUTE),
          leases: 1,
          requests: 1,
          successes: 1,
          failures: 0,
          byStatus: { '200': 1 },
          tokensUsed: 10,
          latencyMsTotal: 50,
          latencySamples: 1,
          lastUsedAt: iso(NOW + 2 * SECOND),
        },
        {
          credentialId: 'cred-b',
          replica: REPLICA,
          windowStart: iso(NOW),
          windowEnd: iso(NOW + MINUTE),
          leases: 1,
          requests: 0,
          successes: 0,
          failures: 0,
          byStatus: {},
          tokensUsed: 0,
          latencyMsTotal: 0,
          latencySamples: 0,
          lastUsedAt: iso(NOW + 3 * SECOND),
        },
      ]);
    });

    it('returns records that the usage-recorded event accepts', () => {
      const window = new UsageWindow(NOW);
      window.countLease('cred-a', NOW);
      window.countOutcome('cred-a', { outcome: 'failure', status: 429, latencyMs: 12.5 }, NOW);

      for (const data of window.close(NOW + MINUTE, REPLICA)) {
        const parsed = CredentialUsageRecordedV1.safeParse({
          type: 'credential.usage-recorded.v1',
          data,
        });
        expect(parsed.success).toBe(true);
      }
    });

    it('starts a fresh window at the time it closed', () => {
      const window = new UsageWindow(NOW);
      window.countLease('cred-a', NOW);
      window.close(NOW + MINUTE, REPLICA);

      expect(window.peek('cred-a')).toBeUndefined();
      window.countLease('cred-a', NOW + MINUTE + SECOND);
      const [next] = window.close(NOW + 2 * MINUTE, REPLICA);

      expect(next).toMatchObject({
        leases: 1,
        windowStart: iso(NOW + MINUTE),
        windowEnd: iso(NOW + 2 * MINUTE),
      });
    });

    it('returns nothing for a window without traffic', () => {
      const window = new UsageWindow(NOW);
      window.countLease('cred-a', NOW);
      window.close(NOW + MINUTE, REPLICA);

      expect(window.close(NOW + 2 * MINUTE, REPLICA)).toEqual([]);
    });
  });

  describe('restore', () => {
    it('puts the counts of records that could not be appended back into the window', () => {
      const window = new UsageWindow(NOW);
      window.countLease('cred-a', NOW + SECOND);
      window.countOutcome(
        'cred-a',
        { outcome: 'failure', status: 429, latencyMs: 30 },
        NOW + SECOND,
      );
      const failed = window.close(NOW + MINUTE, REPLICA);

      window.countLease('cred-a', NOW + MINUTE + SECOND);
      window.countOutcome(
        'cred-a',
        { outcome: 'success', status: 200, latencyMs: 70, tokensUsed: 5 },
        NOW + MINUTE + SECOND,
      );
      window.restore(failed);
      const [merged] = window.close(NOW + 2 * MINUTE, REPLICA);

      expect(merged).toEqual({
        credentialId: 'cred-a',
        replica: REPLICA,
        windowStart: iso(NOW + MINUTE),
        windowEnd: iso(NOW + 2 * MINUTE),
        leases: 2,
        requests: 2,
        successes: 1,
        failures: 1,
        byStatus: { '200': 1, '429': 1 },
        tokensUsed: 5,
        latencyMsTotal: 100,
        latencySamples: 2,
        lastUsedAt: iso(NOW + MINUTE + SECOND),
      });
    });

    it('restores into an empty window, keeping the restored last-used time', () => {
      const window = new UsageWindow(NOW);
      window.countLease('cred-a', NOW + SECOND);
      const failed = window.close(NOW + MINUTE, REPLICA);

      window.restore(failed);

      expect(window.peek('cred-a')).toMatchObject({ leases: 1, lastUsedAt: NOW + SECOND });
    });

    it('keeps the later last-used time when the restored one is older', () => {
      const window = new UsageWindow(NOW);
      window.countLease('cred-a', NOW + SECOND);
      const failed = window.close(NOW + MINUTE, REPLICA);
      window.countLease('cred-a', NOW + 90 * SECOND);

      window.restore(failed);

      expect(window.peek('cred-a')?.lastUsedAt).toBe(NOW + 90 * SECOND);
    });
  });
});
