import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { credentialStreamId, type CredentialEvent } from '@broker/contracts';
import { REGISTRY_SNAPSHOT_SCHEMA_VERSION, type CredentialState } from '@broker/domain';
import { createTestDatabase, credentialLog, type TestDatabase } from '@broker/testing';
import { CredentialProjection } from './credential-projection.js';
import { createDataSource, ensureDatabase, migrate } from './database.js';
import { PostgresEventStore } from './event-store.js';
import { SnapshotStore } from './snapshot-store.js';
import type { StoredEvent } from './types.js';

jest.setTimeout(120_000);

let db: TestDatabase;
let dataSource: DataSource;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('es_snapshot');
  await ensureDatabase(db.url);
  dataSource = createDataSource({ url: db.url, poolSize: 5 });
  await dataSource.initialize();
  await migrate(dataSource);
  store = new PostgresEventStore(dataSource);
});

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
});

/** Appends events one by one at the next version of their stream, as the services do. */
const append = async (events: readonly CredentialEvent[]): Promise<StoredEvent[]> => {
  const stored: StoredEvent[] = [];
  for (const event of events) {
    const stream = credentialStreamId(event.data.credentialId);
    const version = await store.streamVersion(stream);
    stored.push(
      ...(await store.append(stream, version, [
        { type: event.type, data: event.data, metadata: { actor: 'test' } },
      ])),
    );
  }
  return stored;
};

/** Follower errors, checked after each test: thrown from a timer they would end the whole run. */
const followErrors: unknown[] = [];
afterEach(() => {
  expect(followErrors.splice(0)).toEqual([]);
});

const projection = (snapshots?: SnapshotStore, loadSnapshot?: boolean) =>
  new CredentialProjection(store, {
    listenUrl: db.url,
    onError: (error) => followErrors.push(error),
    ...(snapshots === undefined ? {} : { snapshots }),
    ...(loadSnapshot === undefined ? {} : { loadSnapshot }),
  });

/**
 * Starts a projection and waits until it holds the last event of the log. Readers
 * stop below the oldest transaction running anywhere in the cluster (the xmin
 * horizon), so on a shared server another database's open transaction can leave
 * `start()` short of events this test committed; the follower reads them once it ends.
 */
const startCaughtUp = async (p: CredentialProjection) => {
  const origin = await p.start();
  const [last] = await dataSource.query<{ position: string | null }[]>(
    `SELECT max(global_position)::text AS position FROM events`,
  );
  const target = Number(last?.position ?? 0);
  const deadline = Date.now() + 60_000;
  while (p.checkpoint.globalPosition < target && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return origin;
};

/** Starts a projection, lets `look` read it once caught up, and stops it. */
const started = async <T>(
  p: CredentialProjection,
  look: (p: CredentialProjection, origin: Awaited<ReturnType<CredentialProjection['start']>>) => T,
): Promise<T> => {
  try {
    const origin = await startCaughtUp(p);
    return look(p, origin);
  } finally {
    await p.stop();
  }
};

const byId = (states: readonly CredentialState[]) =>
  [...states].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

let run = 0;
let written = 0;

it('snapshot - state from a snapshot plus the tail of the log equals the state from folding all of it', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 1_000_000 }).chain((seed) => {
        run += 1;
        return fc.tuple(
          credentialLog({ prefix: `run${run}-${seed}`, maxEvents: 30 }),
          fc.nat(),
          fc.nat(),
        );
      }),
      async ([log, cutA, cutB]) => {
        written += 1;
        const snapshots = new SnapshotStore(dataSource, `property-${written}`);
        const head = log.length === 0 ? 0 : cutA % (log.length + 1);
        const own = head + (log.length - head === 0 ? 0 : cutB % (log.length - head + 1));
        await append(log.slice(0, head));

        const writer = projection(snapshots);
        let taken: Awaited<ReturnType<CredentialProjection['saveSnapshot']>>;
        try {
          await startCaughtUp(writer);
          // Events this replica appended itself are in its state before its follower reads them.
          writer.apply(await append(log.slice(head, own)));
          taken = await writer.saveSnapshot('writer');
        } finally {
          await writer.stop();
        }
        expect(taken.saved).toBe(true);
        await append(log.slice(own));

        const fromSnapshot = await started(projection(snapshots), (p, origin) => {
          expect(origin.from).toBe('snapshot');
          return { states: p.registry.all(), folded: p.eventsFolded };
        });
        const fromStart = await started(projection(), (p) => p.registry.all());

        expect(byId(fromSnapshot.states)).toEqual(byId(fromStart));
        // Only the tail was folded: what the writer appended itself came back as duplicates.
        expect(fromSnapshot.folded).toBe(log.length - own);
      },
    ),
    { numRuns: 15 },
  );
});

