import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@broker/testing';
import { createDataSource, ensureDatabase, migrate } from './database.js';
import { PostgresEventStore } from './event-store.js';
import { readLogSnapshot, replayPostgresLog } from './log-snapshot.js';
import type { StoredEvent } from './types.js';

jest.setTimeout(30_000);

let db: TestDatabase;
let dataSource: DataSource;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('es_snapshot');
  await ensureDatabase(db.url);
  dataSource = await createDataSource({ url: db.url, poolSize: 4 }).initialize();
  await migrate(dataSource);
  store = new PostgresEventStore(dataSource);
});

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
});

/** A real event of a stream the replay reads but does not fold: a pool's usage window. */
const tick = (n: number) => ({
  type: 'pool.usage-recorded.v1',
  data: {
    provider: 'gemini-cli',
    pool: 'default',
    replica: 'r',
    windowStart: '2026-01-01T00:00:00.000Z',
    windowEnd: '2026-01-01T00:01:00.000Z',
    served: n,
    refused: 0,
  },
  metadata: { actor: 'test' },
});

it('log snapshot - reads every event in commit order from one moment, whatever is appended meanwhile', async () => {
  for (let i = 0; i < 5; i += 1) await store.append(`s-${i % 2}`, 'any', [tick(i)]);
  const read: StoredEvent[] = [];
  const batches = readLogSnapshot(dataSource, { batchSize: 2 });
  const first = await batches.next();
  read.push(...(first.value as StoredEvent[]));
  await store.append('s-late', 0, [tick(99)]); // committed after the snapshot began
  for await (const batch of batches) read.push(...batch);

  expect(read.map((e) => (e.data as { served: number }).served)).toEqual([0, 1, 2, 3, 4]);
  const now = await replayPostgresLog(dataSource);
  expect(now.events).toBe(6);
  expect(now.streams).toBe(3);
  expect(now.firstProblem).toBeNull();
});

it('log snapshot - stops at the events recorded up to a moment', async () => {
  const [cut] = await store.append('s-cut', 0, [tick(100)]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await store.append('s-cut', 1, [tick(101)]);

  const upTo = await replayPostgresLog(dataSource, { until: (cut as StoredEvent).recordedAt });

  expect(upTo.lastEventOf('s-cut')?.streamVersion).toBe(1);
  expect(upTo.events).toBe(7);
});
