import { randomUUID } from 'node:crypto';
import { compareWithLive } from './live-comparison.js';
import { replayLog } from './replay-log.js';
import { Log, T0 } from './testing/chained-log.js';
import type { StoredEvent } from './types.js';
import { verifyChain } from './verify-chain.js';

const iso = (ms: number) => new Date(ms).toISOString();
const SECRETS = { accessToken: 'enc:v1:k1:aXY:Y3Q', refreshToken: 'enc:v1:k1:aXYy:Y3Qy' };

const added = (credentialId: string) => ({
  type: 'credential.added.v1',
  data: {
    credentialId,
    provider: 'gemini-cli',
    pool: 'default',
    priority: 0,
    scopes: [],
    metadata: {},
    tokenType: 'Bearer',
    addedAt: iso(T0),
    expiresAt: iso(T0 + 3_600_000),
    secrets: SECRETS,
    fingerprint: 'fp:1',
    source: 'add',
  },
});
const cooled = (credentialId: string, until: number) => ({
  type: 'credential.cooled-down.v1',
  data: {
    credentialId,
    leaseId: randomUUID(),
    status: 429,
    cooldownMs: 60_000,
    capped: false,
    until: iso(until),
  },
});
const revoked = (credentialId: string) => ({
  type: 'credential.revoked.v1',
  data: { credentialId, reason: 'leaked', at: iso(T0 + 120_000) },
});

const poolUsage = (served = 3) => ({
  type: 'pool.usage-recorded.v1',
  data: {
    provider: 'gemini-cli',
    pool: 'default',
    replica: 'token-service-1',
    windowStart: iso(T0),
    windowEnd: iso(T0 + 60_000),
    served,
    refused: 0,
  },
});

const sampleLog = () => {
  const log = new Log();
  log.append('credential-a', added('a'));
  log.append('credential-b', added('b'));
  log.append('credential-a', cooled('a', T0 + 60_000));
  log.append('credential-b', revoked('b'));
  log.append('pool-gemini-cli/default', poolUsage());
  return log;
};

describe('replayLog', () => {
  it('folds a good log with the services’ evolve and finds nothing wrong', () => {
    const replay = replayLog(sampleLog().events);

    expect(replay.firstProblem).toBeNull();
    expect(replay.events).toBe(5);
    expect(replay.streams).toBe(3);
    expect(replay.registry.get('a')).toMatchObject({
      version: 2,
      status: 'active',
      health: { coolingUntil: T0 + 60_000, coolingStatus: 429 },
    });
    expect(replay.registry.get('b')).toMatchObject({
      status: 'revoked',
      statusChangedAt: T0 + 120_000,
    });
  });

  it('names an event whose data was changed after it was written', () => {
    const log = sampleLog();
    const victim = log.events[2] as StoredEvent;
    log.events[2] = { ...victim, data: { ...(victim.data as object), status: 402 } };

    const problem = replayLog(log.events).firstProblem;

    expect(problem).toMatchObject({
      streamId: 'credential-a',
      event: { eventId: victim.eventId, streamVersion: 2, globalPosition: 3 },
      problem: 'hash does not match the event and its predecessor',
    });
  });

  it('names the event after a deleted one, as verifyChain does', () => {
    const log = new Log();
    log.append('credential-a', added('a'));
    log.append('credential-a', cooled('a', T0 + 1));
    const third = log.append('credential-a', cooled('a', T0 + 2));
    const events = log.events.filter((_, i) => i !== 1);

    const problem = replayLog(events).firstProblem;

    expect(problem?.event?.eventId).toBe(third.eventId);
    expect(problem?.problem).toBe('stream version 3 where 2 was expected');
    const verdict = verifyChain(events);
    expect(verdict.ok ? null : verdict.event.eventId).toBe(third.eventId);
  });

  it('names swapped events: in commit order the later version comes first', () => {
    const log = new Log();
    log.append('credential-a', added('a'));
    const second = log.append('credential-a', cooled('a', T0 + 1));
    const third = log.append('credential-a', cooled('a', T0 + 2));
    // Positions swapped with SQL: the log now reads version 3 before version 2.
    const swapped = [
      log.events[0] as StoredEvent,
      { ...third, globalPosition: second.globalPosition, transactionId: second.transactionId },
      { ...second, globalPosition: third.globalPosition, transactionId: third.transactionId },
    ];

    const problem = replayLog(swapped).firstProblem;

    expect(problem?.event?.eventId).toBe(third.eventId);
    expect(problem?.problem).toBe('stream version 3 where 2 was expected');
  });

  it('refuses a credential event that does not parse, and one in another credential’s stream, even with a good chain', () => {
    const log = new Log();
    const bad = log.append('credential-a', {
      type: 'credential.added.v1',
      data: { credentialId: 'a' },
    });
    const alien = log.append('credential-c', added('d'));

    const replay = replayLog(log.events);

    expect(replay.problems.map((p) => p.event?.eventId)).toEqual([bad.eventId, alien.eventId]);
    expect(replay.problems[0]?.problem).toMatch(
      /^cannot be read as a credential event: data.provider: /,
    );
    expect(replay.problems[1]?.problem).toContain("about credential 'd'");
    expect(replay.registry.size).toBe(0);
  });

  it('refuses an event of a type the broker does not know, in any stream', () => {
    const log = sampleLog();
    const odd = log.append('alert-x', { type: 'alert.raised.v1', data: { anything: true } });

    expect(replayLog(log.events).firstProblem).toMatchObject({
      event: { eventId: odd.eventId },
      problem: expect.stringMatching(/^cannot be read as a broker event: /),
    });
  });

  it('refuses a stream that does not start by adding the credential', () => {
    const log = new Log();
    log.append('credential-a', cooled('a', T0));

    expect(replayLog(log.events).firstProblem?.problem).toBe(
      'cannot be folded: a stream must start with credential.added.v1',
    );
  });

  it('stops folding a broken stream and goes on with the others', () => {
    const log = sampleLog();
    log.events[0] = { ...(log.events[0] as StoredEvent), hash: 'f'.repeat(64) };

    const replay = replayLog(log.events);

    expect(replay.problems).toHaveLength(1);
    expect(replay.isBroken('credential-a')).toBe(true);
    expect(replay.registry.get('a')).toBeUndefined();
    expect(replay.registry.get('b')?.status).toBe('revoked');
  });
});

