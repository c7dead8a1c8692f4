import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  waitFor,
} from '@broker/testing';

interface Detail {
  credential: { status: string; statusReason?: string; refreshCount: number; state: string };
  health: { refreshFailures: number; lastRefreshError: string | null; refreshing: boolean };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const brokerFor = (server: MockOAuthServer, refresh: Record<string, number> = {}) =>
  brokerWithOAuthServer(server, { refresh: { timeoutMs: 1000, lockTtlMs: 3000, ...refresh } });

const detail = async (broker: BrokerHarness, id: string): Promise<Detail> =>
  (await broker.admin('credentials.get', { id })) as unknown as Detail;

/** Leases until it gets a token, waiting as the broker's retryAfterMs says. */
const leaseUntilServed = async (
  broker: BrokerHarness,
  client: string,
  deadline: number,
): Promise<string> => {
  for (;;) {
    const reply = await broker.lease('gemini-cli', 'default', client, { minValiditySeconds: 60 });
    if (reply.ok) return (reply['lease'] as { accessToken: string }).accessToken;
    if (reply.error?.code !== 'ALL_CREDENTIALS_UNAVAILABLE' || Date.now() > deadline) {
      throw new Error(`lease failed: ${JSON.stringify(reply.error)}`);
    }
    await sleep(Math.max(reply.error.retryAfterMs ?? 100, 50));
  }
};

describe('token service - refresh against a real OAuth server', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;

  beforeEach(async () => {
    server = await MockOAuthServer.start();
  });

  afterEach(async () => {
    await broker?.destroy();
    await server.close();
  });

  it('three replicas, one expired token, 200 concurrent leases: one refresh, no reuse, everyone gets the new token', async () => {
    broker = await brokerFor(server);
    await Promise.all([broker.start(), broker.start(), broker.start()]);
    const grant = server.issueGrant();
    await addCredential(broker, 'expired', {
      accessToken: 'stale-access',
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    await sleep(1000); // every replica folds the new credential within a second
    const deadline = Date.now() + 20_000;
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) => leaseUntilServed(broker, `client-${i % 7}`, deadline)),
    );
    expect(server.refreshRequests).toHaveLength(1);
    expect(server.reuseDetected).toBe(false);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe('stale-access');
    expect(server.validAccessToken(tokens[0] as string)).toBe(true);
    const after = await detail(broker, 'expired');
    expect(after.credential.refreshCount).toBe(1);
  });

  it('a 401 reported by several clients triggers one refresh; a 401 on the new token one more, and no loop', async () => {
    broker = await brokerFor(server);
    await broker.start();
    const grant = server.issueGrant();
    await addCredential(broker, 'u', {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
    });
    const leases: { leaseId: string; accessToken: string }[] = [];
    for (let i = 0; i < 5; i += 1)
      leases.push((await broker.lease('gemini-cli', 'default', `c${i}`))['lease'] as never);
    await Promise.all(
      leases.map((l, i) =>
        broker.report(`c${i}`, { leaseId: l.leaseId, outcome: 'failure', status: 401 }),
      ),
    );
    await waitFor(
      'the refresh',
      async () => (await detail(broker, 'u')).credential.refreshCount === 1,
    );
    expect(server.refreshRequests).toHaveLength(1);

    const fresh = (await broker.lease('gemini-cli', 'default', 'c0'))['lease'] as {
      leaseId: string;
      accessToken: string;
    };
    expect(fresh.accessToken).not.toBe(grant.accessToken);
    // A late 401 on an old lease is old news.
    await broker.report('c1', { leaseId: leases[1]?.leaseId, outcome: 'failure', status: 401 });
    await broker.report('c0', { leaseId: fresh.leaseId, outcome: 'failure', status: 401 });
    await waitFor(
      'the second refresh',
      async () => (await detail(broker, 'u')).credential.refreshCount === 2,
    );
    await sleep(1500);
    expect(server.refreshRequests).toHaveLength(2);
    expect(server.reuseDetected).toBe(false);
  });

