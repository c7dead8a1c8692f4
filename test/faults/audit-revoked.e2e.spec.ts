import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDataSource, migrate } from '@broker/event-store';
import { addCredential, BrokerHarness, PG_HOST, PG_PORT, waitFor } from '@broker/testing';
import { assertInvariants, NatsTap } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const canary = (kind: string) => `canary-${kind}-${randomBytes(9).toString('hex')}`;

const asOwner = async (url: string, sql: string): Promise<void> => {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(sql);
  } finally {
    await db.end();
  }
};

/**
 * RELIABILITY scenario 24: the lease audit refuses inserts (permission revoked)
 * under load. The schema is migrated by its owner first; the token services
 * then run as a role of the test's own that was granted DML only, as an
 * application role should be, and the test revokes its INSERT on `lease_audit`.
 */
describe('faults - audit insert refused (permission revoked)', () => {
  const role = `broker_app_${randomBytes(4).toString('hex')}`;
  let broker: BrokerHarness;
  let load: LeaseLoad | undefined;

  afterAll(async () => {
    await load?.stop();
    await broker?.destroy();
    await asOwner(
      `postgres://postgres@${PG_HOST}:${PG_PORT}/postgres`,
      `DROP ROLE IF EXISTS ${role}`,
    );
  });

  it('refuses leases with INTERNAL while revoked, never an ok lease without its row, recovers when granted', async () => {
    broker = await BrokerHarness.create();
    const owner = await createDataSource({ url: broker.databaseUrl }).initialize();
    await migrate(owner);
    await owner.destroy();
    await asOwner(
      broker.databaseUrl,
      `CREATE ROLE ${role} LOGIN;
       GRANT USAGE ON SCHEMA public TO ${role};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role};
       GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role};`,
    );
    const url = new URL(broker.databaseUrl);
    url.username = role;
    const env = { DATABASE_URL: url.toString() };
    const services = [
      await broker.start('token-service', env),
      await broker.start('token-service', env),
    ];
    const db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    const sessions = await db.query<{ user: string }>(
      'SELECT DISTINCT usename AS user FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await db.end();
    expect(sessions.rows.map((r) => r.user)).toEqual([role]);
    const canaries: string[] = [];
    for (const id of ['a-1', 'a-2', 'a-3']) {
      const refreshToken = canary('refresh');
      canaries.push(refreshToken);
      expect((await addCredential(broker, id, { refreshToken })).ok).toBe(true);
    }
    const tap = new NatsTap(broker);
    load = new LeaseLoad(broker, { concurrency: 8 });
    await waitFor('leases to flow', () => Promise.resolve(load!.leases.length > 50));

    await asOwner(broker.databaseUrl, `REVOKE INSERT ON lease_audit FROM ${role}`);
    const revokedAt = Date.now();
    await waitFor('leases to be refused', () =>
      Promise.resolve(load!.errorReplies.filter((r) => r.error?.code === 'INTERNAL').length > 20),
    );
    await sleep(1000);
    const okWhileRevoked = load.leases.filter((l) => l.sentAt > revokedAt + 500).length;
    await asOwner(broker.databaseUrl, `GRANT INSERT ON lease_audit TO ${role}`);
    const grantedAt = Date.now();
    await waitFor('leases to flow again', () => Promise.resolve(load!.okSince(grantedAt) > 50));
    await load.stop();
    tap.close();
    const { leases, errorReplies } = load;
    load = undefined;

    expect(okWhileRevoked).toBe(0);
    expect(new Set(errorReplies.map((r) => r.error?.code))).toEqual(new Set(['INTERNAL']));
    expect(JSON.stringify(errorReplies)).not.toContain('permission denied');
    expect(services.every((s) => s.running)).toBe(true);
    await assertInvariants({ broker, services, leases, errorReplies, canaries, tap });
  }, 90_000);
});
