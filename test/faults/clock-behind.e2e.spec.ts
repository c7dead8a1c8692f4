import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  waitFor,
} from '@broker/testing';
import { assertInvariants, checkNoStaleToken, NatsTap } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BEHIND = { BROKER_TEST_CLOCK: '1', BROKER_TEST_CLOCK_OFFSET_MS: String(-4 * 60_000) };

/**
 * RELIABILITY scenario 27, the other way: the token service and the scheduler
 * run with clocks 4 minutes behind (`BROKER_TEST_CLOCK_OFFSET_MS`, those
 * processes only). By their own clocks every token lives 4 minutes longer.
 */
describe('faults - services whose clocks run 4 minutes behind', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;
  let load: LeaseLoad | undefined;

  afterAll(async () => {
    await load?.stop();
    await broker?.destroy();
    await server?.close();
  });

  it('lease no token past its expiry and refresh when due by the database clock', async () => {
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(server, { refresh: { timeoutMs: 1000, lockTtlMs: 3000 } });
    const replica = await broker.start('token-service', BEHIND);
    // 'near' has 50 s left, less than the 60 s every lease asks for (4 min 50 s by the
    // replica's clock); the others have 30 minutes.
    for (const id of ['far-1', 'far-2', 'far-3', 'near']) {
      const grant = server.issueGrant({ accessTtlSeconds: id === 'near' ? 50 : 1800 });
      await addCredential(broker, id, {
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresAt: new Date(grant.expiresAt).toISOString(),
      });
    }
    server.behaviour.accessTtlSeconds = 600;
    const tap = new NatsTap(broker);
    load = new LeaseLoad(broker, { concurrency: 4, minValiditySeconds: 60 });
    await sleep(3000);
    // By its own clock the replica would lease 'near': I2 says whether it did.
    checkNoStaleToken({
      broker,
      services: [replica],
      leases: load.leases,
      errorReplies: [],
      servers: [server],
    });
    // Leasing skips 'near' as expiring and refreshes it on demand.
    await waitFor('the near token to be refreshed', () =>
      Promise.resolve(server.refreshRequests.length >= 1),
    );
    await sleep(2000);

    // 'soon' has 4.5 minutes left: inside the scheduler's 5-minute buffer by the real clock,
    // 8.5 minutes away by the scheduler's own, and never expiring for a 60 s lease.
    const scheduler = await broker.start('refresh-scheduler', BEHIND);
    const soon = server.issueGrant({ accessTtlSeconds: 270 });
    await addCredential(broker, 'soon', {
      accessToken: soon.accessToken,
      refreshToken: soon.refreshToken,
      expiresAt: new Date(soon.expiresAt).toISOString(),
    });
    await waitFor(
      'the scheduler to refresh the token due by the database clock',
      () => Promise.resolve(server.refreshRequests.length >= 2),
      30_000,
    );
    await sleep(2000);
    await load.stop();
    tap.close();
    const leases = load.leases;
    const errorReplies = load.errorReplies;
    load = undefined;

    expect(server.refreshRequests).toHaveLength(2);
    for (const id of ['far-1', 'far-2', 'far-3']) {
      const detail = await broker.admin('credentials.get', { id });
      expect((detail['credential'] as { refreshCount: number }).refreshCount).toBe(0);
    }
    expect(leases.length).toBeGreaterThan(0);
    await assertInvariants({
      broker,
      services: [replica, scheduler],
      leases,
      errorReplies,
      servers: [server],
      canaries: server.issuedRefreshTokens,
      tap,
    });
  }, 90_000);
});
