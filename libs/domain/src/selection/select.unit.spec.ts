import { SelectionReasonSchema, type SelectionPolicy } from '@broker/contracts';
import { DEFAULT_HEALTH_POLICY } from '../credential/health-policy.js';
import type { CredentialState } from '../credential/state.js';
import { credential, MINUTE, NOW, SECOND, type CredentialOverrides } from '../testing/fixtures.js';
import type { LeaseAsk } from './availability.js';
import { selectCredential, type Selection, type SelectionInput } from './select.js';

const MODEL = 'gemini-2.5-pro';

const ask = (overrides: Partial<LeaseAsk> = {}): LeaseAsk => ({
  minValiditySeconds: 60,
  exclude: new Set<string>(),
  ...overrides,
});

const select = (overrides: Partial<SelectionInput> = {}): Selection =>
  selectCredential({
    credentials: [],
    policy: 'round-robin',
    health: DEFAULT_HEALTH_POLICY,
    lastChosen: null,
    ask: ask(),
    now: NOW,
    trialsInFlight: new Set<string>(),
    ...overrides,
  });

/** Credentials a, b, c, ... in rotation order, each with its own overrides. */
const pool = (...overrides: CredentialOverrides[]): CredentialState[] =>
  overrides.map((o, i) => credential({ id: `cred-${String.fromCharCode(97 + i)}`, ...o }));

const chosenId = (selection: Selection): string => {
  if (!selection.ok)
    throw new Error(`expected a credential, got ${selection.code}: ${selection.message}`);
  return selection.credential.id;
};

/** Selects `times` times, feeding each chosen id back as `lastChosen`. */
const run = (times: number, input: Partial<SelectionInput>): string[] => {
  const chosen: string[] = [];
  let lastChosen: string | null = null;
  for (let i = 0; i < times; i += 1) {
    lastChosen = chosenId(select({ ...input, lastChosen }));
    chosen.push(lastChosen);
  }
  return chosen;
};

const failureOf = (selection: Selection): Extract<Selection, { ok: false }> => {
  if (selection.ok) throw new Error(`expected no credential, got ${selection.credential.id}`);
  return selection;
};

