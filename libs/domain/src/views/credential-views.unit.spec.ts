import { CredentialViewSchema, PoolStatusSchema } from '@broker/contracts';
import { credential, HOUR, iso, MINUTE, NOW, SECOND } from '../testing/fixtures.js';
import {
  conditionOf,
  toCredentialView,
  toHealthView,
  toMetricsView,
  toPoolStatus,
} from './credential-views.js';

describe('credential views', () => {
  describe('conditionOf', () => {
    it('says ok for an active, healthy credential with a valid token', () => {
      expect(conditionOf(credential(), NOW)).toBe('ok');
    });

    it('puts a status other than active before anything about health', () => {
      const troubled = {
        expiresAt: NOW - 1,
        health: { refreshRequired: true, coolingUntil: NOW + MINUTE, backoffUntil: NOW + MINUTE },
      };

      expect(conditionOf(credential({ ...troubled, status: 'revoked' }), NOW)).toBe('revoked');
      expect(conditionOf(credential({ ...troubled, status: 'decommissioned' }), NOW)).toBe(
        'decommissioned',
      );
      expect(conditionOf(credential({ ...troubled, status: 'reauth-required' }), NOW)).toBe(
        'reauth-required',
      );
    });

    it('puts a required refresh before a cooldown', () => {
      const c = credential({ health: { refreshRequired: true, coolingUntil: NOW + MINUTE } });

      expect(conditionOf(c, NOW)).toBe('refresh-required');
    });

    it('puts a cooldown before a backoff', () => {
      const c = credential({ health: { coolingUntil: NOW + MINUTE, backoffUntil: NOW + MINUTE } });

      expect(conditionOf(c, NOW)).toBe('cooling');
    });

    it('puts a backoff before an expired token', () => {
      const c = credential({ expiresAt: NOW - 1, health: { backoffUntil: NOW + MINUTE } });

      expect(conditionOf(c, NOW)).toBe('backing-off');
    });

    it('says expired for a token that expires at this very moment', () => {
      expect(conditionOf(credential({ expiresAt: NOW }), NOW)).toBe('expired');
      expect(conditionOf(credential({ expiresAt: NOW + 1 }), NOW)).toBe('ok');
    });

    it('says ok once a cooldown or a backoff has ended', () => {
      const c = credential({
        health: { coolingUntil: NOW, backoffUntil: NOW - SECOND, consecutiveFailures: 3 },
      });

      expect(conditionOf(c, NOW)).toBe('ok');
    });

    it('ignores a cooldown of a single model', () => {
      const c = credential({ health: { modelCooldowns: { 'gemini-2.5-pro': NOW + MINUTE } } });

      expect(conditionOf(c, NOW)).toBe('ok');
    });
  });

  describe('toPoolStatus', () => {
    it('counts each credential under its condition and gives the earliest live expiry', () => {
      const members = [
        credential({ id: 'ok-1', expiresAt: NOW + 2 * HOUR }),
        credential({ id: 'ok-2', expiresAt: NOW + 30 * MINUTE }),
        credential({ id: 'cooling', health: { coolingUntil: NOW + MINUTE } }),
        credential({ id: 'backing-off', health: { backoffUntil: NOW + MINUTE } }),
        credential({ id: 'refresh', health: { refreshRequired: true } }),
        credential({ id: 'reauth', status: 'reauth-required', expiresAt: NOW + MINUTE }),
        credential({ id: 'expired', expiresAt: NOW - MINUTE }),
        credential({ id: 'revoked', status: 'revoked', expiresAt: NOW + SECOND }),
        credential({ id: 'decommissioned', status: 'decommissioned' }),
      ];

      const status = toPoolStatus('gemini-cli', 'default', members, NOW);

      expect(status).toEqual({
        provider: 'gemini-cli',
        pool: 'default',
        total: 9,
        usable: 2,
        cooling: 1,
        backingOff: 1,
        refreshRequired: 1,
        reauthRequired: 1,
        expired: 1,
        nextExpiry: iso(NOW + 30 * MINUTE),
      });
      expect(PoolStatusSchema.safeParse(status).success).toBe(true);
    });

    it('gives no next expiry when no active credential has a live token', () => {
      const members = [
        credential({ id: 'expired', expiresAt: NOW - MINUTE }),
        credential({ id: 'revoked', status: 'revoked' }),
      ];

      expect(toPoolStatus('gemini-cli', 'default', members, NOW).nextExpiry).toBeNull();
    });

    it('reports an empty pool as all zeros', () => {
      expect(toPoolStatus('qwen-code', 'batch', [], NOW)).toEqual({
        provider: 'qwen-code',
        pool: 'batch',
        total: 0,
        usable: 0,
        cooling: 0,
        backingOff: 0,
        refreshRequired: 0,
        reauthRequired: 0,
        expired: 0,
        nextExpiry: null,
      });
    });
  });

  describe('toCredentialView', () => {
    it('shows a credential without any token material', () => {
      const c = credential({ label: 'alice@example.com', lastRefreshAt: NOW - MINUTE });

      const view = toCredentialView(c, NOW);

      expect(view).toMatchObject({
        id: 'cred-a',
        label: 'alice@example.com',
        status: 'active',
        state: 'ok',
        expiresAt: iso(NOW + HOUR),
        lastRefreshAt: iso(NOW - MINUTE),
        hasRefreshToken: true,
      });
      expect(JSON.stringify(view)).not.toContain('enc:v1');
      expect(CredentialViewSchema.safeParse(view).success).toBe(true);
    });
  });

  describe('toHealthView', () => {
    it('shows only the cooldowns and backoffs that are still running', () => {
      const c = credential({
        health: {
          consecutiveFailures: 3,
          backoffUntil: NOW - 1,
          coolingUntil: NOW + MINUTE,
          coolingStatus: 429,
          modelCooldowns: { 'gemini-2.5-pro': NOW + MINUTE, 'gemini-2.5-flash': NOW },
        },
      });

      expect(toHealthView(c, NOW)).toEqual({
        consecutiveFailures: 3,
        backoffUntil: null,
        coolingUntil: iso(NOW + MINUTE),
        coolingStatus: 429,
        modelCooldowns: { 'gemini-2.5-pro': iso(NOW + MINUTE) },
        refreshRequired: false,
        refreshing: false,
        refreshFailures: 0,
        nextRefreshAttemptAt: null,
        lastRefreshError: null,
        refreshOutcomeUnknown: false,
      });
    });
  });

  describe('what an operator sees of a status change and a cooldown', () => {
    it('says when the status changed, when the log says', () => {
      const c = credential({ status: 'reauth-required', statusChangedAt: NOW - MINUTE });

      expect(toCredentialView(c, NOW).statusChangedAt).toBe(iso(NOW - MINUTE));
      expect(toCredentialView(credential(), NOW)).not.toHaveProperty('statusChangedAt');
    });

    it('shows the status that started a cooldown only while it runs', () => {
      const c = credential({ health: { coolingUntil: NOW + MINUTE, coolingStatus: 402 } });

      expect(toHealthView(c, NOW).coolingStatus).toBe(402);
      expect(toHealthView(c, NOW + MINUTE).coolingStatus).toBeNull();
    });
  });

  describe('toMetricsView', () => {
    it('derives the success rate and average latency, or null without samples', () => {
      const used = credential({
        usage: { requests: 4, successes: 3, latencyMsTotal: 300, latencySamples: 2 },
      }).usage;

      expect(toMetricsView(used)).toMatchObject({ successRate: 0.75, averageLatencyMs: 150 });
      expect(toMetricsView(credential().usage)).toMatchObject({
        successRate: null,
        averageLatencyMs: null,
        lastUsedAt: null,
      });
    });
  });
});
