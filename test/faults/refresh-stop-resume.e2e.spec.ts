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

const eventsOf = async (broker: BrokerHarness, type: string): Promise<number> => {
  const db = new pg.Client({ connectionString: broker.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM events WHERE type = $1 AND stream_id = 'credential-race'`,
      [type],
    );
    return Number(rows[0]?.n);
  } finally {
    await db.end();
  }
};

/**
 * RELIABILITY scenario 5: the replica holding the refresh lock is frozen
 * (SIGSTOP) with the provider's answer in hand, past the lock's life; another
 * replica takes over; then the frozen one is thawed (SIGCONT) and tries to
 * store what it got. The strict server rotated the token for the frozen
 * replica, so the takeover's one recovery check is refused and the credential
 * goes to re-authorisation (as in scenario 4); the late write must not land
 * over that.
 */
describe('faults - refresh lock holder frozen past the lock, then thawed', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;
  let load: LeaseLoad | undefined;

  afterAll(async () => {
    await load?.stop();
    await broker?.destroy();
    await server?.close();
  });

  it('refuses the late write: nothing stored over the takeover, no loop, I1 with the one check', async () => {
    server = await MockOAuthServer.start({ reuseError: 'refresh_token_reused' });
    broker = await brokerWithOAuthServer(server, { refresh: { timeoutMs: 2000, lockTtlMs: 3000 } });
    const frozen = await broker.start('token-service', {
      BROKER_TEST_PAUSE_BEFORE_REFRESH_APPEND_MS: '5000',
    });
    // 'steady' keeps leases flowing; 'race' is expired and refreshed on the first lease.
    const steady = server.issueGrant({ accessTtlSeconds: 3600 });
    await addCredential(broker, 'steady', {
      accessToken: steady.accessToken,
      refreshToken: steady.refreshToken,
      expiresAt: new Date(steady.expiresAt).toISOString(),
    });
    const grant = server.issueGrant();
    await addCredential(broker, 'race', {
      accessToken: 'expired-access',
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    const tap = new NatsTap(broker);
    load = new LeaseLoad(broker, { concurrency: 6 });
    await frozen.waitForLog(
      (l) => l.msg === 'test hook: provider answered; pausing before the append',
    );
    frozen.signal('SIGSTOP');
    const frozenAt = Date.now();
    expect(server.refreshRequests).toHaveLength(1);

    const takeover = await broker.start();
    await waitFor(
      'the takeover to find the refresh token rotated and ask for re-authorisation',
      async () => (await eventsOf(broker, 'credential.reauth-required.v1')) === 1,
      30_000,
    );
    expect(Date.now() - frozenAt).toBeGreaterThan(3000); // past the lock's life
    frozen.signal('SIGCONT');
    await frozen.waitForLog(
      (l) => l.msg === 'refresh result discarded: this refresh no longer held the lock',
      20_000,
    );
    await sleep(3000);
    await load.stop();
    tap.close();
    const { leases, errorReplies } = load;
    load = undefined;

    // The frozen replica's answer never reached the log, and nothing retried the dead grant.
    expect(await eventsOf(broker, 'credential.refreshed.v1')).toBe(0);
    expect(server.refreshRequests).toHaveLength(2);
    expect(server.reusedRefreshTokens).toHaveLength(1);
    const detail = await broker.admin('credentials.get', { id: 'race' });
    expect(detail['credential']).toMatchObject({ status: 'reauth-required', refreshCount: 0 });
    expect(frozen.running).toBe(true);
    expect(new Set(leases.map((l) => l.credentialId))).toEqual(new Set(['steady']));
    await assertInvariants({
      broker,
      services: [frozen, takeover],
      leases,
      errorReplies,
      servers: [server],
      canaries: server.issuedRefreshTokens,
      tap,
      allowedRecoveryChecks: 1,
    });
  }, 90_000);
});
