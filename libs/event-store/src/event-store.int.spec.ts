import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@broker/testing';
import { createDataSource, ensureDatabase, migrate } from './database.js';
import { ExpectedVersionConflictError } from './errors.js';
import { PostgresEventStore } from './event-store.js';
import { chainHash } from './hash-chain.js';
import { PostgresLogFollower } from './log-follower.js';
import { migrations } from './migrations/index.js';
import {
  checkpointOf,
  LOG_START,
  type LogCheckpoint,
  type NewEvent,
  type StoredEvent,
} from './types.js';
import { verifyChain } from './verify-chain.js';

// The `testTimeout` of the int project in jest.config.cjs is not applied per project.
jest.setTimeout(45_000);

const MIGRATIONS = migrations.map((m) => new m().name);

let db: TestDatabase;
let dataSource: DataSource;
let store: PostgresEventStore;
let firstMigration: string[];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns a value, or fails after the deadline. */
const until = async <T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
};

const event = (type: string, data: unknown = {}): NewEvent => ({
  type,
  data,
  metadata: { traceId: randomUUID(), actor: 'test' },
});

const connect = async (): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: db.url, application_name: 'es-test-raw' });
  await client.connect();
  return client;
};

/** Every committed event the store lets a reader see after `from`, batch by batch. */
const readAllFrom = async (from: LogCheckpoint, batchSize = 500): Promise<StoredEvent[]> => {
  const out: StoredEvent[] = [];
  let checkpoint = from;
  for (;;) {
    const batch = await store.readAll(checkpoint, batchSize);
    if (batch.length === 0) return out;
    out.push(...batch);
    checkpoint = checkpointOf(batch[batch.length - 1] as StoredEvent);
  }
};

/**
 * Every event in the table, read through the store. Readers wait for every transaction
 * on the cluster that is older than the newest event, so this polls until all are visible.
 */
const readEverything = async (): Promise<StoredEvent[]> => {
  const total = await countEvents();
  return until(`all ${total} events to be readable`, async () => {
    const events = await readAllFrom(LOG_START);
    return events.length >= total ? events : undefined;
  });
};

/** The checkpoint after the last committed row, straight from the table (no visibility rule). */
const tail = async (): Promise<LogCheckpoint> => {
  const [row] = await dataSource.query<{ tx: string; position: string }[]>(
    `SELECT transaction_id::text AS tx, global_position AS position FROM events
     ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
  );
  return row === undefined
    ? LOG_START
    : { transactionId: row.tx, globalPosition: Number(row.position) };
};

const countEvents = async (where = 'true', params: unknown[] = []): Promise<number> => {
  const [row] = await dataSource.query<{ n: string }[]>(
    `SELECT count(*) AS n FROM events WHERE ${where}`,
    params,
  );
  return Number(row?.n ?? 0);
};

/** Inserts one event the way `append` does, inside the caller's open transaction. */
const insertRaw = async (
  client: pg.Client,
  streamId: string,
  streamVersion = 1,
  previousHash = '',
): Promise<{ eventId: string; globalPosition: number; transactionId: string }> => {
  const fields = {
    eventId: randomUUID(),
    streamId,
    streamVersion,
    type: 'RawInserted',
    data: { by: 'raw client' },
    metadata: { actor: 'test' },
    recordedAt: new Date(Math.floor(Date.now())),
  };
  const hash = chainHash(previousHash, fields);
  const result = await client.query<{ global_position: string; tx: string }>(
    `INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata, recorded_at, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING global_position, transaction_id::text AS tx`,
    [
      fields.eventId,
      streamId,
      streamVersion,
      fields.type,
      JSON.stringify(fields.data),
      JSON.stringify(fields.metadata),
      fields.recordedAt,
      hash,
    ],
  );
  const row = result.rows[0];
  if (row === undefined) throw new Error('insert returned no row');
  return {
    eventId: fields.eventId,
    globalPosition: Number(row.global_position),
    transactionId: row.tx,
  };
};

/** Runs `work` in a transaction on a raw client, always ending the transaction and the client. */
const withOpenTransaction = async (
  work: (client: pg.Client, finish: (how: 'COMMIT' | 'ROLLBACK') => Promise<void>) => Promise<void>,
): Promise<void> => {
  const client = await connect();
  let open = false;
  try {
    await client.query('BEGIN');
    open = true;
    await work(client, async (how) => {
      open = false;
      await client.query(how);
    });
  } finally {
    if (open) await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
};

beforeAll(async () => {
  db = await createTestDatabase('es_store');
  await ensureDatabase(db.url);
  dataSource = createDataSource({ url: db.url, poolSize: 20 });
  await dataSource.initialize();
  firstMigration = await migrate(dataSource);
  store = new PostgresEventStore(dataSource);
});

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
});

it('event store - migrations apply to a fresh database and a second migrate applies nothing', async () => {
  expect(firstMigration).toEqual(MIGRATIONS);
  expect(await migrate(dataSource)).toEqual([]);
  const tables = await dataSource.query<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = current_schema() ORDER BY table_name`,
  );
  expect(tables.map((t) => t.table_name)).toEqual([
    'events',
    'leader_leases',
    'lease_audit',
    'refresh_locks',
    'relay_checkpoints',
    'schema_migrations',
    'snapshots',
    'webhook_deliveries',
  ]);
  const recorded = await dataSource.query<{ name: string }[]>(
    `SELECT name FROM schema_migrations ORDER BY id`,
  );
  expect(recorded.map((r) => r.name)).toEqual(MIGRATIONS);
});

