import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@broker/testing';
import { createDataSource, ensureDatabase, migrate } from './database.js';
import {
  auditPool,
  decodeAuditCursor,
  encodeAuditCursor,
  LeaseAuditReader,
  LeaseAuditWriter,
  type AuditCursor,
  type LeaseAuditRow,
} from './lease-audit.js';

// The `testTimeout` of the int project in jest.config.cjs is not applied per project.
jest.setTimeout(30_000);

let db: TestDatabase;

const waitUntil = async (done: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
};
let dataSource: DataSource;
let reader: LeaseAuditReader;

const lease = (over: Partial<LeaseAuditRow> = {}): LeaseAuditRow => ({
  leaseId: randomUUID(),
  client: 'client-a',
  provider: 'openai',
  pool: 'default',
  credentialId: 'cred-1',
  expiresAt: new Date(Date.now() + 60_000),
  model: null,
  selection: { strategy: 'least-loaded', candidates: 3, score: 0.25 },
  traceId: null,
  replica: 'replica-1',
  ...over,
});

/** Inserts a row with a chosen lease time, which the writer leaves to the database clock. */
const insertAt = async (row: LeaseAuditRow, leasedAt: Date): Promise<void> => {
  await dataSource.query(
    `INSERT INTO lease_audit (lease_id, leased_at, client, provider, pool, credential_id, expires_at,
                              model, selection, trace_id, replica)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      row.leaseId,
      leasedAt,
      row.client,
      row.provider,
      row.pool,
      row.credentialId,
      row.expiresAt,
      row.model,
      JSON.stringify(row.selection),
      row.traceId,
      row.replica,
    ],
  );
};

const countRows = async (where = 'true', params: unknown[] = []): Promise<number> => {
  const [row] = await dataSource.query<{ n: string }[]>(
    `SELECT count(*) AS n FROM lease_audit WHERE ${where}`,
    params,
  );
  return Number(row?.n ?? 0);
};

const isAuditInsert = (sql: unknown): boolean =>
  typeof sql === 'string' && sql.trimStart().startsWith('INSERT INTO lease_audit');

/** Rows in one insert: its parameter is the batch as a JSON array. */
const rowsOf = (params: unknown): number =>
  (JSON.parse((params as string[])[0] as string) as unknown[]).length;

beforeAll(async () => {
  db = await createTestDatabase('es_lease');
  await ensureDatabase(db.url);
  dataSource = createDataSource({ url: db.url });
  await dataSource.initialize();
  await migrate(dataSource);
  reader = new LeaseAuditReader(dataSource);
});

afterEach(() => {
  jest.restoreAllMocks();
});

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
});

describe('LeaseAuditWriter', () => {
  it('lease audit - 500 concurrent writes all resolve, all rows land, in few group commits', async () => {
    const query = jest.spyOn(dataSource, 'query');
    const writer = new LeaseAuditWriter(dataSource);
    const replica = `burst-${randomUUID()}`;
    const rows = Array.from({ length: 500 }, (_, i) =>
      lease({ replica, credentialId: `cred-${i % 7}`, traceId: `trace-${i}` }),
    );

    const durable = new Set<string>();
    await Promise.all(
      rows.map((row) => writer.write(row).then(() => void durable.add(row.leaseId))),
    );

    expect(durable.size).toBe(500);
    expect(writer.pending).toBe(0);
    expect(await countRows('replica = $1', [replica])).toBe(500);
    const ids = await dataSource.query<{ lease_id: string }[]>(
      `SELECT lease_id FROM lease_audit WHERE replica = $1`,
      [replica],
    );
    expect(new Set(ids.map((r) => r.lease_id))).toEqual(new Set(rows.map((r) => r.leaseId)));

    const inserts = query.mock.calls.filter(([sql]) => isAuditInsert(sql));
    expect(inserts.length).toBeGreaterThanOrEqual(1);
    expect(inserts.length).toBeLessThan(100);
    const rowsInserted = inserts.reduce((sum, [, params]) => sum + rowsOf(params), 0);
    expect(rowsInserted).toBe(500);
  });

  it('lease audit - a batch never exceeds maxBatch rows', async () => {
    const query = jest.spyOn(dataSource, 'query');
    const writer = new LeaseAuditWriter(dataSource, 50);
    const replica = `capped-${randomUUID()}`;
    await Promise.all(Array.from({ length: 300 }, () => writer.write(lease({ replica }))));

    const sizes = query.mock.calls
      .filter(([sql]) => isAuditInsert(sql))
      .map(([, params]) => rowsOf(params));
    expect(sizes.every((n) => n >= 1 && n <= 50)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300);
    expect(sizes.length).toBeGreaterThanOrEqual(6);
    expect(await countRows('replica = $1', [replica])).toBe(300);
  });

  it('lease audit - a row reads back as it was written', async () => {
    const writer = new LeaseAuditWriter(dataSource);
    const row = lease({
      model: 'gpt-x',
      traceId: 'trace-read-back',
      expiresAt: new Date('2031-05-06T07:08:09.123Z'),
      selection: { nested: { b: [1, 2], a: 'x' }, score: 1.5 },
    });
    await writer.write(row);

    const found = await reader.find(row.leaseId);
    expect(found).toEqual({ ...row, leasedAt: expect.any(Date) });
    expect(await reader.find(randomUUID())).toBeUndefined();
  });

  it('lease audit - when the insert fails every pending write rejects and none resolves', async () => {
    const bare = await createTestDatabase('es_lease_bare');
    const broken = createDataSource({ url: bare.url, poolSize: 2 });
    try {
      await broken.initialize(); // no migrations: there is no lease_audit table
      const writer = new LeaseAuditWriter(broken);
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, () => writer.write(lease())),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(0);
      expect(results).toHaveLength(200);
      for (const r of results) {
        expect(r.status === 'rejected' ? String(r.reason) : 'resolved').toMatch(
          /relation "lease_audit" does not exist/,
        );
      }
      expect(writer.pending).toBe(0);

      // The writer is not wedged by the failure: once the table exists it writes again.
      await migrate(broken);
      const row = lease();
      await writer.write(row);
      expect(await new LeaseAuditReader(broken).find(row.leaseId)).toMatchObject({
        leaseId: row.leaseId,
      });
    } finally {
      if (broken.isInitialized) await broken.destroy();
      await bare.drop();
    }
  });

  it('lease audit - a row Postgres refuses fails alone, not the rest of its batch', async () => {
    const writer = new LeaseAuditWriter(dataSource);
    const good = Array.from({ length: 20 }, () => lease());
    const bad = lease({ model: 'nul\u0000inside' });
    const results = await Promise.allSettled(
      [...good.slice(0, 10), bad, ...good.slice(10)].map((row) => writer.write(row)),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[10]?.status).toBe('rejected');
    for (const row of good) expect(await reader.find(row.leaseId)).toBeDefined();
    expect(await reader.find(bad.leaseId)).toBeUndefined();
  });

  it('lease audit - a failed batch rejects only its own rows; later batches still commit', async () => {
    const writer = new LeaseAuditWriter(dataSource);
    jest
      .spyOn(dataSource, 'query')
      .mockImplementationOnce(() => Promise.reject(new Error('disk full')));
    const doomed = lease();
    const first = writer.write(doomed); // starts a flush of its own at once
    const others = Array.from({ length: 9 }, () => lease());
    const later = others.map((row) => writer.write(row));

    await expect(first).rejects.toThrow('disk full');
    await expect(Promise.all(later)).resolves.toHaveLength(9);
    expect(await reader.find(doomed.leaseId)).toBeUndefined();
    for (const row of others) expect(await reader.find(row.leaseId)).toBeDefined();
  });
});

describe('auditPool', () => {
  it('lease audit - a writer on a pool of its own commits, survives a killed connection, and closes', async () => {
    const errors: string[] = [];
    const pool = auditPool(dataSource, (error) => errors.push(error.message));
    const writer = new LeaseAuditWriter(pool);
    const first = lease({ selection: { policy: 'round-robin', skipped: [{ reason: 'cooling' }] } });
    await writer.write(first);
    expect(await reader.find(first.leaseId)).toMatchObject({ selection: first.selection });

    // Postgres ends the writer's session (a restart looks the same to it): the next flush reconnects.
    const killed = await dataSource.query<unknown[]>(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'INSERT INTO lease_audit%'`,
    );
    expect(killed).toHaveLength(1);
    await waitUntil(() => errors.length > 0);
    expect(errors).toEqual([expect.stringMatching(/terminat/)]);
    const second = lease();
    await writer.write(second);
    expect(await reader.find(second.leaseId)).toBeDefined();

    await writer.close();
    expect(pool.ended).toBe(true);
  });
});

