import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  waitFor,
} from '@broker/testing';

const DAY = 86_400_000;

describe('rotation - due, successor, grace, decommission', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;

  beforeAll(async () => {
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(
      server,
      {
        pools: {
          'gemini-cli/default': {
            rotation: { intervalDays: 30, graceDays: 1, autoDecommission: true },
          },
        },
      },
      { BROKER_TEST_CLOCK: '1' },
    );
  });

  afterAll(async () => {
    await broker.destroy();
    await server.close();
  });

  const holders = async (n: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1) {
      const reply = await broker.lease('gemini-cli', 'default', 'bot');
      expect(reply.error).toBeUndefined();
      ids.push((reply['lease'] as { credentialId: string }).credentialId);
    }
    return ids;
  };

  it('a credential past its interval is due, both serve during the grace period, then the old one is gone for good', async () => {
    await broker.start();
    const scheduler = await broker.start('refresh-scheduler');
    const start = Date.now();
    const farExpiry = new Date(start + 90 * DAY).toISOString();
    await addCredential(broker, 'old', {
      refreshToken: server.issueGrant().refreshToken,
      expiresAt: farExpiry,
    });

    let rotationDueAt: string | null = null;
    await waitFor('the scheduler to plan the credential', async () => {
      const plan = await broker.admin('schedule.list');
      const entry = (
        plan['schedule'] as { credentialId: string; rotationDueAt: string | null }[]
      ).find((s) => s.credentialId === 'old');
      rotationDueAt = entry?.rotationDueAt ?? null;
      return rotationDueAt !== null;
    });
    expect(Math.abs(Date.parse(rotationDueAt ?? '') - (start + 30 * DAY))).toBeLessThan(60_000);

    await broker.setClock(start + 31 * DAY);
    await scheduler.waitForLog((l) => l.msg === 'rotation due' && l['credentialId'] === 'old');

    const rotated = await broker.admin('credentials.rotate', {
      id: 'old',
      successor: {
        id: 'new',
        accessToken: 'next-access',
        refreshToken: server.issueGrant().refreshToken,
        expiresAt: farExpiry,
      },
    });
    expect(rotated.error).toBeUndefined();
    expect((rotated['successor'] as { id: string }).id).toBe('new');
    expect(new Set(await holders(6))).toEqual(new Set(['old', 'new']));

    await broker.setClock(start + 32 * DAY + 3_600_000);
    await waitFor(
      'the old credential to be decommissioned',
      async () =>
        ((await broker.admin('credentials.get', { id: 'old' }))['credential'] as { status: string })
          .status === 'decommissioned',
      20_000,
    );
    expect(new Set(await holders(6))).toEqual(new Set(['new']));
    const old = (await broker.admin('credentials.get', { id: 'old' }))['credential'] as {
      statusReason: string;
    };
    expect(old.statusReason).toContain("rotated to 'new'");
  });
});