it('event store - two replicas migrating a fresh database together apply each migration once', async () => {
  const fresh = await createTestDatabase('es_migrate');
  const sources = [
    createDataSource({ url: fresh.url, poolSize: 3 }),
    createDataSource({ url: fresh.url, poolSize: 3 }),
  ];
  try {
    await ensureDatabase(fresh.url);
    await Promise.all(sources.map((s) => s.initialize()));
    const results = await Promise.all(sources.map((s) => migrate(s)));
    expect(results.flat().sort()).toEqual([...MIGRATIONS].sort());
    expect(results.map((r) => r.length).sort()).toEqual([0, MIGRATIONS.length]);
  } finally {
    for (const s of sources) if (s.isInitialized) await s.destroy();
    await fresh.drop();
  }
});

it('event store - ensureDatabase leaves an existing database alone', async () => {
  await ensureDatabase(db.url);
  expect(await migrate(dataSource)).toEqual([]);
});

it('event store - append to a new stream with expected version 0 gives versions 1..n, chained', async () => {
  const streamId = `credential-${randomUUID()}`;
  const [before] = await dataSource.query<{ now: Date }[]>(
    `SELECT date_trunc('milliseconds', now()) AS now`,
  );
  const stored = await store.append(streamId, 0, [
    event('CredentialImported', { provider: 'p', nested: { b: 1, a: [1, 2] } }),
    event('CredentialActivated'),
    event('CredentialCooledDown', { untilMs: 1234 }),
  ]);
  const [after] = await dataSource.query<{ now: Date }[]>(`SELECT now() AS now`);

  expect(stored.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
  expect(stored.map((e) => e.type)).toEqual([
    'CredentialImported',
    'CredentialActivated',
    'CredentialCooledDown',
  ]);
  expect(stored.every((e) => e.streamId === streamId)).toBe(true);
  expect(new Set(stored.map((e) => e.eventId)).size).toBe(3);
  // Positions rise with versions; one transaction wrote them all.
  const positions = stored.map((e) => e.globalPosition);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  expect(new Set(stored.map((e) => e.transactionId)).size).toBe(1);
  // recordedAt is the database clock, the same for the whole append.
  const recordedAt = stored[0]?.recordedAt as Date;
  expect(recordedAt).toBeInstanceOf(Date);
  expect(stored.every((e) => e.recordedAt.getTime() === recordedAt.getTime())).toBe(true);
  expect(recordedAt.getTime()).toBeGreaterThanOrEqual((before?.now as Date).getTime());
  expect(recordedAt.getTime()).toBeLessThanOrEqual((after?.now as Date).getTime());
  // Hashes chain from '' through each event.
  let previous = '';
  for (const e of stored) {
    expect(e.hash).toBe(chainHash(previous, e));
    previous = e.hash;
  }

  const read = await store.readStream(streamId);
  expect(read).toEqual(stored);
  expect(await store.readStream(streamId, 1)).toEqual(stored.slice(1));
  expect(await store.streamVersion(streamId)).toBe(3);

  // A second append continues the chain from the last hash.
  const more = await store.append(streamId, 3, [event('CredentialRecovered')]);
  expect(more.map((e) => e.streamVersion)).toEqual([4]);
  expect(more[0]?.hash).toBe(chainHash(stored[2]?.hash as string, more[0] as StoredEvent));
  expect(verifyChain(await store.readStream(streamId))).toEqual({
    ok: true,
    events: 4,
    streams: 1,
  });
});

it('event store - appending nothing writes nothing', async () => {
  const streamId = `empty-${randomUUID()}`;
  expect(await store.append(streamId, 0, [])).toEqual([]);
  expect(await store.streamVersion(streamId)).toBe(0);
  expect(await store.readStream(streamId)).toEqual([]);
});

it('event store - append with a stale expected version throws a conflict naming stream and versions', async () => {
  const streamId = `stale-${randomUUID()}`;
  await store.append(streamId, 0, [event('A'), event('B')]);

  const stale = store.append(streamId, 1, [event('C')]);
  await expect(stale).rejects.toBeInstanceOf(ExpectedVersionConflictError);
  await expect(stale).rejects.toMatchObject({ streamId, expectedVersion: 1, actualVersion: 2 });
  await expect(stale).rejects.toThrow(
    `stream '${streamId}' is at version 2, the append expected 1`,
  );
  await expect(store.append(streamId, 0, [event('C')])).rejects.toMatchObject({
    name: 'ExpectedVersionConflictError',
    expectedVersion: 0,
    actualVersion: 2,
  });
  await expect(store.append(streamId, 5, [event('C')])).rejects.toMatchObject({
    expectedVersion: 5,
    actualVersion: 2,
  });
  expect(await store.streamVersion(streamId)).toBe(2);

  const anyway = await store.append(streamId, 'any', [event('C')]);
  expect(anyway.map((e) => e.streamVersion)).toEqual([3]);
  expect(verifyChain(await store.readStream(streamId)).ok).toBe(true);

  const fresh = await store.append(`any-${randomUUID()}`, 'any', [event('X')]);
  expect(fresh.map((e) => e.streamVersion)).toEqual([1]);
});

it('event store - of two concurrent appends with the same expected version exactly one succeeds', async () => {
  for (let round = 0; round < 10; round += 1) {
    const streamId = `race-${round}-${randomUUID()}`;
    const expected = round % 2 === 0 ? 0 : 1;
    if (expected === 1) await store.append(streamId, 0, [event('Seed')]);

    const results = await Promise.allSettled([
      store.append(streamId, expected, [event('Left'), event('Left2')]),
      store.append(streamId, expected, [event('Right')]),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(ExpectedVersionConflictError);
    const winner = (won[0] as PromiseFulfilledResult<StoredEvent[]>).value;
    expect(lost[0]?.reason).toMatchObject({
      streamId,
      expectedVersion: expected,
      actualVersion: expected + winner.length,
    });
    const read = await store.readStream(streamId);
    expect(read.map((e) => e.eventId)).toEqual([
      ...(expected === 1 ? [read[0]?.eventId] : []),
      ...winner.map((e) => e.eventId),
    ]);
    expect(verifyChain(read).ok).toBe(true);
  }
});

it('event store - UPDATE, DELETE and TRUNCATE on events are refused', async () => {
  const streamId = `locked-${randomUUID()}`;
  const [stored] = await store.append(streamId, 0, [event('Locked', { v: 1 })]);
  const id = (stored as StoredEvent).eventId;

  await expect(
    dataSource.query(`UPDATE events SET data = '{"v":2}' WHERE event_id = $1`, [id]),
  ).rejects.toThrow(/append-only: UPDATE refused/);
  await expect(dataSource.query(`DELETE FROM events WHERE event_id = $1`, [id])).rejects.toThrow(
    /append-only: DELETE refused/,
  );
  await expect(dataSource.query(`TRUNCATE events`)).rejects.toThrow(
    /append-only: TRUNCATE refused/,
  );

  expect(await store.readStream(streamId)).toEqual([stored]);
  expect(await countEvents()).toBeGreaterThan(0);
});

describe('reading in commit order', () => {
  it('event store - a reader never skips a transaction that took a lower position and commits late', async () => {
    const before = await tail();
    const streamA = `slow-${randomUUID()}`;
    const streamB = `fast-${randomUUID()}`;
    let slow: { eventId: string; globalPosition: number; transactionId: string } | undefined;
    let fast: StoredEvent | undefined;

    await withOpenTransaction(async (client, finish) => {
      slow = await insertRaw(client, streamA);
      [fast] = await store.append(streamB, 0, [event('Fast')]);
      expect(fast?.globalPosition).toBeGreaterThan(slow.globalPosition);

      // B is committed and in the table, but A is older and still running: B must wait.
      expect(await countEvents('event_id = $1', [fast?.eventId])).toBe(1);
      const whileOpen = await readAllFrom(before);
      expect(whileOpen.map((e) => e.eventId)).not.toContain(fast?.eventId);
      expect(whileOpen.map((e) => e.eventId)).not.toContain(slow.eventId);
      expect(await readAllFrom(LOG_START)).not.toContainEqual(
        expect.objectContaining({ eventId: fast?.eventId }),
      );

      await finish('COMMIT');
    });

    const read = await until('both events readable', async () => {
      const events = await readAllFrom(before);
      return events.length >= 2 ? events : undefined;
    });
    expect(read.map((e) => e.eventId)).toEqual([slow?.eventId, fast?.eventId]);
  });

  it('event store - a transaction that took its id first but its position last is read first', async () => {
    const before = await tail();
    let slow: { eventId: string; globalPosition: number; transactionId: string } | undefined;
    let fast: StoredEvent | undefined;

    await withOpenTransaction(async (client, finish) => {
      await client.query('SELECT pg_current_xact_id()');
      [fast] = await store.append(`fast-${randomUUID()}`, 0, [event('Fast')]);
      expect((await readAllFrom(before)).map((e) => e.eventId)).not.toContain(fast?.eventId);
      slow = await insertRaw(client, `slow-${randomUUID()}`);
      expect(slow.globalPosition).toBeGreaterThan(fast?.globalPosition as number);
      expect(BigInt(slow.transactionId)).toBeLessThan(BigInt(fast?.transactionId as string));
      expect((await readAllFrom(before)).map((e) => e.eventId)).toEqual([]);
      await finish('COMMIT');
    });

    const read = await until('both events readable', async () => {
      const events = await readAllFrom(before);
      return events.length >= 2 ? events : undefined;
    });
    expect(read.map((e) => e.eventId)).toEqual([slow?.eventId, fast?.eventId]);
  });

  it('event store - a transaction that begins before a fast one but writes after it is read after it', async () => {
    const before = await tail();
    let fast: StoredEvent | undefined;
    let slow: { eventId: string; globalPosition: number; transactionId: string } | undefined;
    let afterFast: LogCheckpoint = before;

    await withOpenTransaction(async (client, finish) => {
      // BEGIN alone takes no transaction id: the fast append is not held back by it.
      [fast] = await store.append(`fast-${randomUUID()}`, 0, [event('Fast')]);
      const seen = await until('the fast event', async () => {
        const events = await readAllFrom(before);
        return events.length > 0 ? events : undefined;
      });
      expect(seen.map((e) => e.eventId)).toEqual([fast?.eventId]);
      afterFast = checkpointOf(seen[0] as StoredEvent);

      slow = await insertRaw(client, `slow-${randomUUID()}`);
      await finish('COMMIT');
    });

    const read = await until('the slow event', async () => {
      const events = await readAllFrom(afterFast);
      return events.length > 0 ? events : undefined;
    });
    expect(read.map((e) => e.eventId)).toEqual([slow?.eventId]);
  });

  it('event store - a rolled-back transaction holds readers back only while it runs', async () => {
    const before = await tail();
    let fast: StoredEvent | undefined;
    let rolledBack: { eventId: string } | undefined;

    await withOpenTransaction(async (client, finish) => {
      rolledBack = await insertRaw(client, `doomed-${randomUUID()}`);
      [fast] = await store.append(`fast-${randomUUID()}`, 0, [event('Fast')]);
      expect((await readAllFrom(before)).map((e) => e.eventId)).toEqual([]);
      await finish('ROLLBACK');
    });

    const read = await until('the fast event', async () => {
      const events = await readAllFrom(before);
      return events.length > 0 ? events : undefined;
    });
    expect(read.map((e) => e.eventId)).toEqual([fast?.eventId]);
    expect(await countEvents('event_id = $1', [rolledBack?.eventId])).toBe(0);
  });

  it('event store - a reader following 8 concurrent writers and rollbacks sees every committed event exactly once', async () => {
    const start = await tail();
    const run = randomUUID().slice(0, 8);
    const WRITERS = 8;
    const APPENDS = 50;
    let writing = true;

    const writer = async (w: number): Promise<void> => {
      const streamId = `load-${run}-${w}`;
      let version = 0;
      for (let i = 0; i < APPENDS; i += 1) {
        const batch = i % 5 === 0 ? [event('Tick', { i }), event('Tock', { i })] : [event('Tick')];
        const stored = await store.append(streamId, version, batch);
        version += stored.length;
        await sleep(Math.floor(Math.random() * 4));
      }
    };

    let rollbacks = 0;
    const roller = async (): Promise<void> => {
      for (let i = 0; i < 15; i += 1) {
        await withOpenTransaction(async (client, finish) => {
          await insertRaw(client, `load-${run}-doomed-${i}`);
          await sleep(Math.floor(Math.random() * 15));
          await finish('ROLLBACK');
          rollbacks += 1;
        });
        await sleep(Math.floor(Math.random() * 5));
      }
    };

    const seen: StoredEvent[] = [];
    let batches = 0;
    const reader = async (): Promise<void> => {
      let checkpoint = start;
      const deadline = Date.now() + 25_000;
      for (;;) {
        const batch = await store.readAll(checkpoint, 37);
        if (batch.length > 0) {
          batches += 1;
          seen.push(...batch);
          checkpoint = checkpointOf(batch[batch.length - 1] as StoredEvent);
          continue;
        }
        if (!writing) {
          const committed = await countEvents('stream_id LIKE $1', [`load-${run}-%`]);
          if (seen.length >= committed) return;
        }
        if (Date.now() > deadline) throw new Error(`reader stuck after ${seen.length} events`);
        await sleep(2);
      }
    };

    const reading = reader();
    await Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(w)), roller()]);
    writing = false;
    await reading;

    const committed = await dataSource.query<{ event_id: string }[]>(
      `SELECT event_id FROM events WHERE stream_id LIKE $1`,
      [`load-${run}-%`],
    );
    const perWriter = APPENDS + APPENDS / 5;
    expect(committed).toHaveLength(WRITERS * perWriter);
    expect(rollbacks).toBe(15);

    const seenIds = seen.map((e) => e.eventId);
    expect(new Set(seenIds).size).toBe(seenIds.length); // no duplicate
    expect(new Set(seenIds)).toEqual(new Set(committed.map((r) => r.event_id))); // no skip, nothing else
    expect(batches).toBeGreaterThan(1);

    // Commit order keeps every stream's versions in order.
    for (let w = 0; w < WRITERS; w += 1) {
      const versions = seen
        .filter((e) => e.streamId === `load-${run}-${w}`)
        .map((e) => e.streamVersion);
      expect(versions).toEqual(Array.from({ length: perWriter }, (_, i) => i + 1));
    }
    // And the reader's order is (transaction id, position), never going back.
    for (let i = 1; i < seen.length; i += 1) {
      const a = seen[i - 1] as StoredEvent;
      const b = seen[i] as StoredEvent;
      const ordered =
        BigInt(a.transactionId) < BigInt(b.transactionId) ||
        (a.transactionId === b.transactionId && a.globalPosition < b.globalPosition);
      expect(ordered).toBe(true);
    }
  });
});

