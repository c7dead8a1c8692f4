import pg from 'pg';
import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  waitFor,
  type ServiceProcess,
} from '@broker/testing';
import { assertInvariants, checkSingleRedemption, NatsTap } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const status = async (broker: BrokerHarness, id: string) =>
  (await broker.admin('credentials.get', { id }))['credential'] as {
    status: string;
    refreshCount: number;
  };

/** The replica (1-based index in start order) that started the credential's refresh. */
const refreshStarter = async (broker: BrokerHarness): Promise<number> => {
  const db = new pg.Client({ connectionString: broker.databaseUrl });
  await db.connect();
  const rows = await db.query<{ replica: string }>(
    `SELECT data->>'replica' AS replica FROM events WHERE type = 'credential.refresh-started.v1' ORDER BY global_position LIMIT 1`,
  );
  await db.end();
  return Number(rows.rows[0]?.replica.replace('token-service-', ''));
};

/**
 * RELIABILITY fault 5: two replicas race on an expired rotating refresh token
 * under a lease load, and the one refreshing is SIGKILLed mid-refresh.
 */
describe('faults - refresh holder SIGKILLed during a race', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;

  afterEach(async () => {
    await broker?.destroy();
    await server?.close();
  });

  const expiredCredential = async () => {
    const grant = server.issueGrant();
    await addCredential(broker, 'race', {
      accessToken: 'expired-access',
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
  };

  it('killed before the provider answered: the other replica refreshes once, no reuse', async () => {
    server = await MockOAuthServer.start({ behaviour: { hang: true } });
    broker = await brokerWithOAuthServer(server, { refresh: { timeoutMs: 4000, lockTtlMs: 5000 } });
    const services: ServiceProcess[] = [await broker.start(), await broker.start()];
    await expiredCredential();
    const tap = new NatsTap(broker);
    const load = new LeaseLoad(broker, { concurrency: 6 });
    await waitFor('the refresh to reach the provider', () =>
      Promise.resolve(server.refreshRequests.length === 1),
    );
    const holder = services[(await refreshStarter(broker)) - 1] as ServiceProcess;
    await holder.stop('SIGKILL');
    server.behaviour.hang = false;
    const killedAt = Date.now();
    await waitFor(
      'leases to be served again',
      () => Promise.resolve(load.okSince(killedAt) > 20),
      20_000,
    );
    await load.stop();
    tap.close();

    expect(server.reuseDetected).toBe(false);
    expect(server.refreshRequests).toHaveLength(2); // the one cut off, and the one that worked
    expect(await status(broker, 'race')).toMatchObject({ status: 'active', refreshCount: 1 });
    expect(new Set(load.leases.map((l) => l.accessToken)).size).toBe(1);
    await assertInvariants({
      broker,
      services,
      leases: load.leases,
      errorReplies: load.errorReplies,
      servers: [server],
      canaries: server.issuedRefreshTokens,
      tap,
    });
  }, 60_000);

  it('killed after the provider answered, before the append: one recovery check, then re-authorisation, never a loop', async () => {
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(server, { refresh: { timeoutMs: 1000, lockTtlMs: 2000 } });
    const doomed = await broker.start('token-service', {
      BROKER_TEST_PAUSE_BEFORE_REFRESH_APPEND_MS: '30000',
    });
    await expiredCredential();
    const tap = new NatsTap(broker);
    const load = new LeaseLoad(broker, { concurrency: 6 });
    // The second replica joins the race while the first holds the lock with the answer in hand.
    const racer = await broker.start();
    await doomed.waitForLog(
      (l) => l.msg === 'test hook: provider answered; pausing before the append',
    );
    await doomed.stop('SIGKILL');
    await waitFor(
      're-authorisation',
      async () => (await status(broker, 'race')).status === 'reauth-required',
      20_000,
    );
    await sleep(2500);
    await load.stop();
    tap.close();

    // The lost answer's refresh token was presented once more (the check), refused, and never again.
    expect(server.refreshRequests).toHaveLength(2);
    expect(server.reusedRefreshTokens).toHaveLength(1);
    expect(load.errorReplies.at(-1)?.error?.code).toBe('NO_CREDENTIALS');
    const observed = {
      broker,
      services: [doomed, racer],
      leases: load.leases,
      errorReplies: load.errorReplies,
      servers: [server],
      canaries: server.issuedRefreshTokens,
      tap,
    };
    // I1 as a strict reading sees the check; it is the one re-presentation RELIABILITY #4 allows.
    expect(() => checkSingleRedemption(observed)).toThrow('I1');
    await assertInvariants({ ...observed, allowedRecoveryChecks: 1 });
  }, 60_000);
});