describe('compareWithLive', () => {
  const liveOf = (replayed: ReturnType<typeof replayLog>, id: string) => {
    const state = replayed.registry.get(id);
    if (state === undefined) throw new Error(`no ${id}`);
    return {
      credential: {
        id,
        provider: state.provider,
        pool: state.pool,
        status: state.status,
        ...(state.statusReason === undefined ? {} : { statusReason: state.statusReason }),
        ...(state.statusChangedAt === null ? {} : { statusChangedAt: iso(state.statusChangedAt) }),
        state: 'ok' as const,
        expiresAt: iso(state.expiresAt),
        lastRefreshAt: null,
        refreshCount: 0,
        priority: 0,
        fingerprint: state.fingerprint,
        hasRefreshToken: true,
        scopes: [],
        addedAt: iso(state.addedAt),
      },
      health: {
        consecutiveFailures: 0,
        backoffUntil: null,
        coolingUntil: null,
        coolingStatus: null,
        modelCooldowns: {},
        refreshRequired: false,
        refreshing: false,
        refreshFailures: 0,
        nextRefreshAttemptAt: null,
        lastRefreshError: null,
        refreshOutcomeUnknown: false,
      },
      version: state.version,
    };
  };

  it('agrees with a live replica that folded the same events', () => {
    const events = sampleLog().events;
    const truth = replayLog(events);
    const live = [liveOf(truth, 'a'), liveOf(truth, 'b')];

    expect(
      compareWithLive(
        replayLog(events, {
          keepAtVersion: new Map([
            ['a', 2],
            ['b', 2],
          ]),
        }),
        live,
      ),
    ).toEqual([]);
  });

  it('compares at the version the replica had, though the log has moved on since', () => {
    const log = sampleLog();
    const earlier = replayLog(log.events);
    const live = [liveOf(earlier, 'a')];
    log.append('credential-a', revoked('a'));

    const replay = replayLog(log.events, { keepAtVersion: new Map([['a', 2]]) });

    expect(compareWithLive(replay, live)).toEqual([]);
  });

  it('names the event whose folded state differs from the replica’s, and how', () => {
    const log = sampleLog();
    const truth = replayLog(log.events);
    const live = liveOf(truth, 'b');
    const lie = { ...live, credential: { ...live.credential, status: 'active' as const } };

    const problems = compareWithLive(
      replayLog(log.events, { keepAtVersion: new Map([['b', 2]]) }),
      [lie],
    );

    expect(problems).toEqual([
      {
        streamId: 'credential-b',
        event: expect.objectContaining({ eventId: log.events[3]?.eventId, streamVersion: 2 }),
        problem: expect.stringContaining(
          'status: the log says "revoked", the live service "active"',
        ),
      },
    ]);
  });

  it('says events are missing when the replica has folded more than the log holds', () => {
    const log = sampleLog();
    const truth = replayLog(log.events);
    const ahead = { ...liveOf(truth, 'a'), version: 3 };

    const problems = compareWithLive(truth, [ahead]);

    expect(problems[0]?.event?.eventId).toBe(log.events[2]?.eventId);
    expect(problems[0]?.problem).toContain('events are missing from the log');
  });

  it('says so when the replica knows a credential the log has nothing of', () => {
    const truth = replayLog(sampleLog().events);
    const ghost = {
      ...liveOf(truth, 'a'),
      credential: { ...liveOf(truth, 'a').credential, id: 'ghost' },
    };

    expect(compareWithLive(truth, [ghost])).toEqual([
      {
        streamId: 'credential-ghost',
        event: null,
        problem: expect.stringContaining("knows credential 'ghost'"),
      },
    ]);
  });
});
