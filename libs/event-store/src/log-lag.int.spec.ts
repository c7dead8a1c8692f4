import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createTestDatabase, waitFor, type TestDatabase } from '@broker/testing';
import { CheckpointStore } from './checkpoint-store.js';
import { createDataSource, ensureDatabase, migrate } from './database.js';
import { PostgresEventStore } from './event-store.js';
import { LogLag } from './log-lag.js';
import { LOG_START } from './types.js';

jest.setTimeout(45_000);

/** RELIABILITY 12: a transaction left open holds readers back; the lag must show it. */
describe('LogLag with a transaction left open', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  let lag: LogLag;

  beforeAll(async () => {
    db = await createTestDatabase('log_lag');
    await ensureDatabase(db.url);
    dataSource = createDataSource({ url: db.url, poolSize: 4 });
    await dataSource.initialize();
    await migrate(dataSource);
    store = new PostgresEventStore(dataSource);
    lag = new LogLag(dataSource);
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db?.drop();
  });

  it('counts events committed behind an open transaction as held back and in the relay lag', async () => {
    const open = new pg.Client({ connectionString: db.url });
    await open.connect();
    try {
      await open.query('BEGIN');
      await open.query('SELECT txid_current()'); // takes a transaction id: readers stop below it
      for (let i = 0; i < 3; i += 1)
        await store.append(`thing-${randomUUID()}`, 0, [
          { type: 'thing.happened.v1', data: { i }, metadata: {} },
        ]);
      await new CheckpointStore(dataSource).store('lag-test', LOG_START);

      // Committed, yet no reader may read them: the reader-side lag reads nothing ...
      expect(await store.readAll(LOG_START)).toEqual([]);
      expect((await lag.behind(LOG_START)).events).toBe(0);
      // ... the held-back gauge and the relay lag see all three, aging ...
      await waitFor('the held-back events to age', async () => {
        const held = await lag.heldBack();
        return held.events >= 3 && held.seconds > 0.2;
      });
      const relay = await lag.ofCheckpoint('lag-test');
      expect(relay.events).toBeGreaterThanOrEqual(3);
      expect(relay.seconds).toBeGreaterThan(0.2);
      // ... and the open transaction's age is there to find the culprit.
      expect(await lag.oldestTransactionSeconds()).toBeGreaterThan(0.2);
    } finally {
      await open.query('COMMIT');
      await open.end();
    }
    await waitFor('the held-back events to become readable', async () => {
      const held = await lag.heldBack();
      return held.events === 0 && (await store.readAll(LOG_START)).length === 3;
    });
    expect((await lag.ofCheckpoint('lag-test')).events).toBe(3);
  });
});
