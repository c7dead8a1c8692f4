import pg from 'pg';
import { addCredential, BrokerHarness, type Reply, type ServiceProcess } from '@broker/testing';

const leaseOf = (reply: Reply) => {
  expect(reply.error).toBeUndefined();
  return reply['lease'] as { leaseId: string; credentialId: string; accessToken: string };
};

const folded = (service: ServiceProcess) =>
  service.waitForLog((line) => line.msg === 'log folded') as Promise<{
    from: 'log start' | { snapshot: unknown };
    events: number;
    credentials: number;
  }>;

const snapshotRow = async (databaseUrl: string) => {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ state: string; schema_version: number; taken_by: string }>(
      `SELECT state, schema_version, taken_by FROM snapshots WHERE name = 'credentials'`,
    );
    return rows;
  } finally {
    await db.end();
  }
};

describe('token service - snapshots of the folded state', () => {
  let broker: BrokerHarness;

  afterEach(() => broker.destroy());

  it('a clean stop writes a snapshot with token material only encrypted; the restart serves the same state from it', async () => {
    broker = await BrokerHarness.create();
    const first = await broker.start();
    for (const id of ['snap-a', 'snap-b', 'snap-c']) {
      expect((await addCredential(broker, id)).ok).toBe(true);
    }
    const cooled = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
    await broker.report('bot', {
      leaseId: cooled.leaseId,
      outcome: 'failure',
      status: 429,
      retryAfterMs: 600_000,
    });
    const before = await broker.admin('credentials.list');

    expect((await first.stop()).code).toBe(0);
    expect(first.lines.some((l) => l.msg === 'snapshot written' && l['why'] === 'stop')).toBe(true);
    const [row, ...others] = await snapshotRow(broker.databaseUrl);
    expect(others).toEqual([]);
    expect(row?.taken_by).toBe('token-service-1');
    for (const id of ['snap-a', 'snap-b', 'snap-c']) {
      expect(row?.state).toContain(`"id":"${id}"`);
      expect(row?.state).not.toContain(`access-${id}`);
      expect(row?.state).not.toContain(`refresh-${id}`);
    }
    expect(row?.state).toMatch(/"accessToken":"enc:v1:/);

    broker.services.length = 0;
    const second = await broker.start();
    const log = await folded(second);
    expect(log.from).toEqual({ snapshot: expect.any(Object) });
    expect(log.events).toBe(0);
    expect(log.credentials).toBe(3);
    expect((await broker.admin('credentials.list'))['credentials']).toEqual(before['credentials']);
    // The restored (encrypted) tokens still decrypt, and the cooled credential stays out.
    for (let i = 0; i < 4; i += 1) {
      const lease = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
      expect(lease.credentialId).not.toBe(cooled.credentialId);
      expect(lease.accessToken).toBe(`access-${lease.credentialId}`);
    }
  });

  it('a replica killed after a periodic snapshot starts from it and folds only the tail', async () => {
    broker = await BrokerHarness.create({
      config: { snapshots: { everyEvents: 2, minIntervalSeconds: 0 } },
    });
    const first = await broker.start();
    for (const id of ['p-a', 'p-b']) expect((await addCredential(broker, id)).ok).toBe(true);
    await first.waitForLog((l) => l.msg === 'snapshot written' && l['credentials'] === 2, 15_000);
    expect((await addCredential(broker, 'p-late')).ok).toBe(true);
    await first.stop('SIGKILL');

    broker.services.length = 0;
    const second = await broker.start();
    const log = await folded(second);
    expect(log.from).toEqual({ snapshot: expect.any(Object) });
    expect(log.events).toBe(1);
    expect(log.credentials).toBe(3);
    const ids = ((await broker.admin('credentials.list'))['credentials'] as { id: string }[]).map(
      (c) => c.id,
    );
    expect(ids.sort()).toEqual(['p-a', 'p-b', 'p-late']);
  });

  it('a snapshot that does not parse is ignored with a warning; the whole log is folded', async () => {
    broker = await BrokerHarness.create();
    const first = await broker.start();
    for (const id of ['g-a', 'g-b']) expect((await addCredential(broker, id)).ok).toBe(true);
    const before = await broker.admin('credentials.list');
    expect((await first.stop()).code).toBe(0);
    const db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    await db.query(`UPDATE snapshots SET state = left(state, 40)`);
    await db.end();

    broker.services.length = 0;
    const second = await broker.start();
    const warning = await second.waitForLog(
      (l) => l.msg === 'snapshot ignored; folded the whole log',
    );
    expect(warning['reason']).toBe("snapshot 'credentials': snapshot is not JSON");
    expect((await folded(second)).from).toBe('log start');
    expect((await broker.admin('credentials.list'))['credentials']).toEqual(before['credentials']);
  });
});
