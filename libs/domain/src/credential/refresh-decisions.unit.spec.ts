import { BrokerError, type CredentialEvent } from '@broker/contracts';
import type { FailRefresh } from './commands.js';
import { decide } from './decide.js';
import { DEFAULT_HEALTH_POLICY } from './health-policy.js';
import { evolve } from './evolve.js';
import { refreshBackoff } from './refresh-decisions.js';
import type { CredentialState } from './state.js';
import { addedEvent, CREDENTIAL_ID, given, HOUR, iso, NOW, SECOND } from '../testing/fixtures.js';

const context = { now: NOW, policy: DEFAULT_HEALTH_POLICY };
const REFRESH_ID = '7d9f0c2e-5b1a-4c3d-8e6f-1a2b3c4d5e6f';
const OTHER_REFRESH_ID = '1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6';

const started = (refreshId = REFRESH_ID): CredentialEvent => ({
  type: 'credential.refresh-started.v1',
  data: {
    credentialId: CREDENTIAL_ID,
    refreshId,
    reason: 'on-demand',
    replica: 'r1',
    startedAt: iso(NOW - SECOND),
  },
});

const fold = (state: CredentialState, events: CredentialEvent[]): CredentialState =>
  events.reduce<CredentialState>((s, e) => evolve(s, e) as CredentialState, state);

const fail = (overrides: Partial<FailRefresh['data']> = {}): FailRefresh => ({
  type: 'FailRefresh',
  data: {
    credentialId: CREDENTIAL_ID,
    refreshId: REFRESH_ID,
    kind: 'transient',
    error: 'http_503',
    status: 503,
    durationMs: 40,
    jitter: 0.5,
    ...overrides,
  },
});

const refreshedData = (refreshId = REFRESH_ID, withRefreshToken = true) => ({
  credentialId: CREDENTIAL_ID,
  refreshId,
  secrets: {
    accessToken: 'enc:v1:k1:bmV3:bmV3LWFjY2Vzcw',
    ...(withRefreshToken ? { refreshToken: 'enc:v1:k1:bmV3:bmV3LXJlZnJlc2g' } : {}),
  },
  tokenType: 'Bearer',
  expiresAt: iso(NOW + HOUR),
  rotated: withRefreshToken,
  fingerprint: 'fp_new',
  durationMs: 120,
});

const errorOf = (fn: () => unknown): BrokerError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof BrokerError) return error;
    throw error;
  }
  throw new Error('expected a BrokerError');
};