describe('PostgresLogFollower', () => {
  it('log follower - delivers appended events in order, woken by NOTIFY, and stops', async () => {
    const streamId = `follow-${randomUUID()}`;
    const received: StoredEvent[] = [];
    const errors: unknown[] = [];
    // A poll far beyond the test's deadline: only a NOTIFY can poke the follower in time.
    const follower = new PostgresLogFollower(store, {
      listenUrl: db.url,
      pollIntervalMs: 60_000,
      onError: (error) => errors.push(error),
    });
    const poke = jest.spyOn(follower, 'poke');
    const start = await tail();
    try {
      await follower.start(start, (batch) => {
        received.push(...batch);
      });
      expect(received).toEqual([]);
      // Wait until LISTEN is in place (the follower pokes once when it is).
      await until('the follower to listen', () => (poke.mock.calls.length > 0 ? true : undefined));
      const pokesBefore = poke.mock.calls.length;

      const first = await store.append(streamId, 0, [event('One'), event('Two')]);
      const second = await store.append(streamId, 2, [event('Three')]);
      const all = [...first, ...second];
      // The appends' NOTIFY pokes the follower (its poll is a minute away).
      await until('a NOTIFY to poke the follower', () =>
        poke.mock.calls.length > pokesBefore ? true : undefined,
      );
      // The woken read can come up short while an older transaction anywhere on the cluster
      // is still running (readers wait for it); poking again stands in for the next poll.
      await until('the follower to see three events', () => {
        if (received.length >= 3) return true;
        follower.poke();
        return undefined;
      });
      expect(received.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
      expect(follower.checkpoint).toEqual(checkpointOf(all[2] as StoredEvent));
    } finally {
      await follower.stop();
    }
    expect(errors).toEqual([]);

    // Stopped means stopped: a later append is not delivered.
    await store.append(streamId, 3, [event('Four')]);
    follower.poke();
    await sleep(150);
    expect(received).toHaveLength(3);
  });

  it('log follower - catches up from a checkpoint in batches, then polls without LISTEN', async () => {
    const streamId = `catchup-${randomUUID()}`;
    const start = await tail();
    const existing = await store.append(
      streamId,
      0,
      Array.from({ length: 5 }, (_, i) => event('Old', { i })),
    );
    await until('the existing events to be readable', async () =>
      (await readAllFrom(start)).length >= 5 ? true : undefined,
    );

    const batches: string[][] = [];
    const follower = new PostgresLogFollower(store, { pollIntervalMs: 25, batchSize: 2 });
    try {
      await follower.start(start, (batch) => {
        batches.push(batch.map((e) => e.eventId));
      });
      // start() resolves after the catch-up.
      expect(batches.flat()).toEqual(existing.map((e) => e.eventId));
      expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);

      const later = await store.append(streamId, 5, [event('New')]);
      await until('the poll to deliver the new event', () =>
        batches.flat().length >= 6 ? true : undefined,
      );
      expect(batches.flat()).toEqual([...existing, ...later].map((e) => e.eventId));
    } finally {
      await follower.stop();
    }
  });

  it('log follower - a failing handler is reported and the batch is offered again', async () => {
    const streamId = `retry-${randomUUID()}`;
    const errors: unknown[] = [];
    const attempts: string[][] = [];
    const follower = new PostgresLogFollower(store, {
      pollIntervalMs: 25,
      onError: (error) => errors.push(error),
    });
    const start = await tail();
    try {
      await follower.start(start, (batch) => {
        attempts.push(batch.map((e) => e.eventId));
        if (attempts.length === 1) throw new Error('projection failed');
      });
      const [stored] = await store.append(streamId, 0, [event('Once')]);
      await until('a second attempt', () => (attempts.length >= 2 ? true : undefined));
      expect(errors).toEqual([new Error('projection failed')]);
      expect(attempts[0]).toEqual([stored?.eventId]);
      expect(attempts[1]).toEqual([stored?.eventId]);
      expect(follower.checkpoint).toEqual(checkpointOf(stored as StoredEvent));
    } finally {
      await follower.stop();
    }
  });
});