describe('selectCredential', () => {
  describe('round-robin', () => {
    it('spreads six selections over three credentials, two each, in rotation order', () => {
      const chosen = run(6, { credentials: pool({}, {}, {}) });

      expect(chosen).toEqual(['cred-a', 'cred-b', 'cred-c', 'cred-a', 'cred-b', 'cred-c']);
      const counts = chosen.reduce<Record<string, number>>(
        (acc, id) => ({ ...acc, [id]: (acc[id] ?? 0) + 1 }),
        {},
      );
      expect(counts).toEqual({ 'cred-a': 2, 'cred-b': 2, 'cred-c': 2 });
    });

    it('starts with the credential after the one handed out last', () => {
      expect(chosenId(select({ credentials: pool({}, {}, {}), lastChosen: 'cred-b' }))).toBe(
        'cred-c',
      );
      expect(chosenId(select({ credentials: pool({}, {}, {}), lastChosen: 'cred-c' }))).toBe(
        'cred-a',
      );
    });

    it('starts at the first credential when the one handed out last has left the pool', () => {
      expect(chosenId(select({ credentials: pool({}, {}, {}), lastChosen: 'cred-gone' }))).toBe(
        'cred-a',
      );
    });

    it('uses the position hint when it still names the last credential, and searches when it does not', () => {
      const credentials = pool({}, {}, {});
      expect(chosenId(select({ credentials, lastChosen: 'cred-b', lastPosition: 1 }))).toBe(
        'cred-c',
      );
      // A credential joined in front since: the hint is stale and the id decides.
      expect(chosenId(select({ credentials, lastChosen: 'cred-a', lastPosition: 2 }))).toBe(
        'cred-b',
      );
      expect(chosenId(select({ credentials, lastChosen: 'cred-c', lastPosition: 7 }))).toBe(
        'cred-a',
      );
    });

    it('hands out the only credential of a one-credential pool every time', () => {
      expect(run(3, { credentials: pool({}) })).toEqual(['cred-a', 'cred-a', 'cred-a']);
    });

    it('goes on to the next credential when the next in turn cannot serve', () => {
      const credentials = pool({}, { health: { coolingUntil: NOW + MINUTE } }, {});

      expect(run(4, { credentials })).toEqual(['cred-a', 'cred-c', 'cred-a', 'cred-c']);
    });
  });

  describe('priority', () => {
    const primaryAndBackup = (primary: CredentialOverrides = {}): CredentialState[] =>
      pool({ priority: 10 }, { priority: 0, ...primary });

    it('picks the credential with the lowest priority value', () => {
      expect(run(3, { policy: 'priority', credentials: primaryAndBackup() })).toEqual([
        'cred-b',
        'cred-b',
        'cred-b',
      ]);
    });

    it('round-robins among the credentials that share the lowest priority value', () => {
      const credentials = pool({ priority: 1 }, { priority: 0 }, { priority: 0 }, { priority: 2 });

      expect(run(4, { policy: 'priority', credentials })).toEqual([
        'cred-b',
        'cred-c',
        'cred-b',
        'cred-c',
      ]);
    });

    it('fails over to the backup while the primary is cooling down', () => {
      const credentials = primaryAndBackup({ health: { coolingUntil: NOW + MINUTE } });

      const selection = select({ policy: 'priority', credentials });

      expect(chosenId(selection)).toBe('cred-a');
      expect(selection.ok && selection.reason.skipped).toEqual([
        { credentialId: 'cred-b', reason: 'cooling' },
      ]);
    });

    it('goes back to the primary once its cooldown has ended', () => {
      const credentials = primaryAndBackup({ health: { coolingUntil: NOW + MINUTE } });

      expect(
        chosenId(
          select({ policy: 'priority', credentials, lastChosen: 'cred-a', now: NOW + MINUTE }),
        ),
      ).toBe('cred-b');
    });
  });

  describe('cooldowns', () => {
    const coolingUntil = NOW + 30 * SECOND;
    const credentials = pool({ health: { coolingUntil } });

    it('skips a credential that is cooling down', () => {
      const failure = failureOf(select({ credentials, now: coolingUntil - 1 }));

      expect(failure.code).toBe('ALL_CREDENTIALS_UNAVAILABLE');
      expect(failure.skipped).toEqual([{ credentialId: 'cred-a', reason: 'cooling' }]);
      expect(failure.retryAfterMs).toBe(1);
    });

    it('chooses the credential again the moment its cooldown ends, without a reset', () => {
      expect(chosenId(select({ credentials, now: coolingUntil }))).toBe('cred-a');
    });

    it('skips a credential whose model is cooling only for requests for that model', () => {
      const modelCooling = pool({ health: { modelCooldowns: { [MODEL]: NOW + MINUTE } } });

      const sameModel = failureOf(
        select({ credentials: modelCooling, ask: ask({ model: MODEL }) }),
      );

      expect(sameModel.skipped).toEqual([{ credentialId: 'cred-a', reason: 'model-cooling' }]);
      expect(sameModel.retryAfterMs).toBe(MINUTE);
      expect(
        chosenId(select({ credentials: modelCooling, ask: ask({ model: 'gemini-2.5-flash' }) })),
      ).toBe('cred-a');
      expect(chosenId(select({ credentials: modelCooling, ask: ask() }))).toBe('cred-a');
    });

    it('serves a model again once its cooldown has ended', () => {
      const modelCooling = pool({ health: { modelCooldowns: { [MODEL]: NOW + MINUTE } } });

      expect(
        chosenId(
          select({ credentials: modelCooling, ask: ask({ model: MODEL }), now: NOW + MINUTE }),
        ),
      ).toBe('cred-a');
    });
  });

  describe('backoff and the half-open trial', () => {
    const backoffUntil = NOW + 4 * SECOND;
    const backingOff: CredentialOverrides = { health: { consecutiveFailures: 3, backoffUntil } };

    it('skips a credential that is backing off', () => {
      const selection = select({ credentials: pool(backingOff, {}), now: backoffUntil - 1 });

      expect(chosenId(selection)).toBe('cred-b');
      expect(selection.ok && selection.reason.skipped).toEqual([
        { credentialId: 'cred-a', reason: 'backing-off' },
      ]);
    });

    it('chooses it for a half-open trial once the backoff has ended', () => {
      const selection = select({ credentials: pool(backingOff, {}), now: backoffUntil });

      expect(chosenId(selection)).toBe('cred-a');
      expect(selection.ok && selection.reason.halfOpenTrial).toBe(true);
    });

    it('skips it while its trial is in flight', () => {
      const selection = select({
        credentials: pool(backingOff, {}),
        now: backoffUntil,
        trialsInFlight: new Set(['cred-a']),
      });

      expect(chosenId(selection)).toBe('cred-b');
      expect(selection.ok && selection.reason.halfOpenTrial).toBe(false);
      expect(selection.ok && selection.reason.skipped).toEqual([
        { credentialId: 'cred-a', reason: 'trial-in-flight' },
      ]);
    });

    it('does not treat a credential below the failure threshold as a trial', () => {
      const selection = select({ credentials: pool({ health: { consecutiveFailures: 2 } }) });

      expect(chosenId(selection)).toBe('cred-a');
      expect(selection.ok && selection.reason.halfOpenTrial).toBe(false);
    });
  });

  describe('refresh and expiry', () => {
    it('skips a credential that is waiting for a refresh', () => {
      const selection = select({ credentials: pool({ health: { refreshRequired: true } }, {}) });

      expect(chosenId(selection)).toBe('cred-b');
      expect(selection.ok && selection.reason.skipped).toEqual([
        { credentialId: 'cred-a', reason: 'refresh-required' },
      ]);
    });

    it('skips a token that expires inside the requested validity', () => {
      const credentials = pool({ expiresAt: NOW + 2 * MINUTE }, {});

      const selection = select({ credentials, ask: ask({ minValiditySeconds: 300 }) });

      expect(chosenId(selection)).toBe('cred-b');
      expect(selection.ok && selection.reason.skipped).toEqual([
        { credentialId: 'cred-a', reason: 'expiring' },
      ]);
    });

    it('still hands out a token that expires exactly at the end of the requested validity', () => {
      const credentials = pool({ expiresAt: NOW + 300 * SECOND });

      expect(chosenId(select({ credentials, ask: ask({ minValiditySeconds: 300 }) }))).toBe(
        'cred-a',
      );
    });

    it('skips a token that expires one millisecond before the end of the requested validity', () => {
      const credentials = pool({ expiresAt: NOW + 300 * SECOND - 1 });

      const failure = failureOf(select({ credentials, ask: ask({ minValiditySeconds: 300 }) }));

      expect(failure.skipped).toEqual([{ credentialId: 'cred-a', reason: 'expiring' }]);
    });
  });

  describe('when no credential can serve', () => {
    it('answers ALL_CREDENTIALS_UNAVAILABLE without a retry time when every credential is excluded', () => {
      const failure = failureOf(
        select({ credentials: pool({}, {}), ask: ask({ exclude: new Set(['cred-a', 'cred-b']) }) }),
      );

      expect(failure.code).toBe('ALL_CREDENTIALS_UNAVAILABLE');
      expect(failure).not.toHaveProperty('retryAfterMs');
      expect(failure.skipped).toEqual([
        { credentialId: 'cred-a', reason: 'excluded' },
        { credentialId: 'cred-b', reason: 'excluded' },
      ]);
    });

    it('answers ALL_CREDENTIALS_UNAVAILABLE with the time until the earliest cooldown ends', () => {
      const credentials = pool(
        { health: { coolingUntil: NOW + 30 * SECOND } },
        { health: { coolingUntil: NOW + 5 * SECOND } },
        { health: { coolingUntil: NOW + 20 * SECOND } },
      );

      const failure = failureOf(select({ credentials }));

      expect(failure.code).toBe('ALL_CREDENTIALS_UNAVAILABLE');
      expect(failure.retryAfterMs).toBe(5 * SECOND);
      expect(failure.message).toContain('3 cooling');
    });

    it('counts a backoff or a model cooldown that ends first towards the retry time', () => {
      const credentials = pool(
        { health: { coolingUntil: NOW + 30 * SECOND } },
        { health: { consecutiveFailures: 3, backoffUntil: NOW + 2 * SECOND } },
        { health: { modelCooldowns: { [MODEL]: NOW + 10 * SECOND } } },
      );

      const failure = failureOf(select({ credentials, ask: ask({ model: MODEL }) }));

      expect(failure.retryAfterMs).toBe(2 * SECOND);
      expect(failure.skipped.map((s) => s.reason)).toEqual([
        'cooling',
        'backing-off',
        'model-cooling',
      ]);
    });

    it('answers NO_CREDENTIALS for an empty pool', () => {
      const failure = failureOf(select({ credentials: [] }));

      expect(failure.code).toBe('NO_CREDENTIALS');
      expect(failure.skipped).toEqual([]);
      expect(failure).not.toHaveProperty('retryAfterMs');
    });

    it('answers NO_CREDENTIALS when every credential is revoked', () => {
      const failure = failureOf(
        select({ credentials: pool({ status: 'revoked' }, { status: 'revoked' }) }),
      );

      expect(failure.code).toBe('NO_CREDENTIALS');
      expect(failure.skipped).toEqual([
        { credentialId: 'cred-a', reason: 'revoked' },
        { credentialId: 'cred-b', reason: 'revoked' },
      ]);
    });

    it('answers ALL_CREDENTIALS_UNAVAILABLE when an active credential remains beside revoked ones', () => {
      const credentials = pool({ status: 'revoked' }, { health: { refreshRequired: true } });

      expect(failureOf(select({ credentials })).code).toBe('ALL_CREDENTIALS_UNAVAILABLE');
    });
  });

  describe('the selection reason', () => {
    it('lists the credentials skipped and why, with the policy and the position chosen', () => {
      const credentials = pool(
        { status: 'revoked' },
        {},
        { health: { coolingUntil: NOW + MINUTE } },
        { health: { refreshRequired: true } },
        {},
      );

      const selection = select({
        credentials,
        lastChosen: 'cred-b',
        ask: ask({ exclude: new Set(['cred-e']) }),
      });

      expect(chosenId(selection)).toBe('cred-b');
      if (!selection.ok) return;
      expect(selection.reason).toEqual({
        policy: 'round-robin',
        position: 1,
        candidates: 5,
        halfOpenTrial: false,
        skipped: [
          { credentialId: 'cred-c', reason: 'cooling' },
          { credentialId: 'cred-d', reason: 'refresh-required' },
          { credentialId: 'cred-e', reason: 'excluded' },
          { credentialId: 'cred-a', reason: 'revoked' },
        ],
      });
      expect(SelectionReasonSchema.safeParse(selection.reason).success).toBe(true);
    });

    it.each<SelectionPolicy>(['round-robin', 'priority'])('records the %s policy', (policy) => {
      const selection = select({ policy, credentials: pool({}, {}) });

      expect(selection.ok && selection.reason.policy).toBe(policy);
    });
  });
});
