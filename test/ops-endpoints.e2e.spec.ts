import {
  addCredential,
  BrokerHarness,
  metricValue,
  MockOAuthServer,
  PrivatePostgres,
  type ServiceProcess,
  waitFor,
} from '@broker/testing';

interface Readiness {
  ready: boolean;
  failed: string[];
  checks: Record<string, string>;
}

/** Runs against a Postgres cluster of its own, because it stops it. */
describe('ops endpoints - /metrics, /healthz and /readyz of the token service, the scheduler and alerting', () => {
  let cluster: PrivatePostgres;
  let server: MockOAuthServer;
  let broker: BrokerHarness;
  let tokenService: ServiceProcess;
  let scheduler: ServiceProcess;
  let alerting: ServiceProcess;

  const metrics = async (service: ServiceProcess): Promise<string> => {
    const { status, body } = await broker.ops(service, '/metrics');
    expect(status).toBe(200);
    return body;
  };
  const readiness = async (service: ServiceProcess) => {
    const { status, body } = await broker.ops(service, '/readyz');
    return { status, body: JSON.parse(body) as Readiness };
  };

  beforeAll(async () => {
    cluster = await PrivatePostgres.create();
    server = await MockOAuthServer.start();
    broker = await BrokerHarness.create({
      databaseUrl: cluster.url('oauth_broker'),
      config: {
        providers: {
          'gemini-cli': {
            tokenUrl: server.tokenUrl,
            clientId: 'test-client',
            clientSecret: 'test-secret',
            clientAuth: 'body',
          },
        },
        pools: { 'gemini-cli/default': { refreshStrategy: 'conservative' } },
        refresh: { timeoutMs: 2000, lockTtlMs: 5000 },
      },
    });
    tokenService = await broker.start();
    scheduler = await broker.start('refresh-scheduler');
    alerting = await broker.start('alerting');
  }, 60_000);

  afterAll(async () => {
    await broker?.destroy();
    await server?.close();
    cluster?.destroy();
  });

  it('each service binds its own ephemeral ops port and answers /healthz and /readyz', async () => {
    expect(new Set([tokenService.opsPort, scheduler.opsPort, alerting.opsPort]).size).toBe(3);
    for (const service of [tokenService, scheduler, alerting]) {
      expect(await broker.ops(service, '/healthz')).toEqual({
        status: 200,
        body: JSON.stringify({ status: 'ok' }),
      });
      expect(await readiness(service)).toEqual({
        status: 200,
        body: { ready: true, failed: [], checks: { nats: 'ok', postgres: 'ok', log: 'ok' } },
      });
    }
    expect((await broker.ops(tokenService, '/nope')).status).toBe(404);
  });

  it('lease counters and the latency histogram move with leases; junk subjects do not add series', async () => {
    await addCredential(broker, 'm-a');
    const ok = { provider: 'gemini-cli', pool: 'default', outcome: 'ok' };
    const before = await metrics(tokenService);
    expect(metricValue(before, 'broker_leases_total', ok)).toBeUndefined();
    for (let i = 0; i < 3; i += 1)
      expect((await broker.lease('gemini-cli', 'default', 'metrics-bot')).ok).toBe(true);
    expect((await broker.lease('no-such-provider', 'x', 'metrics-bot')).ok).toBe(false);
    expect((await broker.lease('gemini-cli', 'empty-pool', 'metrics-bot')).ok).toBe(false);

    const after = await metrics(tokenService);
    expect(metricValue(after, 'broker_leases_total', ok)).toBe(3);
    expect(
      metricValue(after, 'broker_lease_duration_seconds_count', {
        provider: 'gemini-cli',
        pool: 'default',
      }),
    ).toBe(3);
    expect(
      metricValue(after, 'broker_leases_total', {
        provider: 'unknown',
        pool: 'unknown',
        outcome: 'UNKNOWN_PROVIDER',
      }),
    ).toBe(1);
    expect(
      metricValue(after, 'broker_leases_total', {
        provider: 'gemini-cli',
        pool: 'unknown',
        outcome: 'NO_CREDENTIALS',
      }),
    ).toBe(1);
    expect(after).not.toContain('no-such-provider');
    expect(after).not.toContain('empty-pool');
    // Node's process metrics come along, labelled with the service.
    expect(
      metricValue(after, 'process_cpu_user_seconds_total', { service: 'token-service' }),
    ).toBeGreaterThan(0);
  });

  it('a scheduled refresh moves the scheduler and token-service counters, the credential gauges follow, lags drain to 0', async () => {
    const grant = server.issueGrant();
    await addCredential(broker, 'm-due', {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    });
    const refreshed = { provider: 'gemini-cli', outcome: 'refreshed' };
    await waitFor(
      'the refresh in /metrics',
      async () =>
        metricValue(await metrics(tokenService), 'broker_refreshes_total', refreshed) === 1,
    );
    const text = await metrics(tokenService);
    expect(metricValue(text, 'broker_refresh_duration_seconds_count', refreshed)).toBe(1);
    expect(
      metricValue(await metrics(scheduler), 'broker_refresh_commands_total', {
        provider: 'gemini-cli',
        reason: 'scheduled',
      }),
    ).toBe(1);
    expect(metricValue(await metrics(scheduler), 'broker_scheduler_leading')).toBe(1);

    // Gauges are read from the projection at scrape time: a fresh hour for the refreshed one.
    const expiry = metricValue(text, 'broker_credential_expiry_seconds', {
      credential_id: 'm-due',
      provider: 'gemini-cli',
      pool: 'default',
    });
    expect(expiry).toBeGreaterThan(3500);
    expect(metricValue(text, 'broker_credentials', { provider: 'gemini-cli', state: 'ok' })).toBe(
      2,
    );
    await broker.admin('credentials.revoke', { id: 'm-a', reason: 'metrics test' });
    const revoked = await metrics(tokenService);
    expect(metricValue(revoked, 'broker_credentials', { state: 'revoked' })).toBe(1);
    expect(metricValue(revoked, 'broker_credentials', { state: 'ok' })).toBe(1);
    expect(
      metricValue(revoked, 'broker_credential_expiry_seconds', { credential_id: 'm-a' }),
    ).toBeUndefined();

    await waitFor('relay and consumers to catch up', async () => {
      const ts = await metrics(tokenService);
      const sc = await metrics(scheduler);
      return (
        metricValue(ts, 'broker_relay_lag_events') === 0 &&
        metricValue(ts, 'broker_consumer_lag_events', { consumer: 'token-service' }) === 0 &&
        metricValue(sc, 'broker_consumer_lag_events', { consumer: 'refresh-scheduler' }) === 0
      );
    });
  });

  it('/readyz turns 503 naming postgres while Postgres is stopped, /healthz stays 200, and it is ready again after the restart', async () => {
    cluster.stopImmediately();
    for (const service of [tokenService, scheduler, alerting]) {
      const down = await readiness(service);
      expect(down.status).toBe(503);
      expect(down.body.ready).toBe(false);
      expect(down.body.failed).toContain('postgres');
      expect(down.body.checks['nats']).toBe('ok');
      expect((await broker.ops(service, '/healthz')).status).toBe(200);
      // Metrics still answer; the lag gauges, which need Postgres, are left out.
      const text = await metrics(service);
      expect(metricValue(text, 'broker_consumer_lag_events')).toBeUndefined();
    }
    await cluster.start();
    await waitFor(
      'every service ready again',
      async () =>
        (await readiness(tokenService)).status === 200 &&
        (await readiness(scheduler)).status === 200 &&
        (await readiness(alerting)).status === 200,
      30_000,
    );
  }, 60_000);
});
