import {
  addCredential,
  brokerWithOAuthServer,
  BrokerHarness,
  MockOAuthServer,
  ServiceProcess,
  waitFor,
} from '@broker/testing';

interface ScheduleReply {
  leader: { holder: string; term: number; self: boolean };
  schedule: {
    credentialId: string;
    strategy: string;
    nextRefreshAt: string | null;
    reason: string;
  }[];
}

const refreshCount = async (broker: BrokerHarness, id: string): Promise<number> =>
  ((await broker.admin('credentials.get', { id }))['credential'] as { refreshCount: number })
    .refreshCount;

describe('refresh scheduler - proactive refresh', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;

  beforeEach(async () => {
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(server, {
      pools: { 'gemini-cli/default': { refreshStrategy: 'conservative' } },
      refresh: { timeoutMs: 2000, lockTtlMs: 5000 },
    });
  });

  afterEach(async () => {
    await broker.destroy();
    await server.close();
  });

  it('a conservative credential with 10 minutes left is refreshed without any lease asking, and schedule.list says why', async () => {
    await broker.start();
    const scheduler = await broker.start('refresh-scheduler');
    const grant = server.issueGrant();
    await addCredential(broker, 'soon', {
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    });
    await addCredential(broker, 'later', {
      refreshToken: server.issueGrant().refreshToken,
      expiresAt: new Date(Date.now() + 3 * 3600_000).toISOString(),
    });
    await waitFor(
      'the proactive refresh',
      async () => (await refreshCount(broker, 'soon')) === 1,
      20_000,
    );
    expect(server.refreshRequests).toHaveLength(1);
    expect(await refreshCount(broker, 'later')).toBe(0);
    expect(scheduler.lines.some((l) => l.msg === 'refresh command sent')).toBe(true);

    const plan = (await broker.admin('schedule.list')) as unknown as ScheduleReply;
    expect(plan.leader.self).toBe(true);
    const later = plan.schedule.find((s) => s.credentialId === 'later');
    expect(later?.strategy).toBe('conservative');
    expect(later?.reason).toContain('before expiry');
    expect(Date.parse(later?.nextRefreshAt ?? '')).toBeLessThan(
      Date.now() + 3 * 3600_000 - 15 * 60_000 + 1000,
    );

    const cli = ServiceProcess.start('oauthctl', broker.serviceEnv, ['schedule']);
    expect((await cli.exited).code).toBe(0);
    const lines = cli.rawOutput.join('\n');
    expect(lines).toMatch(/^leader: refresh-scheduler-\d+ \(term \d+\)/);
    expect(lines).toMatch(/later\s+refresh in \d+ (min|h) \(conservative: 15 min before expiry/);
  });

  it('SIGKILL the leading scheduler: the standby leads within 15 s and no refresh reaches the server twice', async () => {
    await broker.start();
    const first = await broker.start('refresh-scheduler');
    await first.waitForLog((l) => l.msg === 'leading');
    const standby = await broker.start('refresh-scheduler');
    await first.stop('SIGKILL');
    const killedAt = Date.now();
    await standby.waitForLog((l) => l.msg === 'leading', 20_000);
    expect(Date.now() - killedAt).toBeLessThan(15_000);

    const grant = server.issueGrant();
    await addCredential(broker, 'after-failover', {
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 5 * 60_000).toISOString(),
    });
    await waitFor(
      'the refresh under the new leader',
      async () => (await refreshCount(broker, 'after-failover')) === 1,
      20_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(server.refreshRequests).toHaveLength(1);
    expect(server.reuseDetected).toBe(false);
  });
});

describe('refresh scheduler - a consumer of the relayed log', () => {
  let broker: BrokerHarness;
  beforeAll(async () => {
    broker = await BrokerHarness.create();
  });
  afterAll(() => broker.destroy());

  const planned = async (): Promise<string[]> =>
    ((await broker.admin('schedule.list'))['schedule'] as { credentialId: string }[])
      .map((s) => s.credentialId)
      .sort();

  it('down for a while, it resumes from its durable consumer and applies every position once', async () => {
    await broker.start();
    const env = { BROKER_REPLICA_ID: 'sched-a' };
    const first = await broker.start('refresh-scheduler', env);
    await addCredential(broker, 'c1');
    await waitFor('c1 planned', async () => (await planned()).includes('c1'));
    expect((await first.stop()).code).toBe(0);

    for (const id of ['c2', 'c3']) await addCredential(broker, id);
    await broker.start('refresh-scheduler', env);
    await addCredential(broker, 'c4'); // reaches the scheduler only through JetStream
    await waitFor(
      'every credential planned',
      async () => (await planned()).join() === 'c1,c2,c3,c4',
    );

    const stream = `${broker.root.replace(/\./g, '_').toUpperCase()}_EVENTS`;
    const jsm = await broker.nats.jetstreamManager();
    await waitFor('the consumer to be caught up', async () => {
      const info = await jsm.consumers.info(stream, 'refresh-scheduler-sched-a');
      const last = (await jsm.streams.info(stream)).state.last_seq;
      return (
        info.num_pending === 0 && info.num_ack_pending === 0 && info.ack_floor.stream_seq === last
      );
    });
    const info = await jsm.consumers.info(stream, 'refresh-scheduler-sched-a');
    expect(info.num_redelivered).toBe(0);
  });
});
