import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  waitFor,
} from '@broker/testing';
import { assertInvariants, checkSingleRedemption, NatsTap, type Observed } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RELIABILITY scenario 2: two replicas race on an expired rotating refresh
 * token against a server that revokes the grant when a rotated token comes
 * back, once with the refresh lock and once without it
 * (`BROKER_TEST_DISABLE_REFRESH_LOCK=1`, a test switch refused in production).
 * The run without the lock shows that the race is real and that I1 sees it.
 */
describe('faults - two replicas race a rotating refresh token', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;
  let load: LeaseLoad | undefined;

  afterEach(async () => {
    await load?.stop();
    await broker?.destroy();
    await server?.close();
  });

  const race = async (env: Record<string, string>): Promise<Observed> => {
    // A slow token endpoint keeps the first refresh in flight while the other replica asks.
    server = await MockOAuthServer.start({
      reuseError: 'refresh_token_reused',
      behaviour: { latencyMs: 3000 },
    });
    broker = await brokerWithOAuthServer(server, {
      refresh: { timeoutMs: 8000, lockTtlMs: 15_000 },
    });
    const services = [
      await broker.start('token-service', env),
      await broker.start('token-service', env),
    ];
    const grant = server.issueGrant();
    await addCredential(broker, 'race', {
      accessToken: 'expired-access',
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    const tap = new NatsTap(broker);
    load = new LeaseLoad(broker, { concurrency: 8 });
    await waitFor(
      'both replicas to have asked for a refresh, or the refresh to be done',
      () => Promise.resolve(server.tokenRequests.some((r) => r.status !== undefined)),
      30_000,
    );
    await sleep(4000);
    await load.stop();
    tap.close();
    const { leases, errorReplies } = load;
    load = undefined;
    return {
      broker,
      services,
      leases,
      errorReplies,
      servers: [server],
      canaries: server.issuedRefreshTokens,
      tap,
    };
  };

  it('with the lock: one call to the token endpoint, no reuse', async () => {
    const observed = await race({});
    expect(server.refreshRequests).toHaveLength(1);
    expect(server.reuseDetected).toBe(false);
    expect(observed.leases.length).toBeGreaterThan(0);
    await assertInvariants(observed);
  }, 90_000);

  it('without the lock: both replicas present the token and the server sees the reuse', async () => {
    const observed = await race({ BROKER_TEST_DISABLE_REFRESH_LOCK: '1' });
    expect(server.refreshRequests.length).toBeGreaterThanOrEqual(2);
    expect(server.reuseDetected).toBe(true);
    expect(() => checkSingleRedemption(observed)).toThrow('I1');
  }, 90_000);
});
