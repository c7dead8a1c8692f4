import { addCredential, BrokerHarness, PrivatePostgres, waitFor } from '@broker/testing';

/** Runs against a Postgres cluster of its own, because it stops it. */
describe('token service - Postgres outage', () => {
  let cluster: PrivatePostgres;
  let broker: BrokerHarness;

  beforeAll(async () => {
    cluster = await PrivatePostgres.create();
    broker = await BrokerHarness.create({ databaseUrl: cluster.url('oauth_broker') });
    await broker.start();
    await addCredential(broker, 'pg-a');
  }, 60_000);

  afterAll(async () => {
    await broker?.destroy();
    cluster?.destroy();
  });

  it('refuses leases with INTERNAL while Postgres is down, and recovers by itself', async () => {
    let okReplies = 0;
    const lease = async () => {
      const reply = await broker.lease('gemini-cli', 'default', 'bot');
      if (reply.ok) okReplies += 1;
      return reply;
    };
    expect((await lease()).ok).toBe(true);

    cluster.stopImmediately();
    const down = await lease();
    expect(down.ok).toBe(false);
    expect(down.error?.code).toBe('INTERNAL');
    expect(down.error?.message).toContain('audit');

    await cluster.start();
    await waitFor('leases to succeed again', async () => (await lease()).ok, 20_000);

    // Only leases that were audited exist, and every reply ok had its row.
    const audit = await broker.admin('audit.leases', { limit: 1000 });
    expect((audit['leases'] as unknown[]).length).toBe(okReplies);
    expect(okReplies).toBeGreaterThanOrEqual(2);
    expect(broker.services[0]?.child.exitCode).toBeNull();
  }, 60_000);
});