describe('hash chain verification', () => {
  it('event store - verifyChain accepts everything read back', async () => {
    const total = await countEvents();
    const all = await readEverything();
    expect(all).toHaveLength(total);
    const streams = new Set(all.map((e) => e.streamId)).size;
    expect(verifyChain(all)).toEqual({ ok: true, events: total, streams });
    // Order does not matter to the verifier.
    expect(verifyChain([...all].reverse())).toEqual({ ok: true, events: total, streams });
  });

  /** Runs statements as a plain superuser with the append-only trigger switched off, as an attacker would. */
  const tamper = async (sql: string, params: unknown[]): Promise<void> => {
    await withOpenTransaction(async (client, finish) => {
      await client.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
      const result = await client.query(sql, params);
      expect(result.rowCount).toBe(1);
      await client.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
      await finish('COMMIT');
    });
  };

  it('event store - verifyChain names exactly the event whose data was changed', async () => {
    const streamId = `tamper-${randomUUID()}`;
    const stored = await store.append(
      streamId,
      0,
      Array.from({ length: 4 }, (_, i) => event('Granted', { amount: i })),
    );
    const victim = stored[1] as StoredEvent;
    expect(verifyChain(await store.readStream(streamId)).ok).toBe(true);

    await tamper(`UPDATE events SET data = '{"amount": 1000}' WHERE event_id = $1`, [
      victim.eventId,
    ]);
    // The trigger is back on.
    await expect(
      dataSource.query(`UPDATE events SET type = 'X' WHERE event_id = $1`, [victim.eventId]),
    ).rejects.toThrow(/append-only/);

    const verdict = verifyChain(await store.readStream(streamId));
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.event.eventId).toBe(victim.eventId);
    expect(verdict.event.data).toEqual({ amount: 1000 });
    expect(verdict.problem).toMatch(/hash/);

    // Among every event in the log, it is still the one named.
    const overall = verifyChain(await readEverything());
    expect(overall.ok ? undefined : overall.event.eventId).toBe(victim.eventId);
  });

  it('event store - verifyChain detects a deleted middle event as a stream version gap', async () => {
    const streamId = `gap-${randomUUID()}`;
    const stored = await store.append(
      streamId,
      0,
      Array.from({ length: 4 }, (_, i) => event('Granted', { amount: i })),
    );
    await tamper(`DELETE FROM events WHERE event_id = $1`, [(stored[1] as StoredEvent).eventId]);

    const read = await store.readStream(streamId);
    expect(read.map((e) => e.streamVersion)).toEqual([1, 3, 4]);
    const verdict = verifyChain(read);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.event.eventId).toBe((stored[2] as StoredEvent).eventId);
    expect(verdict.problem).toBe('stream version 3 where 2 was expected');
  });

  it('event store - verifyChain detects a rewritten hash and a deleted first event', async () => {
    const streamId = `rehash-${randomUUID()}`;
    const stored = await store.append(streamId, 0, [event('A'), event('B'), event('C')]);
    await tamper(`UPDATE events SET hash = $2 WHERE event_id = $1`, [
      (stored[0] as StoredEvent).eventId,
      'f'.repeat(64),
    ]);
    const verdict = verifyChain(await store.readStream(streamId));
    expect(verdict.ok ? undefined : verdict.event.eventId).toBe(stored[0]?.eventId);

    const headless = `headless-${randomUUID()}`;
    const more = await store.append(headless, 0, [event('A'), event('B')]);
    await tamper(`DELETE FROM events WHERE event_id = $1`, [(more[0] as StoredEvent).eventId]);
    const gap = verifyChain(await store.readStream(headless));
    expect(gap.ok ? undefined : gap.event.eventId).toBe(more[1]?.eventId);
  });
});

it('event store - commit order compares transaction ids as numbers, not as text (99 before 100)', async () => {
  const fresh = await createTestDatabase('es_order');
  const source = await createDataSource({ url: fresh.url }).initialize();
  try {
    await migrate(source);
    // Ids on either side of a digit boundary: as text '100' sorts before '99'.
    for (const [tx, stream] of [
      ['100', 'order-b'],
      ['99', 'order-a'],
    ] as const) {
      await source.query(
        `INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata, recorded_at, transaction_id, hash)
         VALUES ($1, $2, 1, 'Tick', '{}', '{}', now(), $3::xid8, 'x')`,
        [randomUUID(), stream, tx],
      );
    }
    const read = await new PostgresEventStore(source).readAll(LOG_START);
    expect(read.map((e) => e.transactionId)).toEqual(['99', '100']);
    const next = await new PostgresEventStore(source).readAll({
      transactionId: '99',
      globalPosition: read[0]!.globalPosition,
    });
    expect(next.map((e) => e.streamId)).toEqual(['order-b']);
  } finally {
    await source.destroy();
    await fresh.drop();
  }
});
