import type { BrokerEvent } from '@broker/contracts';
import {
  addedEvent,
  CREDENTIAL_ID,
  HOUR,
  iso,
  MINUTE,
  NOW,
  usageRecordedEvent,
} from '../testing/fixtures.js';
import { AlertFacts } from './alert-facts.js';
import { evaluateRules, type Condition, type RulePolicy } from './rules.js';
import { DEFAULT_ALERT_THRESHOLDS as T } from './thresholds.js';

const factsFrom = (...events: BrokerEvent[]): AlertFacts => {
  const facts = new AlertFacts();
  const versions = new Map<string, number>();
  for (const event of events) {
    const stream = 'credentialId' in event.data ? event.data.credentialId : 'pool';
    const version = (versions.get(stream) ?? 0) + 1;
    versions.set(stream, version);
    facts.apply(event, version);
  }
  return facts;
};

const usage = (requests: number, failures: number, end = NOW) =>
  usageRecordedEvent({ requests, failures, successes: requests - failures, windowEnd: iso(end) });

const refreshFailed = (
  kind: 'transient' | 'permanent',
  consecutiveFailures: number,
): BrokerEvent => ({
  type: 'credential.refresh-failed.v1',
  data: {
    credentialId: CREDENTIAL_ID,
    refreshId: '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f',
    kind,
    error: kind === 'permanent' ? 'invalid_grant' : 'http_503',
    consecutiveFailures,
    durationMs: 12,
  },
});

const poolWindow = (served: number, refused: number, end: number): BrokerEvent => ({
  type: 'pool.usage-recorded.v1',
  data: {
    provider: 'gemini-cli',
    pool: 'default',
    replica: 'ts-1',
    windowStart: iso(end - MINUTE),
    windowEnd: iso(end),
    served,
    refused,
  },
});

const types = (conditions: Condition[]) => conditions.map((c) => c.type).sort();
const none = new Set<string>();