it('snapshot - the newest checkpoint wins whatever order replicas write in', async () => {
  const snapshots = new SnapshotStore(dataSource, 'newest-wins');
  const newer = { transactionId: '900', globalPosition: 50 };
  const older = { transactionId: '900', globalPosition: 49 };
  const base = { schemaVersion: REGISTRY_SNAPSHOT_SCHEMA_VERSION, takenBy: 'a' };

  expect(await snapshots.save({ ...base, checkpoint: newer, state: '{"credentials":[]}' })).toBe(
    true,
  );
  expect(await snapshots.save({ ...base, checkpoint: older, state: 'older' })).toBe(false);
  expect(await snapshots.save({ ...base, checkpoint: newer, state: 'same' })).toBe(false);
  const latest = await snapshots.latest(REGISTRY_SNAPSHOT_SCHEMA_VERSION);
  expect(latest?.checkpoint).toEqual(newer);
  expect(latest?.state).toBe('{"credentials":[]}');
  expect(
    await snapshots.save({
      ...base,
      checkpoint: { transactionId: '901', globalPosition: 1 },
      state: 'later',
    }),
  ).toBe(true);
  expect((await snapshots.latest(REGISTRY_SNAPSHOT_SCHEMA_VERSION))?.state).toBe('later');
});

describe('snapshot - one that cannot be used is ignored, and the log is folded from its start', () => {
  let full: readonly CredentialState[];

  beforeAll(async () => {
    await append(
      fc.sample(credentialLog({ prefix: 'ignored', maxEvents: 20 }), { numRuns: 1, seed: 7 })[0]!,
    );
    full = await started(projection(), (p) => p.registry.all());
  });

  const insertSnapshot = (name: string, schemaVersion: number, state: string) =>
    dataSource.query(
      `INSERT INTO snapshots (name, schema_version, transaction_id, global_position, state, taken_by)
       VALUES ($1, $2, $3::xid8, $4, $5, 'test')`,
      [name, schemaVersion, '999999999', 999999999, state],
    );

  it('a snapshot of an unknown schema version', async () => {
    await insertSnapshot('unknown-version', REGISTRY_SNAPSHOT_SCHEMA_VERSION + 98, '{}');
    const snapshots = new SnapshotStore(dataSource, 'unknown-version');

    const { origin, states } = await started(projection(snapshots), (p, o) => ({
      origin: o,
      states: p.registry.all(),
    }));

    expect(origin).toEqual({
      from: 'log start',
      snapshotIgnored: `snapshot 'unknown-version' has schema version ${REGISTRY_SNAPSHOT_SCHEMA_VERSION + 98}; this version reads ${REGISTRY_SNAPSHOT_SCHEMA_VERSION}`,
    });
    expect(byId(states)).toEqual(byId(full));
  });

  it('a snapshot of the known version is preferred to a newer one of another version', async () => {
    const snapshots = new SnapshotStore(dataSource, 'two-versions');
    const writer = projection(snapshots);
    try {
      await startCaughtUp(writer);
      await writer.saveSnapshot('writer');
    } finally {
      await writer.stop();
    }
    await insertSnapshot('two-versions', REGISTRY_SNAPSHOT_SCHEMA_VERSION + 1, '{}');

    const origin = await started(projection(snapshots), (_, o) => o);

    expect(origin.from).toBe('snapshot');
  });

  it('a snapshot that does not parse', async () => {
    await insertSnapshot('garbage', REGISTRY_SNAPSHOT_SCHEMA_VERSION, '{"credentials": [tru');
    const snapshots = new SnapshotStore(dataSource, 'garbage');

    const { origin, states } = await started(projection(snapshots), (p, o) => ({
      origin: o,
      states: p.registry.all(),
    }));

    expect(origin).toEqual({
      from: 'log start',
      snapshotIgnored: "snapshot 'garbage': snapshot is not JSON",
    });
    expect(byId(states)).toEqual(byId(full));
  });

  it('a snapshot that parses but does not match the schema', async () => {
    await insertSnapshot(
      'wrong-shape',
      REGISTRY_SNAPSHOT_SCHEMA_VERSION,
      JSON.stringify({ credentials: [{ id: 'x' }] }),
    );
    const snapshots = new SnapshotStore(dataSource, 'wrong-shape');

    const { origin, states } = await started(projection(snapshots), (p, o) => ({
      origin: o,
      states: p.registry.all(),
    }));

    expect(origin.from).toBe('log start');
    expect(origin.from === 'log start' && origin.snapshotIgnored).toMatch(
      /snapshot 'wrong-shape': snapshot does not match schema version/,
    );
    expect(byId(states)).toEqual(byId(full));
  });

  it('snapshots switched off: the whole log is folded even when one is stored', async () => {
    const snapshots = new SnapshotStore(dataSource, 'switched-off');
    const writer = projection(snapshots);
    try {
      await startCaughtUp(writer);
      await writer.saveSnapshot('writer');
    } finally {
      await writer.stop();
    }

    const { origin, folded } = await started(projection(snapshots, false), (p, o) => ({
      origin: o,
      folded: p.eventsFolded,
    }));

    expect(origin).toEqual({ from: 'log start' });
    const [events] = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM events`,
    );
    expect(folded).toBe(events?.n);
  });
});
