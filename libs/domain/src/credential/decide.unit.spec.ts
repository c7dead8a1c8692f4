import { CredentialEventSchema, type CredentialEvent } from '@broker/contracts';
import {
  addedEvent,
  backedOffEvent,
  brokerErrorFrom,
  cooledDownEvent,
  CREDENTIAL_ID,
  failureRecordedEvent,
  given,
  HOUR,
  iso,
  LEASE_ID,
  MINUTE,
  newCredentialData,
  NOW,
  OTHER_LEASE_ID,
  refreshRequiredEvent,
  revokedEvent,
  SECOND,
  usageRecordedEvent,
} from '../testing/fixtures.js';
import type {
  AddCredential,
  CredentialCommand,
  RecordOutcome,
  RecordUsage,
  RevokeCredential,
} from './commands.js';
import { decide, type DecideContext } from './decide.js';
import { evolve } from './evolve.js';
import { DEFAULT_HEALTH_POLICY } from './health-policy.js';
import type { CredentialState } from './state.js';

const at = (now: number): DecideContext => ({ now, policy: DEFAULT_HEALTH_POLICY });

/** Decides at `now` and checks that every event it returns is one the log accepts. */
const when = (
  state: CredentialState | null,
  command: CredentialCommand,
  now = NOW,
): CredentialEvent[] => {
  const events = decide(command, state, at(now));
  for (const event of events) expect(CredentialEventSchema.safeParse(event).success).toBe(true);
  return events;
};

const addCommand = (): AddCredential => ({ type: 'AddCredential', data: newCredentialData() });

const revokeCommand = (reason = 'operator request'): RevokeCredential => ({
  type: 'RevokeCredential',
  data: { credentialId: CREDENTIAL_ID, reason },
});

const failure = (extra: Partial<RecordOutcome['data']> = {}): RecordOutcome => ({
  type: 'RecordOutcome',
  data: { credentialId: CREDENTIAL_ID, leaseId: LEASE_ID, outcome: 'failure', ...extra },
});

const success = (): RecordOutcome => ({
  type: 'RecordOutcome',
  data: { credentialId: CREDENTIAL_ID, leaseId: LEASE_ID, outcome: 'success' },
});

const rateLimited = (extra: Partial<RecordOutcome['data']> = {}): RecordOutcome =>
  failure({ status: 429, ...extra });

const usage = (leases: number, requests: number): RecordUsage => ({
  type: 'RecordUsage',
  data: usageRecordedEvent({ leases, requests, successes: requests }).data,
});