describe('refresh decisions', () => {
  describe('when the credential is active with a refresh token', () => {
    const state = given(addedEvent());

    it('starting a refresh records who started it and when', () => {
      const events = decide(
        {
          type: 'StartRefresh',
          data: {
            credentialId: CREDENTIAL_ID,
            refreshId: REFRESH_ID,
            reason: 'admin',
            replica: 'r1',
            knownRefreshCount: 0,
          },
        },
        state,
        context,
      );
      expect(events).toEqual([
        {
          type: 'credential.refresh-started.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            refreshId: REFRESH_ID,
            reason: 'admin',
            replica: 'r1',
            startedAt: iso(NOW),
          },
        },
      ]);
      expect(fold(state, events).refresh.inFlight?.refreshId).toBe(REFRESH_ID);
    });

    it('a credential without a refresh token cannot be refreshed', () => {
      const noRefresh = given(addedEvent({ secrets: { accessToken: 'enc:v1:k1:aXY:Y3Q' } }));
      const error = errorOf(() =>
        decide(
          {
            type: 'StartRefresh',
            data: {
              credentialId: CREDENTIAL_ID,
              refreshId: REFRESH_ID,
              reason: 'admin',
              replica: 'r1',
              knownRefreshCount: 0,
            },
          },
          noRefresh,
          context,
        ),
      );
      expect(error.code).toBe('REFRESH_FAILED');
      expect(error.message).toContain('no refresh token');
    });
  });

  describe('when a refresh is in flight', () => {
    const state = fold(given(addedEvent()), [started()]);

    it('its success replaces the tokens, clears refresh-required and counts the refresh', () => {
      const required = fold(state, [
        {
          type: 'credential.refresh-required.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            leaseId: '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f',
            status: 401,
          },
        },
      ]);
      const events = decide({ type: 'CompleteRefresh', data: refreshedData() }, required, context);
      expect(events[0]?.type).toBe('credential.refreshed.v1');
      const after = fold(required, events);
      expect(after.secrets.refreshToken).toBe('enc:v1:k1:bmV3:bmV3LXJlZnJlc2g');
      expect(after.expiresAt).toBe(NOW + HOUR);
      expect(after.health.refreshRequired).toBe(false);
      expect(after.refreshCount).toBe(1);
      expect(after.lastRefreshAt).toBe(NOW);
      expect(after.refresh.inFlight).toBeNull();
    });

    it('a success without a new refresh token keeps the stored one', () => {
      const events = decide(
        { type: 'CompleteRefresh', data: refreshedData(REFRESH_ID, false) },
        state,
        context,
      );
      expect(fold(state, events).secrets.refreshToken).toBe(state.secrets.refreshToken);
    });

    it('a late result of a refresh that is no longer in flight is refused, never stored over a newer one', () => {
      const takenOver = fold(state, [started(OTHER_REFRESH_ID)]);
      expect(
        errorOf(() =>
          decide({ type: 'CompleteRefresh', data: refreshedData() }, takenOver, context),
        ).message,
      ).toContain('no longer the one in flight');
      expect(() => decide(fail(), takenOver, context)).toThrow(BrokerError);
    });

    it('a permanent failure sends the credential to re-authorisation with the provider’s reason', () => {
      const events = decide(
        fail({
          kind: 'permanent',
          error: 'invalid_grant',
          description: 'Token has been expired or revoked.',
          status: 400,
        }),
        state,
        context,
      );
      expect(events).toEqual([
        {
          type: 'credential.reauth-required.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            refreshId: REFRESH_ID,
            error: 'invalid_grant',
            reason:
              'the provider rejected the refresh token (invalid_grant: Token has been expired or revoked.); log in again',
            at: iso(NOW),
          },
        },
      ]);
      const after = fold(state, events);
      expect(after.status).toBe('reauth-required');
      expect(after.statusReason).toContain('invalid_grant');
      expect(after.statusChangedAt).toBe(NOW);
    });

    it('a transient failure backs off exponentially with jitter and honours a longer Retry-After', () => {
      const first = decide(fail({ jitter: 0.5 }), state, context);
      expect(first[0]?.data).toMatchObject({
        kind: 'transient',
        consecutiveFailures: 1,
        nextAttemptAt: iso(NOW + 1000),
      });
      const again = fold(fold(state, first), [started(OTHER_REFRESH_ID)]);
      const second = decide(fail({ refreshId: OTHER_REFRESH_ID, jitter: 0.5 }), again, context);
      expect(second[0]?.data).toMatchObject({
        consecutiveFailures: 2,
        nextAttemptAt: iso(NOW + 2000),
      });
      const limited = decide(
        fail({ error: 'http_429', status: 429, retryAfterMs: 90_000 }),
        state,
        context,
      );
      expect(limited[0]?.data).toMatchObject({
        nextAttemptAt: iso(NOW + 90_000),
        retryAfterMs: 90_000,
      });
      expect(fold(state, first).refresh.inFlight).toBeNull();
    });

    it('superseded (a sibling had rotated the token) is neither a failure nor re-authorisation', () => {
      const events = decide(fail({ kind: 'superseded', error: 'invalid_grant' }), state, context);
      const after = fold(state, events);
      expect(after.status).toBe('active');
      expect(after.refresh.consecutiveFailures).toBe(0);
      expect(after.refresh.nextAttemptAt).toBeNull();
    });
  });

  describe('when an earlier refresh died without an outcome', () => {
    const orphaned = fold(given(addedEvent()), [started(OTHER_REFRESH_ID)]);

    it('the next refresh first records the outcome as unknown', () => {
      const events = decide(
        {
          type: 'StartRefresh',
          data: {
            credentialId: CREDENTIAL_ID,
            refreshId: REFRESH_ID,
            reason: 'recovery',
            replica: 'r2',
            knownRefreshCount: 0,
          },
        },
        orphaned,
        context,
      );
      expect(events.map((e) => e.type)).toEqual([
        'credential.refresh-outcome-unknown.v1',
        'credential.refresh-started.v1',
      ]);
      expect(fold(orphaned, events).refresh.outcomeUnknown).toBe(true);
    });

    it('a provider rejection then says the outcome was lost, and asks for a new login', () => {
      const recovering = fold(orphaned, [
        {
          type: 'credential.refresh-outcome-unknown.v1',
          data: { credentialId: CREDENTIAL_ID, refreshId: OTHER_REFRESH_ID, detectedBy: 'r2' },
        },
        started(),
      ]);
      const events = decide(
        fail({ kind: 'permanent', error: 'invalid_grant' }),
        recovering,
        context,
      );
      expect(events[0]?.type).toBe('credential.reauth-required.v1');
      expect((events[0]?.data as { reason: string }).reason).toContain(
        'cut off before its result was stored',
      );
    });
  });

  describe('when the credential awaits re-authorisation', () => {
    it('no refresh starts', () => {
      const dead = fold(
        fold(given(addedEvent()), [started()]),
        decide(
          fail({ kind: 'permanent', error: 'invalid_grant' }),
          fold(given(addedEvent()), [started()]),
          context,
        ),
      );
      const error = errorOf(() =>
        decide(
          {
            type: 'StartRefresh',
            data: {
              credentialId: CREDENTIAL_ID,
              refreshId: OTHER_REFRESH_ID,
              reason: 'admin',
              replica: 'r1',
              knownRefreshCount: 0,
            },
          },
          dead,
          context,
        ),
      );
      expect(error.code).toBe('REAUTH_REQUIRED');
    });
  });

  it('backoff doubles from 1 s to a 5 minute cap, spread ±20 %', () => {
    expect([1, 2, 3, 4].map((n) => refreshBackoff(n, 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(refreshBackoff(30, 0.5)).toBe(300_000);
    expect(refreshBackoff(1, 0)).toBe(800);
    expect(refreshBackoff(1, 0.999)).toBeLessThanOrEqual(1200);
  });
});

describe('a 401 after a refresh', () => {
  it('on a lease of the token the refresh replaced is old news, not a new refresh', () => {
    const refreshedAt = fold(fold(given(addedEvent()), [started()]), [
      { type: 'credential.refreshed.v1', data: { ...refreshedData(), refreshedAt: iso(NOW) } },
    ]);
    const report = (leasedAt: number) =>
      decide(
        {
          type: 'RecordOutcome',
          data: {
            credentialId: CREDENTIAL_ID,
            leaseId: '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f',
            outcome: 'failure',
            status: 401,
            leasedAt,
          },
        },
        refreshedAt,
        context,
      );
    expect(report(NOW - SECOND)).toEqual([]);
    expect(report(NOW + SECOND).map((e) => e.type)).toEqual(['credential.refresh-required.v1']);
  });
});

describe('a refresh decided on a state that was behind', () => {
  it('starts nothing when a sibling refreshed since the caller looked', () => {
    const refreshedOnce = fold(fold(given(addedEvent()), [started()]), [
      { type: 'credential.refreshed.v1', data: { ...refreshedData(), refreshedAt: iso(NOW) } },
    ]);
    const start = (knownRefreshCount: number) =>
      decide(
        {
          type: 'StartRefresh',
          data: {
            credentialId: CREDENTIAL_ID,
            refreshId: OTHER_REFRESH_ID,
            reason: 'on-demand',
            replica: 'r2',
            knownRefreshCount,
          },
        },
        refreshedOnce,
        context,
      );
    expect(start(0)).toEqual([]);
    expect(start(1).map((e) => e.type)).toEqual(['credential.refresh-started.v1']);
  });
});

describe('refresh durations', () => {
  it('keep the last five successful refreshes for the adaptive strategy', () => {
    let state = given(addedEvent());
    for (let i = 1; i <= 7; i += 1) {
      const id = `00000000-0000-4000-8000-00000000000${i}`;
      state = fold(state, [
        { ...started(id) },
        {
          type: 'credential.refreshed.v1',
          data: { ...refreshedData(id), durationMs: i * 100, refreshedAt: iso(NOW) },
        },
      ]);
    }
    expect(state.refresh.recentDurationsMs).toEqual([300, 400, 500, 600, 700]);
  });
});
