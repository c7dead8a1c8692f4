import { addCredential, BrokerHarness, type Reply } from '@broker/testing';

interface LeaseBody {
  leaseId: string;
  credentialId: string;
  accessToken: string;
}

const leaseOf = (reply: Reply): LeaseBody => {
  expect(reply.error).toBeUndefined();
  return reply['lease'] as LeaseBody;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('token service - leasing over NATS', () => {
  let broker: BrokerHarness;

  beforeAll(async () => {
    broker = await BrokerHarness.create();
    await broker.start();
    for (const id of ['cred-a', 'cred-b', 'cred-c'])
      expect((await addCredential(broker, id)).ok).toBe(true);
  });

  afterAll(() => broker.destroy());

  it('six leases cover each of three credentials twice, with their own tokens', async () => {
    const leases: LeaseBody[] = [];
    for (let i = 0; i < 6; i += 1)
      leases.push(leaseOf(await broker.lease('gemini-cli', 'default', 'bot')));
    const counts = new Map<string, number>();
    for (const l of leases) counts.set(l.credentialId, (counts.get(l.credentialId) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ 'cred-a': 2, 'cred-b': 2, 'cred-c': 2 });
    for (const l of leases) expect(l.accessToken).toBe(`access-${l.credentialId}`);
  });

  it('a 429 with retryAfterMs takes the credential out for that long, then it comes back by itself', async () => {
    const first = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
    const cooled = first.credentialId;
    const reported = await broker.report('bot', {
      leaseId: first.leaseId,
      outcome: 'failure',
      status: 429,
      retryAfterMs: 1500,
    });
    expect(reported).toEqual({ ok: true });
    const during: string[] = [];
    for (let i = 0; i < 6; i += 1)
      during.push(leaseOf(await broker.lease('gemini-cli', 'default', 'bot')).credentialId);
    expect(during).not.toContain(cooled);

    const detail = await broker.admin('credentials.get', { id: cooled });
    expect((detail['credential'] as { state: string }).state).toBe('cooling');

    await sleep(1600);
    const after: string[] = [];
    for (let i = 0; i < 3; i += 1)
      after.push(leaseOf(await broker.lease('gemini-cli', 'default', 'bot')).credentialId);
    expect(after).toContain(cooled);
  });

  it('three failures back a credential off; after the backoff one half-open trial brings it back', async () => {
    const target = 'cred-b';
    // Lease until we hold three leases on the target, then fail all three.
    const onTarget: LeaseBody[] = [];
    while (onTarget.length < 3) {
      const lease = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
      if (lease.credentialId === target) onTarget.push(lease);
    }
    for (const lease of onTarget) {
      expect(
        await broker.report('bot', { leaseId: lease.leaseId, outcome: 'failure', status: 503 }),
      ).toEqual({ ok: true });
    }
    const health = (await broker.admin('credentials.get', { id: target }))['health'] as {
      consecutiveFailures: number;
      backoffUntil: string;
    };
    expect(health.consecutiveFailures).toBe(3);
    expect(Date.parse(health.backoffUntil)).toBeGreaterThan(Date.now());

    const during: string[] = [];
    for (let i = 0; i < 4; i += 1)
      during.push(leaseOf(await broker.lease('gemini-cli', 'default', 'bot')).credentialId);
    expect(during).not.toContain(target);

    await sleep(1100);
    let trial: LeaseBody | undefined;
    for (let i = 0; i < 3 && trial === undefined; i += 1) {
      const lease = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
      if (lease.credentialId === target) trial = lease;
    }
    expect(trial).toBeDefined();
    // While the trial is out, the credential gets no second lease.
    const whileTrial: string[] = [];
    for (let i = 0; i < 4; i += 1)
      whileTrial.push(leaseOf(await broker.lease('gemini-cli', 'default', 'bot')).credentialId);
    expect(whileTrial).not.toContain(target);

    const audit = await broker.admin('audit.leases', { credentialId: target, limit: 1000 });
    const trialRow = (
      audit['leases'] as { leaseId: string; selection: { halfOpenTrial: boolean } }[]
    ).find((l) => l.leaseId === trial?.leaseId);
    expect(trialRow?.selection.halfOpenTrial).toBe(true);

    expect(await broker.report('bot', { leaseId: trial?.leaseId, outcome: 'success' })).toEqual({
      ok: true,
    });
    const healed = (await broker.admin('credentials.get', { id: target }))['health'] as {
      consecutiveFailures: number;
    };
    expect(healed.consecutiveFailures).toBe(0);
    const back: string[] = [];
    for (let i = 0; i < 3; i += 1)
      back.push(leaseOf(await broker.lease('gemini-cli', 'default', 'bot')).credentialId);
    expect(back).toContain(target);
  });

  it('answers ALL_CREDENTIALS_UNAVAILABLE with the earliest retryAfterMs when every credential is cooling', async () => {
    const cooldowns = new Map([
      ['cred-a', 4000],
      ['cred-b', 2500],
      ['cred-c', 6000],
    ]);
    const seen = new Set<string>();
    while (seen.size < 3) {
      const lease = leaseOf(await broker.lease('gemini-cli', 'default', 'pool-exhauster'));
      if (seen.has(lease.credentialId)) continue;
      seen.add(lease.credentialId);
      await broker.report('pool-exhauster', {
        leaseId: lease.leaseId,
        outcome: 'failure',
        status: 429,
        retryAfterMs: cooldowns.get(lease.credentialId),
      });
    }
    const reply = await broker.lease('gemini-cli', 'default', 'bot');
    expect(reply.ok).toBe(false);
    expect(reply.error?.code).toBe('ALL_CREDENTIALS_UNAVAILABLE');
    expect(reply.error?.retryAfterMs).toBeGreaterThan(1500);
    expect(reply.error?.retryAfterMs).toBeLessThanOrEqual(2500);
  });

  it('audit.leases returns every lease with the client named by its subject', async () => {
    const mine: string[] = [];
    for (const client of ['alpha', 'beta', 'alpha']) {
      const reply = await broker.lease('gemini-cli', 'other-pool', client);
      expect(reply.error?.code).toBe('NO_CREDENTIALS');
    }
    await addCredential(broker, 'audit-1', { pool: 'audited' });
    for (const client of ['alpha', 'beta', 'alpha']) {
      mine.push(leaseOf(await broker.lease('gemini-cli', 'audited', client)).leaseId);
    }
    const all = await broker.admin('audit.leases', { credentialId: 'audit-1' });
    const rows = all['leases'] as {
      leaseId: string;
      client: string;
      pool: string;
      selection: { policy: string };
    }[];
    expect(rows.map((r) => r.leaseId).sort()).toEqual([...mine].sort());
    expect(rows.map((r) => r.client).sort()).toEqual(['alpha', 'alpha', 'beta']);
    expect(rows.every((r) => r.pool === 'audited' && r.selection.policy === 'round-robin')).toBe(
      true,
    );
    const beta = await broker.admin('audit.leases', { credentialId: 'audit-1', client: 'beta' });
    expect((beta['leases'] as unknown[]).length).toBe(1);
  });
});