  it('invalid_grant sends the credential to re-authorisation with the reason, and leases stop', async () => {
    broker = await brokerFor(server);
    await broker.start();
    const grant = server.issueGrant();
    await addCredential(broker, 'dead', { refreshToken: grant.refreshToken });
    server.invalidGrantNext(1);
    const reply = await broker.admin('credentials.refresh', { id: 'dead' });
    expect(reply.error?.code).toBe('REAUTH_REQUIRED');
    expect(reply.error?.message).toContain('invalid_grant');
    const after = await detail(broker, 'dead');
    expect(after.credential.status).toBe('reauth-required');
    expect(after.credential.statusReason).toContain('log in again');
    expect((await broker.lease('gemini-cli', 'default', 'bot')).error?.code).toBe('NO_CREDENTIALS');
    await sleep(500);
    expect(server.refreshRequests).toHaveLength(1); // one confirmation, then nothing
  });

  it('invalid_grant on one credential leaves the others of its pool leasing and refreshing', async () => {
    broker = await brokerFor(server);
    await broker.start();
    const dead = server.issueGrant();
    const alive = server.issueGrant();
    await addCredential(broker, 'dead', { refreshToken: dead.refreshToken });
    await addCredential(broker, 'alive', { refreshToken: alive.refreshToken });
    server.invalidGrantNext(1);
    expect((await broker.admin('credentials.refresh', { id: 'dead' })).error?.code).toBe(
      'REAUTH_REQUIRED',
    );

    const leased = await Promise.all(
      Array.from({ length: 6 }, () => broker.lease('gemini-cli', 'default', 'bot')),
    );
    expect(leased.map((r) => (r['lease'] as { credentialId: string }).credentialId)).toEqual(
      Array.from({ length: 6 }, () => 'alive'),
    );
    expect((await broker.admin('credentials.refresh', { id: 'alive' })).ok).toBe(true);
    const after = await detail(broker, 'alive');
    expect(after.credential).toMatchObject({ status: 'active', refreshCount: 1 });
    expect(after.health.refreshFailures).toBe(0);
    expect(server.reuseDetected).toBe(false);
  });

