import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { addCredential, BrokerHarness, type ServiceProcess } from '@broker/testing';
import { assertInvariants, NatsTap } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const canary = (kind: string) => `canary-${kind}-${randomBytes(9).toString('hex')}`;

/** RELIABILITY fault 1: a token-service replica SIGKILLed under a steady lease load. */
describe('faults - token service SIGKILLed under load', () => {
  let broker: BrokerHarness;
  afterEach(() => broker.destroy());

  it('clients retry, the other replica serves, and every ok lease has its audit row', async () => {
    broker = await BrokerHarness.create();
    const services: ServiceProcess[] = [await broker.start(), await broker.start()];
    const [doomed, survivor] = services as [ServiceProcess, ServiceProcess];
    const canaries: string[] = [];
    for (const id of ['k-a', 'k-b', 'k-c']) {
      const refreshToken = canary('refresh');
      canaries.push(refreshToken);
      expect((await addCredential(broker, id, { refreshToken })).ok).toBe(true);
    }
    const tap = new NatsTap(broker);
    const load = new LeaseLoad(broker, { concurrency: 8, timeoutMs: 1000 });
    await sleep(2000);
    const beforeKill = load.leases.length;
    await doomed.stop('SIGKILL');
    const killedAt = Date.now();
    await sleep(4000);
    await load.stop();
    tap.close();

    expect(beforeKill).toBeGreaterThan(50);
    // The survivor went on serving: well over a hundred leases after the kill, and all from it.
    expect(load.okSince(killedAt + 1500)).toBeGreaterThan(100);
    const db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    const late = await db.query<{ replica: string }>(
      'SELECT DISTINCT replica FROM lease_audit WHERE lease_id = ANY($1::uuid[])',
      [load.leases.filter((l) => l.sentAt > killedAt + 100).map((l) => l.leaseId)],
    );
    await db.end();
    expect(late.rows.map((r) => r.replica)).toEqual(['token-service-2']);
    expect(survivor.child.exitCode).toBeNull();

    await assertInvariants({
      broker,
      services,
      leases: load.leases,
      errorReplies: load.errorReplies,
      canaries,
      tap,
    });
  }, 60_000);
});
