import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate, createDataSource } from '@broker/event-store';
import { addCredential, BrokerHarness, ServiceProcess, waitFor, type Reply } from '@broker/testing';

const leaseOf = (reply: Reply) => {
  expect(reply.error).toBeUndefined();
  return reply['lease'] as { leaseId: string; credentialId: string };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('token service - state from the log', () => {
  let broker: BrokerHarness;

  beforeEach(async () => {
    broker = await BrokerHarness.create();
  });

  afterEach(() => broker.destroy());

  it('a restart keeps credentials, health, usage and the audit', async () => {
    // A backoff longer than any restart, so that the state compared across it cannot expire meanwhile.
    await broker.destroy();
    broker = await BrokerHarness.create({
      config: { pools: { 'gemini-cli/default': { health: { backoffBaseMs: 60_000 } } } },
    });
    const first = await broker.start();
    for (const id of ['r-a', 'r-b', 'r-c']) await addCredential(broker, id);
    const cooled = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
    await broker.report('bot', {
      leaseId: cooled.leaseId,
      outcome: 'failure',
      status: 429,
      retryAfterMs: 600_000,
    });
    const failing = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
    for (let i = 0; i < 3; i += 1) {
      await broker.report('bot', {
        leaseId: failing.leaseId,
        outcome: 'failure',
        status: 500,
        latencyMs: 10,
      });
    }
    const before = await broker.admin('credentials.list');

    expect((await first.stop()).code).toBe(0);
    broker.services.length = 0;
    await broker.start();

    expect((await broker.admin('credentials.list'))['credentials']).toEqual(before['credentials']);
    const health = (await broker.admin('credentials.get', { id: cooled.credentialId }))[
      'health'
    ] as { coolingUntil: string | null };
    expect(health.coolingUntil).not.toBeNull();
    const failed = await broker.admin('credentials.get', { id: failing.credentialId });
    expect((failed['health'] as { consecutiveFailures: number }).consecutiveFailures).toBe(3);
    // Usage counted before the stop was closed into the log on the way down.
    expect((failed['metrics'] as { failures: number; leases: number }).failures).toBe(3);
    expect((failed['metrics'] as { failures: number; leases: number }).leases).toBe(1);

    for (let i = 0; i < 3; i += 1) {
      expect(leaseOf(await broker.lease('gemini-cli', 'default', 'bot')).credentialId).not.toBe(
        cooled.credentialId,
      );
    }
    // A lease handed out before the restart can still be reported on.
    expect(await broker.report('bot', { leaseId: cooled.leaseId, outcome: 'success' })).toEqual({
      ok: true,
    });
    const audit = await broker.admin('audit.leases', { limit: 1000 });
    expect((audit['leases'] as unknown[]).length).toBe(5);
  });

  it('two replicas share health within a second', async () => {
    await broker.start();
    await broker.start();
    for (const id of ['s-a', 's-b']) await addCredential(broker, id);
    const lease = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
    await broker.report('bot', {
      leaseId: lease.leaseId,
      outcome: 'failure',
      status: 429,
      retryAfterMs: 60_000,
    });
    await sleep(1000);
    const holders: string[] = [];
    for (let i = 0; i < 30; i += 1)
      holders.push(leaseOf(await broker.lease('gemini-cli', 'default', 'bot')).credentialId);
    expect(holders).not.toContain(lease.credentialId);
    const audit = await broker.admin('audit.leases', { limit: 1000 });
    const replicas = new Set((audit['leases'] as { replica: string }[]).map((l) => l.replica));
    expect(replicas.size).toBe(2); // both replicas served, and neither handed out the cooled credential
  });

  it('revoking a credential stops its leases and notifies the clients holding them', async () => {
    await broker.start();
    await addCredential(broker, 'v-a');
    await addCredential(broker, 'v-b');
    const notices = broker.subscribe('notice.holder');
    const held: { leaseId: string; credentialId: string }[] = [];
    for (let i = 0; i < 4; i += 1)
      held.push(leaseOf(await broker.lease('gemini-cli', 'default', 'holder')));
    const revoked = await broker.admin('credentials.revoke', {
      id: 'v-a',
      reason: 'account closed',
    });
    expect((revoked['credential'] as { status: string }).status).toBe('revoked');

    const notice = (await notices.next()).json<{
      type: string;
      credentialId: string;
      leaseIds: string[];
      reason: string;
    }>();
    expect(notice.type).toBe('lease.revoked');
    expect(notice.credentialId).toBe('v-a');
    expect(notice.reason).toBe('account closed');
    expect(notice.leaseIds.sort()).toEqual(
      held
        .filter((l) => l.credentialId === 'v-a')
        .map((l) => l.leaseId)
        .sort(),
    );
    for (let i = 0; i < 4; i += 1)
      expect(leaseOf(await broker.lease('gemini-cli', 'default', 'holder')).credentialId).toBe(
        'v-b',
      );
    notices.subscription.unsubscribe();
  });

  it('imports a Gemini CLI oauth_creds.json and leases its token', async () => {
    await broker.start();
    const document = {
      access_token: 'ya29.imported-access',
      refresh_token: '1//imported-refresh',
      scope: 'https://www.googleapis.com/auth/cloud-platform openid',
      token_type: 'Bearer',
      expiry_date: Date.now() + 3_000_000,
    };
    const reply = await broker.admin('credentials.import', {
      id: 'work1',
      document: JSON.stringify(document),
    });
    expect(reply.error).toBeUndefined();
    const view = reply['credential'] as {
      provider: string;
      hasRefreshToken: boolean;
      scopes: string[];
      fingerprint: string;
    };
    expect(view.provider).toBe('gemini-cli');
    expect(view.hasRefreshToken).toBe(true);
    expect(view.scopes).toEqual(['https://www.googleapis.com/auth/cloud-platform', 'openid']);
    expect(JSON.stringify(reply)).not.toContain('imported');
    const lease = (await broker.lease('gemini-cli', 'default', 'bot'))['lease'] as {
      accessToken: string;
      scopes: string[];
    };
    expect(lease.accessToken).toBe('ya29.imported-access');

    // The log and the audit hold ciphertext and fingerprints, never the tokens.
    const db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    const dump = await db.query(
      `SELECT (SELECT json_agg(e)::text FROM events e) AS events, (SELECT json_agg(a)::text FROM lease_audit a) AS audit`,
    );
    await db.end();
    const text = JSON.stringify(dump.rows);
    expect(text).toContain('enc:v1:test:');
    expect(text).not.toContain('imported-access');
    expect(text).not.toContain('imported-refresh');
    for (const service of broker.services)
      expect(service.rawOutput.join('\n')).not.toContain('imported');
  });

  it('prunes lease audit rows older than audit.leaseRetentionDays, and only those', async () => {
    const dataSource = await createDataSource({ url: broker.databaseUrl }).initialize();
    await migrate(dataSource);
    const old = '11111111-1111-4111-8111-111111111111';
    await dataSource.query(
      `INSERT INTO lease_audit (lease_id, leased_at, client, provider, pool, credential_id, expires_at, selection, replica)
       VALUES ($1, now() - interval '3 days', 'bot', 'gemini-cli', 'default', 'gone', now() - interval '2 days', '{}', 'old')`,
      [old],
    );
    await dataSource.destroy();
    const dir = mkdtempSync(join(tmpdir(), 'broker-config-'));
    writeFileSync(join(dir, 'broker.yaml'), 'audit:\n  leaseRetentionDays: 2\n');
    await broker.start('token-service', { BROKER_CONFIG: join(dir, 'broker.yaml') });
    await addCredential(broker, 'kept');
    const fresh = leaseOf(await broker.lease('gemini-cli', 'default', 'bot'));
    await waitFor('the old audit row to be pruned', async () => {
      const rows = (await broker.admin('audit.leases', { limit: 100 }))['leases'] as {
        leaseId: string;
      }[];
      return !rows.some((r) => r.leaseId === old);
    });
    const rows = (await broker.admin('audit.leases', { limit: 100 }))['leases'] as {
      leaseId: string;
    }[];
    expect(rows.map((r) => r.leaseId)).toEqual([fresh.leaseId]);
  });

  it('refuses to start on an invalid BROKER_CONFIG, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broker-config-'));
    writeFileSync(
      join(dir, 'broker.json'),
      JSON.stringify({ pools: { 'gemini-cli/default': { selection: 'random' } } }),
    );
    const service = ServiceProcess.start('token-service', {
      ...broker.serviceEnv,
      BROKER_CONFIG: join(dir, 'broker.json'),
    });
    const exit = await service.exited;
    expect(exit.code).toBe(1);
    expect(service.rawOutput.join('\n')).toContain('pools.gemini-cli/default.selection');
  });

  it('the scheduler and alerting boot, connect and stop cleanly', async () => {
    const scheduler = await broker.start('refresh-scheduler');
    const alerting = await broker.start('alerting');
    expect(await scheduler.stop()).toEqual({ code: 0, signal: null });
    expect(await alerting.stop()).toEqual({ code: 0, signal: null });
    expect(scheduler.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