describe('decide', () => {
  describe('when absent', () => {
    it('adds a credential stamped with the time of the decision', () => {
      const command = addCommand();

      const events = when(null, command);

      expect(events).toEqual([
        { type: 'credential.added.v1', data: { ...command.data, addedAt: iso(NOW) } },
      ]);
    });

    it('refuses to revoke a credential it does not know with UNKNOWN_CREDENTIAL', () => {
      const error = brokerErrorFrom(() => when(null, revokeCommand()));

      expect(error.code).toBe('UNKNOWN_CREDENTIAL');
      expect(error.message).toContain(CREDENTIAL_ID);
    });

    it('refuses a report on a credential it does not know with UNKNOWN_CREDENTIAL', () => {
      expect(brokerErrorFrom(() => when(null, failure({ status: 500 }))).code).toBe(
        'UNKNOWN_CREDENTIAL',
      );
      expect(brokerErrorFrom(() => when(null, success())).code).toBe('UNKNOWN_CREDENTIAL');
    });

    it('refuses usage for a credential it does not know with UNKNOWN_CREDENTIAL', () => {
      expect(brokerErrorFrom(() => when(null, usage(1, 1))).code).toBe('UNKNOWN_CREDENTIAL');
    });
  });

  describe('when healthy', () => {
    const healthy = given(addedEvent());

    it('refuses to add the same credential again with CREDENTIAL_EXISTS', () => {
      const error = brokerErrorFrom(() => when(healthy, addCommand()));

      expect(error.code).toBe('CREDENTIAL_EXISTS');
      expect(error.message).toContain(CREDENTIAL_ID);
    });

    it('revokes the credential with the reason given, saying when', () => {
      expect(when(healthy, revokeCommand('leaked'))).toEqual([
        {
          type: 'credential.revoked.v1',
          data: { credentialId: CREDENTIAL_ID, reason: 'leaked', at: iso(NOW) },
        },
      ]);
    });

    it('records a first failure with a count of one', () => {
      expect(when(healthy, failure({ status: 500, errorCode: 'upstream_error' }))).toEqual([
        {
          type: 'credential.failure-recorded.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            leaseId: LEASE_ID,
            status: 500,
            errorCode: 'upstream_error',
            consecutiveFailures: 1,
          },
        },
      ]);
    });

    it('records a second failure with a count of two', () => {
      const afterOne = given(addedEvent(), failureRecordedEvent(1));

      expect(when(afterOne, failure({ status: 503 }))).toEqual([
        {
          type: 'credential.failure-recorded.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            leaseId: LEASE_ID,
            status: 503,
            consecutiveFailures: 2,
          },
        },
      ]);
    });

    it('records a failure without a status when the caller gave none', () => {
      const [event] = when(healthy, failure());

      expect(event?.type).toBe('credential.failure-recorded.v1');
      expect(event?.data).not.toHaveProperty('status');
      expect(event?.data).not.toHaveProperty('errorCode');
    });

    it('backs off for one second at the third consecutive failure', () => {
      const afterTwo = given(addedEvent(), failureRecordedEvent(1), failureRecordedEvent(2));

      expect(when(afterTwo, failure({ status: 500 }))).toEqual([
        {
          type: 'credential.backed-off.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            leaseId: LEASE_ID,
            status: 500,
            consecutiveFailures: 3,
            backoffMs: 1_000,
            until: iso(NOW + 1_000),
          },
        },
      ]);
    });

    it('records nothing for a success when nothing had failed', () => {
      expect(when(healthy, success())).toEqual([]);
    });

    it('recovers after failures, saying how many there were', () => {
      const afterTwo = given(addedEvent(), failureRecordedEvent(1), failureRecordedEvent(2));

      expect(when(afterTwo, success())).toEqual([
        {
          type: 'credential.recovered.v1',
          data: { credentialId: CREDENTIAL_ID, leaseId: LEASE_ID, previousFailures: 2 },
        },
      ]);
    });

    it('cools down on a 429 for the time the provider asked for', () => {
      expect(when(healthy, rateLimited({ retryAfterMs: 5_000 }))).toEqual([
        {
          type: 'credential.cooled-down.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            leaseId: LEASE_ID,
            status: 429,
            requestedMs: 5_000,
            cooldownMs: 5_000,
            capped: false,
            until: iso(NOW + 5_000),
          },
        },
      ]);
    });

    it('caps a reset hint of two hours at thirty minutes and says it did', () => {
      const [event] = when(healthy, rateLimited({ retryAfterMs: 2 * HOUR }));

      expect(event).toEqual({
        type: 'credential.cooled-down.v1',
        data: {
          credentialId: CREDENTIAL_ID,
          leaseId: LEASE_ID,
          status: 429,
          requestedMs: 7_200_000,
          cooldownMs: 1_800_000,
          capped: true,
          until: iso(NOW + 1_800_000),
        },
      });
    });

    it('cools down for the default sixty seconds on a 429 without a hint', () => {
      const [event] = when(healthy, rateLimited());

      expect(event?.type).toBe('credential.cooled-down.v1');
      expect(event?.data).toMatchObject({
        cooldownMs: 60_000,
        capped: false,
        until: iso(NOW + MINUTE),
      });
      expect(event?.data).not.toHaveProperty('requestedMs');
    });

    it('cools down on a 402 as on a 429', () => {
      expect(when(healthy, failure({ status: 402, retryAfterMs: 10_000 }))).toEqual([
        {
          type: 'credential.cooled-down.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            leaseId: LEASE_ID,
            status: 402,
            requestedMs: 10_000,
            cooldownMs: 10_000,
            capped: false,
            until: iso(NOW + 10_000),
          },
        },
      ]);
    });

    it('does not count a 429 as a failure towards backing off', () => {
      const afterTwo = given(addedEvent(), failureRecordedEvent(1), failureRecordedEvent(2));

      const events = when(afterTwo, rateLimited());

      expect(events.map((e) => e.type)).toEqual(['credential.cooled-down.v1']);
      expect(evolve(afterTwo, events[0]!)?.health.consecutiveFailures).toBe(2);
    });

    it('cools down only the model named on a 429 that names one', () => {
      const events = when(healthy, rateLimited({ retryAfterMs: 5_000, model: 'gemini-2.5-pro' }));

      expect(events).toHaveLength(1);
      expect(events[0]?.data).toMatchObject({ model: 'gemini-2.5-pro', until: iso(NOW + 5_000) });
      const next = evolve(healthy, events[0]!);
      expect(next?.health.modelCooldowns).toEqual({ 'gemini-2.5-pro': NOW + 5_000 });
      expect(next?.health.coolingUntil).toBeNull();
    });

    it('cools down the whole credential on a 429 that names a model with scope credential', () => {
      const events = when(
        healthy,
        rateLimited({ retryAfterMs: 5_000, model: 'gemini-2.5-pro', scope: 'credential' }),
      );

      expect(events).toHaveLength(1);
      expect(events[0]?.data).not.toHaveProperty('model');
      const next = evolve(healthy, events[0]!);
      expect(next?.health.coolingUntil).toBe(NOW + 5_000);
      expect(next?.health.modelCooldowns).toEqual({});
    });

    it('asks for a refresh on a 401', () => {
      expect(when(healthy, failure({ status: 401 }))).toEqual([
        {
          type: 'credential.refresh-required.v1',
          data: { credentialId: CREDENTIAL_ID, leaseId: LEASE_ID, status: 401 },
        },
      ]);
    });

    it('records usage of a window that saw traffic', () => {
      const command = usage(3, 2);

      expect(when(healthy, command)).toEqual([
        { type: 'credential.usage-recorded.v1', data: command.data },
      ]);
    });

    it('records nothing for a usage window with zero leases and zero requests', () => {
      expect(when(healthy, usage(0, 0))).toEqual([]);
    });

    it('records a usage window with leases but no reports yet', () => {
      expect(when(healthy, usage(1, 0)).map((e) => e.type)).toEqual([
        'credential.usage-recorded.v1',
      ]);
    });
  });

  describe('when backing off', () => {
    const backoffUntil = NOW + SECOND;
    const backingOff = given(
      addedEvent(),
      failureRecordedEvent(1),
      failureRecordedEvent(2),
      backedOffEvent(3, backoffUntil),
    );

    it('records nothing for a failure reported while the backoff still runs', () => {
      expect(when(backingOff, failure({ status: 500 }), backoffUntil - 1)).toEqual([]);
    });

    it('backs off for two seconds when the half-open trial after the backoff fails', () => {
      const later = backoffUntil + 5 * SECOND;

      expect(when(backingOff, failure({ status: 500, leaseId: OTHER_LEASE_ID }), later)).toEqual([
        {
          type: 'credential.backed-off.v1',
          data: {
            credentialId: CREDENTIAL_ID,
            leaseId: OTHER_LEASE_ID,
            status: 500,
            consecutiveFailures: 4,
            backoffMs: 2_000,
            until: iso(later + 2_000),
          },
        },
      ]);
    });

    it('treats a failure at the very moment the backoff ends as the trial failing', () => {
      const events = when(backingOff, failure({ status: 500 }), backoffUntil);

      expect(events[0]?.data).toMatchObject({ consecutiveFailures: 4, backoffMs: 2_000 });
    });

    it('doubles the backoff with every failed trial up to a cap of sixty seconds', () => {
      let state: CredentialState = backingOff;
      let now = backoffUntil;
      const backoffs: number[] = [];
      for (let trial = 0; trial < 9; trial += 1) {
        const [event] = when(state, failure({ status: 500 }), now);
        if (event?.type !== 'credential.backed-off.v1') throw new Error('expected a backoff');
        backoffs.push(event.data.backoffMs);
        expect(Date.parse(event.data.until)).toBe(now + event.data.backoffMs);
        state = evolve(state, event)!;
        now = Date.parse(event.data.until);
      }

      expect(backoffs).toEqual([
        2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000,
      ]);
      expect(state.health.consecutiveFailures).toBe(12);
    });

    it('recovers when the half-open trial succeeds, saying how many failures there were', () => {
      const events = when(backingOff, success(), backoffUntil + SECOND);

      expect(events).toEqual([
        {
          type: 'credential.recovered.v1',
          data: { credentialId: CREDENTIAL_ID, leaseId: LEASE_ID, previousFailures: 3 },
        },
      ]);
      expect(evolve(backingOff, events[0]!)?.health).toMatchObject({
        consecutiveFailures: 0,
        backoffUntil: null,
      });
    });

    it('still cools down on a 429 reported while backing off', () => {
      const events = when(backingOff, rateLimited({ retryAfterMs: 30_000 }), backoffUntil - 1);

      expect(events.map((e) => e.type)).toEqual(['credential.cooled-down.v1']);
    });

    it('still asks for a refresh on a 401 reported while backing off', () => {
      const events = when(backingOff, failure({ status: 401 }), backoffUntil - 1);

      expect(events.map((e) => e.type)).toEqual(['credential.refresh-required.v1']);
    });
  });

  describe('when cooling down', () => {
    const coolingUntil = NOW + MINUTE;
    const cooling = given(addedEvent(), cooledDownEvent(coolingUntil));

    it('records nothing for a second 429 whose cooldown would end earlier', () => {
      expect(when(cooling, rateLimited({ retryAfterMs: 5_000 }), NOW + SECOND)).toEqual([]);
    });

    it('records nothing for a second 429 whose cooldown would end at the same time', () => {
      expect(when(cooling, rateLimited({ retryAfterMs: MINUTE - SECOND }), NOW + SECOND)).toEqual(
        [],
      );
    });

    it('extends the cooldown for a 429 whose cooldown ends later', () => {
      const events = when(cooling, rateLimited({ retryAfterMs: 5 * MINUTE }), NOW + SECOND);

      expect(events).toHaveLength(1);
      expect(events[0]?.data).toMatchObject({ until: iso(NOW + SECOND + 5 * MINUTE) });
    });

    it('cools down again for a 429 that comes after the cooldown has ended', () => {
      const later = coolingUntil + MINUTE;

      const events = when(cooling, rateLimited({ retryAfterMs: 5_000 }), later);

      expect(events[0]?.data).toMatchObject({ until: iso(later + 5_000) });
    });

    it('cools down a model even while the whole credential is cooling for a shorter time', () => {
      const events = when(
        given(addedEvent(), cooledDownEvent(NOW + SECOND)),
        rateLimited({ retryAfterMs: MINUTE, model: 'gemini-2.5-pro' }),
      );

      expect(events[0]?.data).toMatchObject({ model: 'gemini-2.5-pro', until: iso(NOW + MINUTE) });
    });

    it('records nothing for a second 429 on a model whose cooldown would end earlier', () => {
      const modelCooling = given(
        addedEvent(),
        cooledDownEvent(NOW + MINUTE, { model: 'gemini-2.5-pro' }),
      );

      expect(
        when(modelCooling, rateLimited({ retryAfterMs: 5_000, model: 'gemini-2.5-pro' })),
      ).toEqual([]);
    });

    it('cools down another model independently of the one already cooling', () => {
      const modelCooling = given(
        addedEvent(),
        cooledDownEvent(NOW + MINUTE, { model: 'gemini-2.5-pro' }),
      );

      const events = when(
        modelCooling,
        rateLimited({ retryAfterMs: 5_000, model: 'gemini-2.5-flash' }),
      );

      expect(events[0]?.data).toMatchObject({ model: 'gemini-2.5-flash' });
    });

    it('cools down the whole credential even when only a model was cooling', () => {
      const modelCooling = given(
        addedEvent(),
        cooledDownEvent(NOW + MINUTE, { model: 'gemini-2.5-pro' }),
      );

      const events = when(modelCooling, rateLimited({ retryAfterMs: 5_000 }));

      expect(events).toHaveLength(1);
      expect(events[0]?.data).not.toHaveProperty('model');
    });

    it('still counts other failures towards backing off', () => {
      expect(when(cooling, failure({ status: 500 }))[0]?.data).toMatchObject({
        consecutiveFailures: 1,
      });
    });
  });

  describe('when a refresh is required', () => {
    const refreshRequired = given(addedEvent(), refreshRequiredEvent());

    it('records nothing for a second 401', () => {
      expect(when(refreshRequired, failure({ status: 401, leaseId: OTHER_LEASE_ID }))).toEqual([]);
    });
  });

  describe('when revoked', () => {
    const revoked = given(addedEvent(), revokedEvent());

    it('records nothing when revoked a second time', () => {
      expect(when(revoked, revokeCommand())).toEqual([]);
    });

    it('refuses to add the same credential again with CREDENTIAL_EXISTS', () => {
      expect(brokerErrorFrom(() => when(revoked, addCommand())).code).toBe('CREDENTIAL_EXISTS');
    });

    it('records nothing for any report on it', () => {
      const reports = [
        success(),
        failure({ status: 500 }),
        rateLimited({ retryAfterMs: 5_000 }),
        failure({ status: 402 }),
        failure({ status: 401 }),
      ];

      expect(reports.flatMap((report) => when(revoked, report))).toEqual([]);
    });

    it('records nothing for a success even after failures before it was revoked', () => {
      const failedThenRevoked = given(
        addedEvent(),
        failureRecordedEvent(1),
        failureRecordedEvent(2),
        revokedEvent(),
      );

      expect(when(failedThenRevoked, success())).toEqual([]);
    });

    it('still records the usage counted before it was revoked', () => {
      expect(when(revoked, usage(2, 2)).map((e) => e.type)).toEqual([
        'credential.usage-recorded.v1',
      ]);
    });
  });
});
