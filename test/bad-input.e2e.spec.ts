import fc from 'fast-check';
import { ErrorCodeSchema } from '@broker/contracts';
import { addCredential, BrokerHarness, type Reply } from '@broker/testing';

/** Every bad input gets a well-formed error quickly, and the service keeps serving. */
describe('token service - bad input', () => {
  let broker: BrokerHarness;
  const latencies: number[] = [];

  const timed = async (send: () => Promise<Reply>): Promise<Reply> => {
    const started = performance.now();
    const reply = await send();
    latencies.push(performance.now() - started);
    return reply;
  };

  const expectError = (reply: Reply, code: string, mentions?: string) => {
    expect(reply.ok).toBe(false);
    expect(reply.error?.code).toBe(code);
    if (mentions !== undefined) expect(reply.error?.message).toContain(mentions);
  };

  beforeAll(async () => {
    broker = await BrokerHarness.create();
    await broker.start();
    await addCredential(broker, 'good');
  });

  afterAll(() => broker.destroy());

  it('malformed JSON is INVALID_REQUEST', async () => {
    expectError(
      await timed(() => broker.request('lease.gemini-cli.default.bot', '{"minValiditySeconds":')),
      'INVALID_REQUEST',
      'not valid JSON',
    );
  });

  it('a wrong type names the field', async () => {
    expectError(
      await timed(() =>
        broker.lease('gemini-cli', 'default', 'bot', { minValiditySeconds: 'soon' }),
      ),
      'INVALID_REQUEST',
      'minValiditySeconds',
    );
  });

  it('an unknown field names the field', async () => {
    expectError(
      await timed(() => broker.lease('gemini-cli', 'default', 'bot', { minValidity: 5 })),
      'INVALID_REQUEST',
      "'minValidity'",
    );
  });

  it('a missing field names the field', async () => {
    expectError(
      await timed(() =>
        broker.admin('credentials.add', { provider: 'gemini-cli', expiresAt: Date.now() + 1000 }),
      ),
      'INVALID_REQUEST',
      'accessToken',
    );
    expectError(
      await timed(() => broker.report('bot', { outcome: 'success' })),
      'INVALID_REQUEST',
      'leaseId',
    );
  });

  it('a body over 64 KiB is refused by size', async () => {
    const big = JSON.stringify({ model: 'x'.repeat(70 * 1024) });
    expectError(
      await timed(() => broker.request('lease.gemini-cli.default.bot', big)),
      'INVALID_REQUEST',
      'limit is 65536',
    );
  });

  it('a JSON value that is not an object is refused', async () => {
    expectError(
      await timed(() => broker.request('lease.gemini-cli.default.bot', '[1,2,3]')),
      'INVALID_REQUEST',
    );
    expectError(
      await timed(() => broker.request('lease.gemini-cli.default.bot', 'null')),
      'INVALID_REQUEST',
    );
  });

  it('deeply nested input is refused, not a crash', async () => {
    const nested = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    expectError(
      await timed(() => broker.request('admin.credentials.import', `{"document":${nested}}`)),
      'INVALID_REQUEST',
    );
  });

  it('an unknown provider is UNKNOWN_PROVIDER, for leases and for adds', async () => {
    expectError(
      await timed(() => broker.lease('no-such-provider', 'default', 'bot')),
      'UNKNOWN_PROVIDER',
      'no-such-provider',
    );
    expectError(
      await timed(() => addCredential(broker, 'x', { provider: 'no-such-provider' })),
      'UNKNOWN_PROVIDER',
    );
  });

  it('an unknown lease id is UNKNOWN_LEASE', async () => {
    expectError(
      await timed(() =>
        broker.report('bot', {
          leaseId: '00000000-0000-4000-8000-000000000000',
          outcome: 'success',
        }),
      ),
      'UNKNOWN_LEASE',
    );
  });

  it('a report on another client’s lease is UNKNOWN_LEASE', async () => {
    const lease = (await broker.lease('gemini-cli', 'default', 'owner'))['lease'] as {
      leaseId: string;
    };
    expectError(
      await timed(() =>
        broker.report('intruder', { leaseId: lease.leaseId, outcome: 'failure', status: 429 }),
      ),
      'UNKNOWN_LEASE',
    );
    const health = (await broker.admin('credentials.get', { id: 'good' }))['credential'] as {
      state: string;
    };
    expect(health.state).toBe('ok');
  });

  it('an unknown credential and a duplicate add have their own codes', async () => {
    expectError(
      await timed(() => broker.admin('credentials.get', { id: 'nope' })),
      'UNKNOWN_CREDENTIAL',
      'nope',
    );
    expectError(await timed(() => addCredential(broker, 'good')), 'CREDENTIAL_EXISTS', 'good');
  });

  it('error replies never echo a token back', async () => {
    const canary = 'canary-secret-3f9a1c';
    const reply = await timed(() =>
      broker.request(
        'admin.credentials.add',
        `{"provider":"gemini-cli","accessToken":"${canary}",`,
      ),
    );
    expect(JSON.stringify(reply)).not.toContain(canary);
    const typed = await timed(() =>
      broker.admin('credentials.add', {
        provider: 'gemini-cli',
        accessToken: canary,
        expiresAt: 'tomorrow',
      }),
    );
    expect(JSON.stringify(typed)).not.toContain(canary);
  });

  it('a control character in stored text is refused alone and spoils no other client’s lease', async () => {
    // Postgres refuses NUL in text: such a row once failed the whole group-committed audit batch.
    const good = Array.from({ length: 30 }, (_, i) =>
      broker.lease('gemini-cli', 'default', `bot-${i % 3}`, {}),
    );
    const badModel = broker.lease('gemini-cli', 'default', 'bot', { model: 'pro\u0000x' });
    const badClient = broker.request('lease.gemini-cli.default.b\u0000t', '{}');
    const badReport = broker.report('bot', {
      leaseId: '00000000-0000-4000-8000-000000000000',
      outcome: 'failure',
      errorCode: 'x\u0007',
    });
    expect((await Promise.all(good)).map((r) => r.ok)).toEqual(good.map(() => true));
    expectError(await timed(() => badModel), 'INVALID_REQUEST', 'model');
    expectError(await timed(() => badClient), 'INVALID_REQUEST', 'the client in the subject');
    expectError(await timed(() => badReport), 'INVALID_REQUEST', 'errorCode');
  });

  it('keeps serving after all of it, and answered every bad request fast', async () => {
    const reply = await broker.lease('gemini-cli', 'default', 'bot');
    expect(reply.ok).toBe(true);
    const sorted = [...latencies].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    expect(sorted.length).toBeGreaterThanOrEqual(14);
    expect(median).toBeLessThan(100);
    expect(broker.services[0]?.child.exitCode).toBeNull();
    expect(broker.services[0]?.lines.some((l) => l.msg === 'request failed')).toBe(false);
  });
});

describe('token service - random bodies (property-based)', () => {
  let broker: BrokerHarness;
  beforeAll(async () => {
    broker = await BrokerHarness.create();
    await broker.start();
    await addCredential(broker, 'fuzzed');
  });
  afterAll(() => broker.destroy());

  const subjects = [
    'lease.gemini-cli.default.fuzzer',
    'report.fuzzer',
    'admin.credentials.add',
    'admin.credentials.import',
    'admin.credentials.get',
    'admin.pools.status',
    'admin.audit.leases',
  ];

  it('every subject answers any JSON value with a well-formed reply and the process stays up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...subjects),
        fc.jsonValue({ maxDepth: 6 }),
        async (subject, value) => {
          const reply = await broker.request(subject, JSON.stringify(value), 2000);
          expect(typeof reply.ok).toBe('boolean');
          if (!reply.ok) expect(ErrorCodeSchema.safeParse(reply.error?.code).success).toBe(true);
          else expect(subject.startsWith('lease') || subject.startsWith('admin')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(broker.services[0]?.child.exitCode).toBeNull();
    expect(broker.services[0]?.lines.some((l) => l.msg === 'request failed')).toBe(false);
  });
});