describe('alert rules', () => {
  describe('failure rate', () => {
    it('fires above the threshold with enough requests, naming the rate', () => {
      const [c] = evaluateRules(factsFrom(addedEvent(), usage(40, 15)), NOW, T, none);
      expect(c).toMatchObject({
        key: `failure:${CREDENTIAL_ID}`,
        type: 'failure',
        message: 'High failure rate detected: 37.5%',
        details: { failure_rate: 0.375, success_rate: 0.625, total_requests: 40, error_count: 15 },
      });
    });

    it('does not judge fewer requests than the minimum', () => {
      expect(evaluateRules(factsFrom(addedEvent(), usage(10, 9)), NOW, T, none)).toEqual([]);
    });

    it('is quiet at exactly the threshold and when the failures left the window', () => {
      expect(evaluateRules(factsFrom(addedEvent(), usage(40, 10)), NOW, T, none)).toEqual([]);
      const old = factsFrom(addedEvent(), usage(40, 15, NOW - 6 * MINUTE));
      expect(evaluateRules(old, NOW, T, none)).toEqual([]);
    });

    it('sums the windows of every replica inside the sliding window', () => {
      const facts = factsFrom(addedEvent(), usage(10, 4, NOW - MINUTE), usage(12, 4));
      expect(types(evaluateRules(facts, NOW, T, none))).toEqual(['failure']);
    });

    it('keeps a firing alert on low volume while the rate stays high', () => {
      const facts = factsFrom(addedEvent(), usage(5, 3));
      expect(evaluateRules(facts, NOW, T, new Set([`failure:${CREDENTIAL_ID}`]))).toHaveLength(1);
    });

    it('keeps a firing alert through a window with no requests, and does not fire on silence', () => {
      const firing = new Set([`failure:${CREDENTIAL_ID}`]);
      // The failures left the window and nothing came after them: no evidence of recovery.
      const quiet = factsFrom(addedEvent(), usage(40, 15, NOW - 6 * MINUTE));
      const [kept] = evaluateRules(quiet, NOW, T, firing);
      expect(kept).toMatchObject({
        key: `failure:${CREDENTIAL_ID}`,
        details: { total_requests: 0 },
      });
      expect(evaluateRules(quiet, NOW, T, none)).toEqual([]);
      expect(evaluateRules(factsFrom(addedEvent()), NOW, T, none)).toEqual([]);
    });

    it('lets a firing alert resolve once requests show the rate back under the threshold', () => {
      const firing = new Set([`failure:${CREDENTIAL_ID}`]);
      const recovered = factsFrom(addedEvent(), usage(40, 15, NOW - 6 * MINUTE), usage(4, 0));
      expect(evaluateRules(recovered, NOW, T, firing)).toEqual([]);
    });
  });

  describe('refresh failure', () => {
    it('waits for several transient failures in a row', () => {
      expect(
        evaluateRules(factsFrom(addedEvent(), refreshFailed('transient', 2)), NOW, T, none),
      ).toEqual([]);
      const [c] = evaluateRules(
        factsFrom(addedEvent(), refreshFailed('transient', 3)),
        NOW,
        T,
        none,
      );
      expect(c).toMatchObject({
        type: 'refresh',
        details: { error_kind: 'transient', consecutive_failures: 3 },
      });
    });

    it('fires at once on a permanent failure, beside re-authorisation', () => {
      const reauth: BrokerEvent = {
        type: 'credential.reauth-required.v1',
        data: {
          credentialId: CREDENTIAL_ID,
          error: 'invalid_grant',
          reason: 'refresh token revoked',
        },
      };
      const conditions = evaluateRules(
        factsFrom(addedEvent(), refreshFailed('permanent', 1), reauth),
        NOW,
        T,
        none,
      );
      expect(types(conditions)).toEqual(['reauth_required', 'refresh']);
      expect(conditions.find((c) => c.type === 'reauth_required')?.message).toBe(
        'Re-authorisation required: invalid_grant',
      );
    });

    it('counts re-authorisation as a permanent refresh failure', () => {
      const reauth: BrokerEvent = {
        type: 'credential.reauth-required.v1',
        data: { credentialId: CREDENTIAL_ID, error: 'invalid_grant', reason: 'revoked' },
      };
      const [refresh] = evaluateRules(factsFrom(addedEvent(), reauth), NOW, T, none).filter(
        (c) => c.type === 'refresh',
      );
      expect(refresh).toMatchObject({
        message: 'Refresh refused for good: invalid_grant',
        details: { error_kind: 'permanent' },
      });
    });

    it('clears once a refresh succeeds', () => {
      const refreshed: BrokerEvent = {
        type: 'credential.refreshed.v1',
        data: {
          credentialId: CREDENTIAL_ID,
          refreshId: '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f',
          secrets: { accessToken: 'enc:v1:k1:aXY:Y3Q' },
          tokenType: 'Bearer',
          expiresAt: iso(NOW + HOUR),
          rotated: false,
          fingerprint: 'fp:1',
          refreshedAt: iso(NOW),
          durationMs: 10,
        },
      };
      expect(
        evaluateRules(
          factsFrom(addedEvent(), refreshFailed('transient', 5), refreshed),
          NOW,
          T,
          none,
        ),
      ).toEqual([]);
    });
  });

  describe('expiry warning', () => {
    it('warns about a token without a refresh token ending within the warning time', () => {
      const noRefresh = addedEvent({
        secrets: { accessToken: 'enc:v1:k1:aXY:Y3Q' },
        expiresAt: iso(NOW + 2 * HOUR),
      });
      const [c] = evaluateRules(factsFrom(noRefresh), NOW, T, none);
      expect(c).toMatchObject({
        type: 'expiry_warning',
        message: 'Token expires in 120 minutes and it has no refresh token',
        details: { has_refresh_token: false, seconds_left: 7200 },
      });
      expect(evaluateRules(factsFrom(noRefresh), NOW - 24 * HOUR, T, none)).toEqual([]);
    });

    it('does not warn about a token that will be refreshed, but does when refreshes keep failing', () => {
      expect(evaluateRules(factsFrom(addedEvent()), NOW, T, none)).toEqual([]);
      const failing = factsFrom(addedEvent(), refreshFailed('transient', 3));
      expect(types(evaluateRules(failing, NOW, T, none))).toEqual(['expiry_warning', 'refresh']);
    });

    describe('the credential itself ending', () => {
      const SUCCESSOR = 'cred-b';
      const farToken = { expiresAt: iso(NOW + 90 * 24 * HOUR) };
      const rotated = (graceUntil: number): BrokerEvent => ({
        type: 'credential.rotated.v1',
        data: { credentialId: CREDENTIAL_ID, successorId: SUCCESSOR, graceUntil: iso(graceUntil) },
      });
      const successor = addedEvent({ credentialId: SUCCESSOR, ...farToken });
      const successorRevoked: BrokerEvent = {
        type: 'credential.revoked.v1',
        data: { credentialId: SUCCESSOR, reason: 'leaked' },
      };
      const expiryOf = (conditions: Condition[]) =>
        conditions.filter((c) => c.type === 'expiry_warning');

      it('warns when a rotated credential is decommissioned within the warning time and its successor cannot take over', () => {
        const facts = factsFrom(
          addedEvent(farToken),
          successor,
          rotated(NOW + 3 * HOUR),
          successorRevoked,
        );
        const [c] = expiryOf(evaluateRules(facts, NOW, T, none));
        expect(c).toMatchObject({
          key: `expiry_warning:${CREDENTIAL_ID}`,
          message: "Credential ends in 180 minutes and its successor 'cred-b' is revoked",
          details: {
            ends: 'rotation_grace',
            expires_at: iso(NOW + 3 * HOUR),
            seconds_left: 10_800,
            successor_id: SUCCESSOR,
            successor_status: 'revoked',
          },
        });
        // Not before the warning time.
        expect(expiryOf(evaluateRules(facts, NOW - 24 * HOUR, T, none))).toEqual([]);
      });

      it('says nothing while the successor serves: that end is the plan', () => {
        const facts = factsFrom(addedEvent(farToken), successor, rotated(NOW + 3 * HOUR));
        expect(evaluateRules(facts, NOW, T, none)).toEqual([]);
      });

      it('warns about a successor the log does not know', () => {
        const facts = factsFrom(addedEvent(farToken), rotated(NOW + HOUR));
        expect(expiryOf(evaluateRules(facts, NOW, T, none))[0]?.message).toBe(
          "Credential ends in 60 minutes and its successor 'cred-b' is not known",
        );
      });

      it('says nothing when the pool does not decommission rotated credentials', () => {
        const keep: RulePolicy = { autoDecommissions: () => false };
        const facts = factsFrom(addedEvent(farToken), rotated(NOW + HOUR));
        expect(evaluateRules(facts, NOW, T, none, keep)).toEqual([]);
      });

      it('names the earlier end when the token ends too', () => {
        const noRefresh = addedEvent({
          secrets: { accessToken: 'enc:v1:k1:aXY:Y3Q' },
          expiresAt: iso(NOW + 2 * HOUR),
        });
        const sooner = factsFrom(noRefresh, rotated(NOW + HOUR));
        expect(expiryOf(evaluateRules(sooner, NOW, T, none))[0]).toMatchObject({
          message: "Credential ends in 60 minutes and its successor 'cred-b' is not known",
          details: { ends: 'rotation_grace' },
        });
        const later = factsFrom(noRefresh, rotated(NOW + 5 * HOUR));
        expect(expiryOf(evaluateRules(later, NOW, T, none))[0]).toMatchObject({
          message: 'Token expires in 120 minutes and it has no refresh token',
          details: { ends: 'token', has_refresh_token: false },
        });
      });
    });
  });

  it('rotation due fires until a successor is added', () => {
    const due: BrokerEvent = {
      type: 'credential.rotation-due.v1',
      data: { credentialId: CREDENTIAL_ID, intervalDays: 30, dueAt: iso(NOW) },
    };
    const rotated: BrokerEvent = {
      type: 'credential.rotated.v1',
      data: { credentialId: CREDENTIAL_ID, successorId: 'cred-b', graceUntil: iso(NOW + HOUR) },
    };
    expect(types(evaluateRules(factsFrom(addedEvent(), due), NOW, T, none))).toEqual(['rotation']);
    const successor = addedEvent({ credentialId: 'cred-b' });
    expect(evaluateRules(factsFrom(addedEvent(), due, rotated, successor), NOW, T, none)).toEqual(
      [],
    );
  });

  it('pool exhausted fires on refused leases and clears on a later clean window', () => {
    const refused = factsFrom(poolWindow(3, 7, NOW));
    const [c] = evaluateRules(refused, NOW, T, none);
    expect(c).toMatchObject({
      key: 'pool_exhausted:gemini-cli/default',
      subject: { provider: 'gemini-cli', pool: 'default' },
      details: { refused: 7 },
    });
    expect(
      evaluateRules(factsFrom(poolWindow(3, 7, NOW), poolWindow(5, 0, NOW + MINUTE)), NOW, T, none),
    ).toEqual([]);
    // A clean window that ended before the refusals does not clear them.
    expect(
      evaluateRules(factsFrom(poolWindow(5, 0, NOW - MINUTE), poolWindow(0, 2, NOW)), NOW, T, none),
    ).toHaveLength(1);
  });

  it('says nothing about revoked or decommissioned credentials', () => {
    const revoked: BrokerEvent = {
      type: 'credential.revoked.v1',
      data: { credentialId: CREDENTIAL_ID, reason: 'leaked' },
    };
    expect(evaluateRules(factsFrom(addedEvent(), usage(40, 30), revoked), NOW, T, none)).toEqual(
      [],
    );
  });
  describe('message_set_aside', () => {
    const setAside = (streamSequence: number | null): BrokerEvent => ({
      type: 'consumer.message-set-aside.v1',
      data: {
        consumer: 'alerting-a1',
        replica: 'a1',
        subject: 'oauth.v1.events.credential.added.v1',
        streamSequence,
        attempts: 5,
        reason: 'cannot read event',
        event:
          streamSequence === null
            ? {
                eventId: 'e-1',
                type: 'credential.added.v1',
                streamId: 'credential-x',
                globalPosition: 42,
                transactionId: '900',
              }
            : null,
        setAsideAt: new Date(NOW).toISOString(),
      },
    });

    it('fires one alert per set-aside message, keyed by consumer and place, naming the event', () => {
      const conditions = evaluateRules(factsFrom(setAside(7), setAside(null)), NOW, T, none);
      expect(conditions.map((c) => c.key).sort()).toEqual([
        'message_set_aside:alerting-a1#pos42',
        'message_set_aside:alerting-a1#seq7',
      ]);
      const byEvent = conditions.find((c) => c.key.endsWith('#pos42'));
      expect(byEvent?.message).toContain('event credential.added.v1 at position 42');
      expect(byEvent?.details).toMatchObject({
        event_id: 'e-1',
        attempts: 5,
        stream_sequence: null,
      });
    });

    it('keeps firing while the record stands (it is never resolved by the rules)', () => {
      const facts = factsFrom(setAside(7));
      expect(evaluateRules(facts, NOW + 24 * HOUR, T, none)).toHaveLength(1);
    });
  });
});
