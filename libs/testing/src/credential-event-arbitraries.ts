import fc from 'fast-check';
import type { CredentialEvent } from '@broker/contracts';

/**
 * fast-check generators of credential histories: every event type, with data
 * that the contracts accept, interleaved across a few credentials, each stream
 * starting with its `added` event as the domain requires.
 */

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const DAY = 86_400_000;

const iso = fc.integer({ min: 0, max: 30 * DAY }).map((ms) => new Date(T0 + ms).toISOString());
const sealed = fc
  .stringMatching(/^[A-Za-z0-9_-]{4,24}$/)
  .map((s) => `enc:v1:k1:${s.slice(0, 8)}:${s}`);
const uuid = fc.uuid();
const count = fc.integer({ min: 0, max: 1000 });
const positive = fc.integer({ min: 1, max: 20 });
const status = fc.constantFrom(200, 401, 402, 429, 500, 503);
const word = fc.constantFrom('alpha', 'beta', 'gamma', 'quota', 'invalid_grant');
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Drops the keys whose value is undefined, as JSON in the log would. */
const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

type Later = Exclude<CredentialEvent, { type: 'credential.added.v1' }>;
type DataWithoutId<E extends CredentialEvent> = Omit<E['data'], 'credentialId'>;
const event = <E extends Later>(
  type: E['type'],
  data: fc.Arbitrary<DataWithoutId<E>>,
): fc.Arbitrary<(credentialId: string) => Later> =>
  data.map(
    (d) => (credentialId: string) => ({ type, data: defined({ credentialId, ...d }) }) as Later,
  );

export const addedEventFor = (credentialId: string): fc.Arbitrary<CredentialEvent> =>
  fc
    .record({
      pool: fc.constantFrom('default', 'batch'),
      label: optional(word),
      priority: fc.integer({ min: 0, max: 3 }),
      scopes: fc.array(word, { maxLength: 2 }),
      metadata: fc.dictionary(word, word, { maxKeys: 2 }),
      clientId: optional(word),
      addedAt: iso,
      expiresAt: iso,
      accessToken: optional(sealed),
      refreshToken: optional(sealed),
      clientSecret: optional(sealed),
      fingerprint: word,
      source: fc.constantFrom('add' as const, 'import' as const),
    })
    .map(({ accessToken, refreshToken, clientSecret, ...d }) => ({
      type: 'credential.added.v1' as const,
      data: defined({
        credentialId,
        provider: 'gemini-cli',
        tokenType: 'Bearer',
        ...d,
        secrets: defined({ accessToken, refreshToken, clientSecret }),
      }),
    }));

const laterEvent: fc.Arbitrary<(credentialId: string) => Later> = fc.oneof(
  event(
    'credential.failure-recorded.v1',
    fc.record({ leaseId: uuid, status: optional(status), consecutiveFailures: positive }),
  ),
  event(
    'credential.backed-off.v1',
    fc.record({
      leaseId: uuid,
      status: optional(status),
      consecutiveFailures: positive,
      backoffMs: positive,
      until: iso,
    }),
  ),
  event(
    'credential.cooled-down.v1',
    fc.record({
      leaseId: uuid,
      status: status,
      model: optional(word),
      cooldownMs: count,
      capped: fc.boolean(),
      until: iso,
    }),
  ),
  event('credential.refresh-required.v1', fc.record({ leaseId: uuid, status: status })),
  event('credential.recovered.v1', fc.record({ leaseId: uuid, previousFailures: positive })),
  event(
    'credential.usage-recorded.v1',
    fc.record({
      replica: word,
      windowStart: iso,
      windowEnd: iso,
      leases: count,
      requests: count,
      successes: count,
      failures: count,
      byStatus: fc.dictionary(fc.constantFrom('200', '429', '500'), count, { maxKeys: 3 }),
      tokensUsed: count,
      latencyMsTotal: count,
      latencySamples: count,
      lastUsedAt: fc.option(iso, { nil: null }),
    }),
  ),
  event('credential.revoked.v1', fc.record({ reason: word, at: optional(iso) })),
  event(
    'credential.refresh-started.v1',
    fc.record({
      refreshId: uuid,
      reason: fc.constantFrom('admin' as const, 'scheduled' as const, 'unauthorized' as const),
      replica: word,
      startedAt: iso,
    }),
  ),
  event(
    'credential.refreshed.v1',
    fc.record({
      refreshId: uuid,
      secrets: fc
        .record({ accessToken: sealed, refreshToken: optional(sealed) })
        .map((s) => defined(s)),
      tokenType: fc.constant('Bearer'),
      expiresAt: iso,
      scopes: optional(fc.array(word, { maxLength: 2 })),
      rotated: fc.boolean(),
      fingerprint: word,
      refreshedAt: iso,
      durationMs: count,
    }),
  ),
  event(
    'credential.refresh-failed.v1',
    fc.record({
      refreshId: uuid,
      kind: fc.constantFrom('transient' as const, 'permanent' as const),
      error: word,
      consecutiveFailures: count,
      nextAttemptAt: optional(iso),
      durationMs: count,
    }),
  ),
  event(
    'credential.reauth-required.v1',
    fc.record({ refreshId: optional(uuid), error: word, reason: word, at: optional(iso) }),
  ),
  event('credential.refresh-outcome-unknown.v1', fc.record({ refreshId: uuid, detectedBy: word })),
  event('credential.rotation-due.v1', fc.record({ intervalDays: positive, dueAt: iso })),
  event('credential.rotated.v1', fc.record({ successorId: word, graceUntil: iso })),
  event('credential.decommissioned.v1', fc.record({ reason: word, at: optional(iso) })),
);

/**
 * A log of a few credentials' histories, interleaved: each stream begins with
 * its `added` event and goes on with any events in any order.
 */
export const credentialLog = (
  options: { prefix?: string; maxCredentials?: number; maxEvents?: number } = {},
): fc.Arbitrary<CredentialEvent[]> => {
  const prefix = options.prefix ?? 'cred';
  const ids = Array.from({ length: options.maxCredentials ?? 4 }, (_, i) => `${prefix}-${i}`);
  return fc
    .tuple(
      fc.tuple(...ids.map(addedEventFor)),
      fc.array(fc.tuple(fc.nat({ max: ids.length - 1 }), laterEvent), {
        maxLength: options.maxEvents ?? 40,
      }),
    )
    .map(([added, steps]) => {
      const log: CredentialEvent[] = [];
      const started = new Set<number>();
      for (const [index, later] of steps) {
        if (!started.has(index)) {
          started.add(index);
          log.push(added[index] as CredentialEvent);
        }
        log.push(later(ids[index] as string));
      }
      return log;
    });
};
