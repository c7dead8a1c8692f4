import { CredentialEventSchema, type CredentialEvent } from '@broker/contracts';
import {
  addedEvent,
  backedOffEvent,
  cooledDownEvent,
  CREDENTIAL_ID,
  ENCRYPTED_SECRETS,
  failureRecordedEvent,
  given,
  HOUR,
  iso,
  MINUTE,
  NOW,
  recoveredEvent,
  refreshRequiredEvent,
  revokedEvent,
  stateFrom,
  usageRecordedEvent,
} from '../testing/fixtures.js';
import { evolve, evolveAt } from './evolve.js';
import { HEALTHY, NO_REFRESH, NO_USAGE, NOT_ROTATING } from './state.js';

describe('evolve', () => {
  describe('given no stream yet', () => {
    it('starts an active, healthy credential from the added event', () => {
      const event = addedEvent({
        credentialId: 'cred-b',
        provider: 'qwen-code',
        pool: 'team-a',
        priority: 5,
        scopes: ['openid', 'email'],
        metadata: { owner: 'alice' },
        tokenType: 'bearer',
        addedAt: '2025-12-31T23:00:00.000Z',
        expiresAt: '2026-01-01T01:00:00.000Z',
        fingerprint: 'fp:abc',
      });

      expect(evolve(null, event)).toEqual({
        id: 'cred-b',
        version: 0,
        provider: 'qwen-code',
        pool: 'team-a',
        priority: 5,
        scopes: ['openid', 'email'],
        metadata: { owner: 'alice' },
        tokenType: 'bearer',
        status: 'active',
        statusChangedAt: null,
        addedAt: NOW - HOUR,
        expiresAt: NOW + HOUR,
        secrets: ENCRYPTED_SECRETS,
        fingerprint: 'fp:abc',
        lastRefreshAt: null,
        refreshCount: 0,
        health: HEALTHY,
        refresh: NO_REFRESH,
        rotation: NOT_ROTATING,
        usage: NO_USAGE,
      });
    });

    it('keeps the label and client id when the added event has them, and omits them otherwise', () => {
      const withBoth = evolve(null, addedEvent({ label: 'alice@example.com', clientId: 'app-1' }));
      const withNeither = evolve(null, addedEvent());

      expect(withBoth).toMatchObject({ label: 'alice@example.com', clientId: 'app-1' });
      expect(withNeither).not.toHaveProperty('label');
      expect(withNeither).not.toHaveProperty('clientId');
    });

    it('ignores every event other than added', () => {
      const others: CredentialEvent[] = [
        failureRecordedEvent(1),
        backedOffEvent(3, NOW + 1_000),
        cooledDownEvent(NOW + MINUTE),
        refreshRequiredEvent(),
        recoveredEvent(2),
        usageRecordedEvent({ leases: 1 }),
        revokedEvent(),
      ];

      for (const event of others) {
        expect(evolve(null, event)).toBeNull();
        expect(evolveAt(null, event, 1)).toBeNull();
      }
    });
  });

  describe('given an added credential', () => {
    const added = given(addedEvent());

    it('counts a recorded failure', () => {
      expect(evolve(added, failureRecordedEvent(2))?.health).toEqual({
        ...HEALTHY,
        consecutiveFailures: 2,
      });
    });

    it('backs off until the time the event names', () => {
      expect(evolve(added, backedOffEvent(3, NOW + 1_000))?.health).toEqual({
        ...HEALTHY,
        consecutiveFailures: 3,
        backoffUntil: NOW + 1_000,
      });
    });

    it('cools the whole credential down when the event names no model', () => {
      expect(evolve(added, cooledDownEvent(NOW + MINUTE))?.health).toEqual({
        ...HEALTHY,
        coolingUntil: NOW + MINUTE,
        coolingStatus: 429,
      });
    });

    it('cools only the model the event names, one entry per model', () => {
      const state = stateFrom([
        addedEvent(),
        cooledDownEvent(NOW + MINUTE, { model: 'gemini-2.5-pro' }),
        cooledDownEvent(NOW + 2 * MINUTE, { model: 'gemini-2.5-flash' }),
        cooledDownEvent(NOW + 3 * MINUTE, { model: 'gemini-2.5-pro' }),
      ]);

      expect(state?.health.coolingUntil).toBeNull();
      expect(state?.health.modelCooldowns).toEqual({
        'gemini-2.5-pro': NOW + 3 * MINUTE,
        'gemini-2.5-flash': NOW + 2 * MINUTE,
      });
    });

    it('marks the credential as needing a refresh', () => {
      expect(evolve(added, refreshRequiredEvent())?.health.refreshRequired).toBe(true);
    });

    it('clears the failure count and the backoff on recovery, keeping a cooldown', () => {
      const state = stateFrom([
        addedEvent(),
        cooledDownEvent(NOW + MINUTE),
        failureRecordedEvent(1),
        failureRecordedEvent(2),
        backedOffEvent(3, NOW + 1_000),
        recoveredEvent(3),
      ]);

      expect(state?.health).toEqual({ ...HEALTHY, coolingUntil: NOW + MINUTE, coolingStatus: 429 });
    });

    it('marks the credential revoked with the reason', () => {
      const state = evolve(added, revokedEvent({ reason: 'account closed' }));

      expect(state).toMatchObject({ status: 'revoked', statusReason: 'account closed' });
    });

    it('remembers when the status changed, or nothing for an event written before it said', () => {
      expect(evolve(added, revokedEvent({ at: iso(NOW + MINUTE) }))?.statusChangedAt).toBe(
        NOW + MINUTE,
      );
      expect(evolve(added, revokedEvent())?.statusChangedAt).toBeNull();
    });

    it('adds a usage window to the totals', () => {
      const state = evolve(
        added,
        usageRecordedEvent({
          leases: 4,
          requests: 3,
          successes: 2,
          failures: 1,
          byStatus: { '200': 2, '429': 1 },
          tokensUsed: 1_500,
          latencyMsTotal: 900,
          latencySamples: 3,
          lastUsedAt: iso(NOW - 10_000),
        }),
      );

      expect(state?.usage).toEqual({
        leases: 4,
        requests: 3,
        successes: 2,
        failures: 1,
        byStatus: { '200': 2, '429': 1 },
        tokensUsed: 1_500,
        latencyMsTotal: 900,
        latencySamples: 3,
        lastUsedAt: NOW - 10_000,
      });
    });

    it('leaves the state it was given untouched', () => {
      const before = structuredClone(added);

      evolve(added, failureRecordedEvent(1));
      evolve(added, cooledDownEvent(NOW + MINUTE, { model: 'gemini-2.5-pro' }));
      evolve(added, usageRecordedEvent({ leases: 1, byStatus: { '200': 1 } }));
      evolve(added, revokedEvent());

      expect(added).toEqual(before);
    });
  });

  describe('given several usage windows', () => {
    it('adds the windows up, merging the counts by status', () => {
      const state = stateFrom([
        addedEvent(),
        usageRecordedEvent({
          leases: 3,
          requests: 3,
          successes: 2,
          failures: 1,
          byStatus: { '200': 2, '429': 1 },
          tokensUsed: 100,
          latencyMsTotal: 300,
          latencySamples: 3,
          lastUsedAt: iso(NOW - 2 * MINUTE),
        }),
        usageRecordedEvent({
          replica: 'token-service-2',
          leases: 2,
          requests: 2,
          successes: 1,
          failures: 1,
          byStatus: { '200': 1, '500': 1 },
          tokensUsed: 50,
          latencyMsTotal: 120,
          latencySamples: 2,
          lastUsedAt: iso(NOW - MINUTE),
        }),
      ]);

      expect(state?.usage).toEqual({
        leases: 5,
        requests: 5,
        successes: 3,
        failures: 2,
        byStatus: { '200': 3, '429': 1, '500': 1 },
        tokensUsed: 150,
        latencyMsTotal: 420,
        latencySamples: 5,
        lastUsedAt: NOW - MINUTE,
      });
    });

    it('keeps the latest last-used time even when an older window arrives later', () => {
      const state = stateFrom([
        addedEvent(),
        usageRecordedEvent({ leases: 1, lastUsedAt: iso(NOW - MINUTE) }),
        usageRecordedEvent({ leases: 1, lastUsedAt: iso(NOW - 5 * MINUTE) }),
      ]);

      expect(state?.usage.lastUsedAt).toBe(NOW - MINUTE);
    });

    it('keeps the last-used time when a window saw no use', () => {
      const state = stateFrom([
        addedEvent(),
        usageRecordedEvent({ leases: 1, lastUsedAt: iso(NOW - MINUTE) }),
        usageRecordedEvent({ leases: 0, lastUsedAt: null }),
      ]);

      expect(state?.usage.lastUsedAt).toBe(NOW - MINUTE);
    });
  });

  describe('evolveAt', () => {
    it('sets the version to the stream version of the event folded in', () => {
      const first = evolveAt(null, addedEvent(), 1);
      const second = evolveAt(first, failureRecordedEvent(1), 2);

      expect(first?.version).toBe(1);
      expect(second?.version).toBe(2);
      expect(second?.health.consecutiveFailures).toBe(1);
    });

    it('gives the version of the last event when a whole history is folded', () => {
      const state = stateFrom([
        addedEvent(),
        failureRecordedEvent(1),
        recoveredEvent(1),
        revokedEvent(),
      ]);

      expect(state?.version).toBe(4);
      expect(state?.id).toBe(CREDENTIAL_ID);
    });

    it('leaves the version alone when evolve is used without it', () => {
      const state = evolveAt(null, addedEvent(), 7);

      expect(evolve(state, failureRecordedEvent(1))?.version).toBe(7);
    });
  });

  describe('the test fixtures', () => {
    it('build only events the log accepts', () => {
      const events: CredentialEvent[] = [
        addedEvent({ label: 'alice', clientId: 'app-1' }),
        failureRecordedEvent(1),
        backedOffEvent(3, NOW + 1_000),
        cooledDownEvent(NOW + MINUTE, { model: 'gemini-2.5-pro' }),
        refreshRequiredEvent(),
        recoveredEvent(2),
        usageRecordedEvent({ lastUsedAt: iso(NOW) }),
        revokedEvent(),
      ];

      for (const event of events) {
        const parsed = CredentialEventSchema.safeParse(event);
        expect(parsed.error?.issues).toBeUndefined();
        expect(parsed.success).toBe(true);
      }
    });
  });
});