describe('LeaseAuditReader', () => {
  const t0 = new Date('2020-03-01T00:00:00.000Z');
  const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
  const credential = `cred-search-${randomUUID()}`;
  const fixtures: { row: LeaseAuditRow; leasedAt: Date }[] = [];

  beforeAll(async () => {
    const plan: [number, string, string][] = [
      [0, credential, 'alice'],
      [1, credential, 'bob'],
      [2, credential, 'alice'],
      [3, 'cred-other', 'alice'],
      [4, credential, 'bob'],
      [5, credential, 'alice'],
    ];
    for (const [minute, credentialId, client] of plan) {
      const row = lease({ credentialId, client, expiresAt: at(minute + 10) });
      await insertAt(row, at(minute));
      fixtures.push({ row, leasedAt: at(minute) });
    }
  });

  const idsAt = (...minutes: number[]) =>
    minutes.map((m) => fixtures.find((f) => f.leasedAt.getTime() === at(m).getTime())?.row.leaseId);

  it('lease audit - search by credential returns its leases in lease-time order', async () => {
    const found = await reader.search({ credentialId: credential, limit: 100 });
    expect(found.map((l) => l.leaseId)).toEqual(idsAt(0, 1, 2, 4, 5));
    expect(found[0]?.leasedAt).toEqual(at(0));
  });

  it('lease audit - search by client and by credential and client together', async () => {
    const alice = await reader.search({ client: 'alice', limit: 100 });
    expect(alice.map((l) => l.leaseId)).toEqual(idsAt(0, 2, 3, 5));
    const both = await reader.search({ credentialId: credential, client: 'alice', limit: 100 });
    expect(both.map((l) => l.leaseId)).toEqual(idsAt(0, 2, 5));
  });

  it('lease audit - search from is inclusive and to is exclusive', async () => {
    const window = await reader.search({
      credentialId: credential,
      from: at(1),
      to: at(4),
      limit: 100,
    });
    expect(window.map((l) => l.leaseId)).toEqual(idsAt(1, 2));
    const fromOnly = await reader.search({ credentialId: credential, from: at(4), limit: 100 });
    expect(fromOnly.map((l) => l.leaseId)).toEqual(idsAt(4, 5));
    const toOnly = await reader.search({ client: 'bob', to: at(4), limit: 100 });
    expect(toOnly.map((l) => l.leaseId)).toEqual(idsAt(1));
  });

  it('lease audit - search honours the limit, oldest first', async () => {
    const two = await reader.search({ credentialId: credential, limit: 2 });
    expect(two.map((l) => l.leaseId)).toEqual(idsAt(0, 1));
    // Without filters the oldest rows in the table come first.
    const any = await reader.search({ limit: 3 });
    expect(any.map((l) => l.leaseId)).toEqual(idsAt(0, 1, 2));
    expect(await reader.search({ client: 'nobody', limit: 10 })).toEqual([]);
  });

  it('lease audit - pages follow each other exactly, even within one millisecond and one group commit', async () => {
    const client = `pager-${randomUUID().slice(0, 8)}`;
    const rows = Array.from({ length: 7 }, () => lease({ client }));
    // Three leases in one group commit (same time), two a microsecond apart, two later.
    const base = '2099-06-01T10:00:00.123'; // future: prune below keeps them
    const times = ['456', '456', '456', '457', '458', '999', '999'];
    for (const [i, row] of rows.entries()) {
      await dataSource.query(
        `INSERT INTO lease_audit (lease_id, leased_at, client, provider, pool, credential_id, expires_at, selection, replica)
         VALUES ($1, $2::timestamptz, $3, 'openai', 'default', 'cred-1', now(), '{}', 'r')`,
        [row.leaseId, `${base}${times[i] ?? ''}Z`, client],
      );
    }
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: { leases: { leaseId: string }[]; next: string | null } = await reader.searchPage({
        client,
        limit: 2,
        ...(after === null ? {} : { after: decodeAuditCursor(after) as AuditCursor }),
      });
      seen.push(...page.leases.map((l) => l.leaseId));
      after = page.next;
      pages += 1;
    } while (after !== null);
    expect(pages).toBe(4);
    expect(seen).toEqual((await reader.search({ client, limit: 100 })).map((l) => l.leaseId));
    expect(new Set(seen).size).toBe(7);
    const exact = await reader.searchPage({ client, limit: 7 });
    expect(exact.next).toBeNull();
    expect(exact.leases).toHaveLength(7);
  });

  it('lease audit - a cursor is refused unless it is one a page gave', () => {
    const cursor = { leasedAt: '2021-06-01T10:00:00.123456Z', leaseId: randomUUID() };
    expect(decodeAuditCursor(encodeAuditCursor(cursor))).toEqual(cursor);
    expect(decodeAuditCursor('not-a-cursor')).toBeNull();
    expect(decodeAuditCursor(Buffer.from("2021-06-01|x'; DROP").toString('base64url'))).toBeNull();
  });

  it('lease audit - live returns only the credential’s leases that have not ended, oldest first', async () => {
    const credentialId = `cred-live-${randomUUID()}`;
    const now = Date.now();
    const ended = lease({ credentialId, expiresAt: new Date(now - 60_000) });
    const first = lease({ credentialId, expiresAt: new Date(now + 3_600_000) });
    const second = lease({ credentialId, expiresAt: new Date(now + 60_000) });
    const elsewhere = lease({
      credentialId: `${credentialId}-x`,
      expiresAt: new Date(now + 60_000),
    });
    await insertAt(ended, new Date(now - 120_000));
    await insertAt(first, new Date(now - 90_000));
    await insertAt(second, new Date(now - 30_000));
    await insertAt(elsewhere, new Date(now - 30_000));

    const live = await reader.live(credentialId);
    expect(live.map((l) => l.leaseId)).toEqual([first.leaseId, second.leaseId]);
    expect(live[0]).toMatchObject({ credentialId, expiresAt: first.expiresAt });
    expect(await reader.live(`cred-none-${randomUUID()}`)).toEqual([]);
  });

  it('lease audit - prune deletes rows older than the cut-off and says how many', async () => {
    const before = await countRows();
    expect(await reader.prune(at(2))).toBe(2);
    expect(await countRows()).toBe(before - 2);
    expect(await reader.find(idsAt(0)[0] as string)).toBeUndefined();
    expect(await reader.find(idsAt(1)[0] as string)).toBeUndefined();
    expect(await reader.find(idsAt(2)[0] as string)).toBeDefined();
    expect(await reader.prune(at(2))).toBe(0);
    // Recent rows (written by the writer at the database clock) are kept.
    expect(await reader.prune(new Date(Date.now() - 3_600_000))).toBe(4);
    expect(await countRows('leased_at >= $1', [new Date(Date.now() - 3_600_000)])).toBe(
      await countRows(),
    );
  });
});
