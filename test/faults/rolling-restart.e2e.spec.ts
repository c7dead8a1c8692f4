import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  type ServiceProcess,
  waitFor,
} from '@broker/testing';
import { assertInvariants, NatsTap } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CREDENTIALS = 50;
const TOKEN_SECONDS = 40;
const MIN_VALIDITY_SECONDS = 10;

/**
 * RELIABILITY scenario 28: every service (two token services, the scheduler,
 * alerting) is stopped with SIGTERM and started again, one at a time, while 50
 * credentials cycle on 40 s tokens (refreshed 20 s before their end) under a
 * retrying lease load asking for 10 s of validity.
 */
describe('faults - rolling restart of every service', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;
  let load: LeaseLoad | undefined;

  afterAll(async () => {
    await load?.stop();
    await broker?.destroy();
    await server?.close();
  });

  it('keeps leases flowing and no credential expires in use', async () => {
    server = await MockOAuthServer.start({
      reuseError: 'refresh_token_reused',
      behaviour: { accessTtlSeconds: TOKEN_SECONDS },
    });
    broker = await brokerWithOAuthServer(server, {
      refresh: { timeoutMs: 5000, lockTtlMs: 10_000 },
      pools: { 'gemini-cli/default': { refreshStrategy: { bufferSeconds: 20 } } },
    });
    const services: ServiceProcess[] = [];
    for (const app of ['token-service', 'token-service', 'refresh-scheduler', 'alerting'])
      services.push(await broker.start(app));
    // Lives spread over 25-40 s, so that refreshes are spread too.
    for (let i = 0; i < CREDENTIALS; i += 1) {
      const grant = server.issueGrant({ accessTtlSeconds: 25 + (i % 16) });
      const added = await addCredential(broker, `cycle-${i}`, {
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresAt: new Date(grant.expiresAt).toISOString(),
      });
      expect(added.ok).toBe(true);
    }
    const tap = new NatsTap(broker);
    load = new LeaseLoad(broker, {
      concurrency: 8,
      minValiditySeconds: MIN_VALIDITY_SECONDS,
      timeoutMs: 2000,
    });
    await waitFor('leases to flow', () => Promise.resolve(load!.leases.length > 50));

    const servedDuring: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const old = services[i] as ServiceProcess;
      const from = Date.now();
      const exit = await old.stop('SIGTERM');
      expect(exit.code).toBe(0); // a clean, bounded drain
      // The same replica id, as a deployment gives it (docker-compose.yml): its durable consumers resume.
      services.push(await broker.start(old.app, { BROKER_REPLICA_ID: `${old.app}-${i + 1}` }));
      await sleep(4000);
      servedDuring.push(load.okSince(from));
    }
    // Every credential's token is refreshed at least once more after the last restart.
    const refreshesBefore = server.refreshRequests.length;
    await waitFor(
      'another round of refreshes after the restarts',
      () => Promise.resolve(server.refreshRequests.length >= refreshesBefore + CREDENTIALS),
      45_000,
    );
    await load.stop();
    tap.close();
    const { leases, errorReplies } = load;
    load = undefined;

    expect(servedDuring.every((n) => n > 0)).toBe(true);
    const failures = server.tokenRequests.filter((r) => r.status !== undefined && r.status !== 200);
    expect(failures).toEqual([]);
    const list = (await broker.admin('credentials.list'))['credentials'] as {
      id: string;
      status: string;
      expiresAt: string;
    }[];
    expect(list).toHaveLength(CREDENTIALS);
    for (const credential of list) {
      expect(credential.status).toBe('active');
      expect(Date.parse(credential.expiresAt)).toBeGreaterThan(Date.now());
    }
    expect(new Set(leases.map((l) => l.credentialId)).size).toBe(CREDENTIALS);
    await assertInvariants({
      broker,
      services,
      leases,
      errorReplies,
      servers: [server],
      canaries: server.issuedRefreshTokens,
      tap,
    });
  }, 180_000);
});