  it('503 twice then success leaves the credential active with the new token', async () => {
    broker = await brokerFor(server);
    await broker.start();
    const grant = server.issueGrant();
    await addCredential(broker, 'flaky', {
      accessToken: 'old',
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 30_000).toISOString(),
    });
    server.failNext(2, 503);
    const first = await broker.admin('credentials.refresh', { id: 'flaky' });
    expect(first.error?.code).toBe('REFRESH_FAILED');
    expect(first.error?.retryAfterMs).toBeGreaterThan(0);
    // The broker retries on its own with backoff while the token nears its end.
    await waitFor(
      'the retries to succeed',
      async () => (await detail(broker, 'flaky')).credential.refreshCount === 1,
      15_000,
    );
    expect(server.refreshRequests).toHaveLength(3);
    const lease = (await broker.lease('gemini-cli', 'default', 'bot'))['lease'] as {
      accessToken: string;
    };
    expect(server.validAccessToken(lease.accessToken)).toBe(true);
    expect((await detail(broker, 'flaky')).credential.status).toBe('active');
  });

  it('a hanging token endpoint times out as a transient failure; the current token keeps serving', async () => {
    broker = await brokerFor(server, { timeoutMs: 500 });
    await broker.start();
    const grant = server.issueGrant();
    await addCredential(broker, 'slow', {
      accessToken: 'still-good',
      refreshToken: grant.refreshToken,
    });
    server.behaviour.hang = true;
    const started = Date.now();
    const reply = await broker.admin('credentials.refresh', { id: 'slow' });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(reply.error?.code).toBe('REFRESH_FAILED');
    expect(reply.error?.message).toContain('timeout');
    const lease = (await broker.lease('gemini-cli', 'default', 'bot'))['lease'] as {
      accessToken: string;
    };
    expect(lease.accessToken).toBe('still-good');
    expect((await detail(broker, 'slow')).health.lastRefreshError).toBe('timeout');
  });

  it('a replica killed between the provider’s answer and the append: the next one tries once and asks for re-authorisation', async () => {
    broker = await brokerFor(server, { lockTtlMs: 2000 });
    const doomed = await broker.start('token-service', {
      BROKER_TEST_PAUSE_BEFORE_REFRESH_APPEND_MS: '30000',
    });
    const grant = server.issueGrant();
    await addCredential(broker, 'lost', { refreshToken: grant.refreshToken });
    void broker.admin('credentials.refresh', { id: 'lost' }).catch(() => undefined);
    await doomed.waitForLog(
      (line) => line.msg === 'test hook: provider answered; pausing before the append',
    );
    expect(server.refreshRequests).toHaveLength(1);
    await doomed.stop('SIGKILL');
    broker.services.length = 0;

    await broker.start();
    await waitFor(
      're-authorisation',
      async () => (await detail(broker, 'lost')).credential.status === 'reauth-required',
      20_000,
    );
    const after = await detail(broker, 'lost');
    expect(after.credential.statusReason).toContain('cut off before its result was stored');
    expect(server.refreshRequests).toHaveLength(2); // the lost one, and the one check
    await sleep(2500);
    expect(server.refreshRequests).toHaveLength(2); // never looping
  });

  it('a 429 from the token endpoint holds that credential’s refreshes until its Retry-After', async () => {
    broker = await brokerFor(server);
    await broker.start();
    const grant = server.issueGrant();
    await addCredential(broker, 'limited', { refreshToken: grant.refreshToken });
    server.rateLimitNext(1, 30);
    const first = await broker.admin('credentials.refresh', { id: 'limited' });
    expect(first.error?.code).toBe('REFRESH_FAILED');
    expect(first.error?.retryAfterMs).toBeGreaterThan(25_000);
    const second = await broker.admin('credentials.refresh', { id: 'limited' });
    expect(second.error?.code).toBe('REFRESH_FAILED');
    expect(second.error?.message).toContain('backing off');
    expect(server.refreshRequests).toHaveLength(1);
    // The current token keeps serving meanwhile.
    expect((await broker.lease('gemini-cli', 'default', 'bot')).ok).toBe(true);
  });

  it('an answer without refresh_token keeps the stored one, which still works next time', async () => {
    broker = await brokerFor(server);
    await broker.start();
    const grant = server.issueGrant();
    await addCredential(broker, 'kept', { refreshToken: grant.refreshToken });
    server.behaviour.omitRefreshToken = true;
    expect((await broker.admin('credentials.refresh', { id: 'kept' })).ok).toBe(true);
    server.behaviour.omitRefreshToken = false;
    expect((await broker.admin('credentials.refresh', { id: 'kept' })).ok).toBe(true);
    expect(server.refreshRequests.map((r) => r.refreshToken)).toEqual([
      grant.refreshToken,
      grant.refreshToken,
    ]);
    expect(server.reuseDetected).toBe(false);
    expect((await detail(broker, 'kept')).credential.refreshCount).toBe(2);
  });

  it('three transient failures in a row across a provider pause its refreshes', async () => {
    broker = await brokerFor(server, { breakerPauseMs: 60_000 });
    await broker.start();
    for (const id of ['p1', 'p2', 'p3', 'p4'])
      await addCredential(broker, id, { refreshToken: server.issueGrant().refreshToken });
    server.failNext(3, 502);
    for (const id of ['p1', 'p2', 'p3'])
      expect((await broker.admin('credentials.refresh', { id })).error?.code).toBe(
        'REFRESH_FAILED',
      );
    const paused = await broker.admin('credentials.refresh', { id: 'p4' });
    expect(paused.error?.code).toBe('REFRESH_FAILED');
    expect(paused.error?.message).toContain('paused');
    expect(server.refreshRequests).toHaveLength(3);
  });
});
