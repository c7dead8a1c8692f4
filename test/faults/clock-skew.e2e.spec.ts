import pg from 'pg';
import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  waitFor,
} from '@broker/testing';
import { assertInvariants, NatsTap } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AHEAD = { BROKER_TEST_CLOCK: '1', BROKER_TEST_CLOCK_OFFSET_MS: String(2 * 60_000) };

/**
 * RELIABILITY fault 6: one token-service replica and the scheduler run with a
 * clock 2 minutes ahead (`BROKER_TEST_CLOCK_OFFSET_MS`, that process only).
 */
describe('faults - a replica whose clock runs 2 minutes ahead', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;

  afterAll(async () => {
    await broker?.destroy();
    await server?.close();
  });

  it('causes no early refresh storm and hands out no token past its expiry', async () => {
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(server, { refresh: { timeoutMs: 1000, lockTtlMs: 3000 } });
    const skewed = await broker.start('token-service', AHEAD);
    const scheduler = await broker.start('refresh-scheduler', AHEAD);
    // Four tokens with 30 minutes left (nothing to do), one with under 3 minutes left by the
    // real clock (under one minute by the skewed one): that one is refreshed, once.
    for (const id of ['far-1', 'far-2', 'far-3', 'far-4', 'near']) {
      const grant = server.issueGrant({ accessTtlSeconds: id === 'near' ? 170 : 1800 });
      await addCredential(broker, id, {
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresAt: new Date(grant.expiresAt).toISOString(),
      });
    }
    server.behaviour.accessTtlSeconds = 600;
    const tap = new NatsTap(broker);
    const load = new LeaseLoad(broker, { concurrency: 6 });
    // The skewed replica is alone when the near token is refreshed, so it records the new expiry.
    await waitFor('the near token to be refreshed', () =>
      Promise.resolve(server.refreshRequests.length >= 1),
    );
    await sleep(1000);
    const correct = await broker.start();
    await sleep(6000);
    await load.stop();
    tap.close();

    expect(server.refreshRequests).toHaveLength(1);
    for (const id of ['far-1', 'far-2', 'far-3', 'far-4']) {
      const detail = await broker.admin('credentials.get', { id });
      expect((detail['credential'] as { refreshCount: number }).refreshCount).toBe(0);
    }
    const db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    const replicas = await db.query<{ replica: string }>(
      'SELECT DISTINCT replica FROM lease_audit ORDER BY 1',
    );
    await db.end();
    expect(replicas.rows.map((r) => r.replica)).toEqual(['token-service-1', 'token-service-3']);
    await assertInvariants({
      broker,
      services: [skewed, scheduler, correct],
      leases: load.leases,
      errorReplies: load.errorReplies,
      servers: [server],
      canaries: server.issuedRefreshTokens,
      tap,
    });
  }, 60_000);
});
