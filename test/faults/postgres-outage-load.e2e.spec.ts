import { addCredential, BrokerHarness, PrivatePostgres, waitFor } from '@broker/testing';
import { assertInvariants, NatsTap } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RELIABILITY fault 2, under load: test/postgres-outage.e2e.spec.ts stops
 * Postgres between single leases; here 8 clients keep leasing through 10 s down.
 */
describe('faults - Postgres down for 10 s under a lease load', () => {
  let cluster: PrivatePostgres;
  let broker: BrokerHarness;

  afterAll(async () => {
    await broker?.destroy();
    cluster?.destroy();
  });

  it('fails closed with INTERNAL, then recovers without a restart', async () => {
    cluster = await PrivatePostgres.create();
    broker = await BrokerHarness.create({ databaseUrl: cluster.url('oauth_broker') });
    const service = await broker.start();
    await addCredential(broker, 'pg-load');
    const tap = new NatsTap(broker);
    const load = new LeaseLoad(broker, { concurrency: 8, timeoutMs: 2000 });
    await sleep(1500);

    cluster.stopImmediately();
    const downAt = Date.now();
    await sleep(10_000);
    const errorsWhileDown = load.errorReplies.length;
    const upAt = Date.now();
    await cluster.start();
    await waitFor(
      'leases to flow again',
      () => Promise.resolve(load.okSince(Date.now() - 200) > 20),
      30_000,
    );
    await sleep(1000);
    await load.stop();
    tap.close();

    // Down: every reply was a defined error, none ok once the server was gone.
    expect(errorsWhileDown).toBeGreaterThan(0);
    expect(new Set(load.errorReplies.map((r) => r.error?.code))).toEqual(new Set(['INTERNAL']));
    const okWhileDown = load.leases.filter((l) => l.sentAt > downAt + 100 && l.repliedAt < upAt);
    expect(okWhileDown).toHaveLength(0);
    expect(service.child.exitCode).toBeNull();

    await assertInvariants({
      broker,
      services: [service],
      leases: load.leases,
      errorReplies: load.errorReplies,
      tap,
    });
  }, 90_000);
});
