import { randomUUID } from 'node:crypto';
import { headers, RetentionPolicy, StorageType } from 'nats';
import { DEFAULT_HEALTH_POLICY, CredentialRegistry, selectCredential } from '@broker/domain';
import {
  createDataSource,
  insertLeaseAuditRows,
  PostgresEventStore,
  type LeaseAuditRow,
} from '@broker/event-store';
import { BenchEnvironment } from './environment.js';
import { median } from './stats.js';

/**
 * `npm run build && node dist/tools/bench/probes.js [audit,rowsize,appends,jetstream,selection]
 * [--seconds N]`: the capacity model's component probes (docs/scaling.md), each
 * against the machine's Postgres and NATS in databases and streams of its own,
 * removed afterwards. Prints one table per probe; not part of `npm run bench`.
 */
const seconds = (() => {
  const at = process.argv.indexOf('--seconds');
  return at < 0 ? 3 : Number(process.argv[at + 1]);
})();
const wanted = (process.argv[2]?.startsWith('--') ? undefined : process.argv[2])?.split(',');
const runs = (name: string) => wanted === undefined || wanted.includes(name);
const rate = (n: number) => Math.round(n / seconds).toLocaleString('en-US');

/** Runs `work` on `workers` loops for the probe's duration; how many times it ran. */
const loop = async (workers: number, work: () => Promise<void>): Promise<number> => {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < until) {
        await work();
        done += 1;
      }
    }),
  );
  return done;
};

const auditRow = (): LeaseAuditRow => ({
  leaseId: randomUUID(),
  client: 'probe-client',
  provider: 'gemini-cli',
  pool: 'default',
  credentialId: `probe-${Math.floor(Math.random() * 1000)}`,
  expiresAt: new Date(Date.now() + 3_600_000),
  model: 'gemini-2.5-pro',
  selection: {
    policy: 'round-robin',
    position: 3,
    candidates: 8,
    halfOpenTrial: false,
    skipped: [],
  },
  traceId: null,
  replica: 'probe',
});

/** The group commit's own statement, by writers and rows per commit. */
const audit = async (env: BenchEnvironment) => {
  const db = await createDataSource({ url: await env.database('audit'), poolSize: 4 }).initialize();
  try {
    console.log(
      'audit insert (insertLeaseAuditRows)\nwriters × rows per commit | commits/s | rows/s',
    );
    for (const [writers, rows] of [
      [1, 1],
      [2, 1],
      [4, 1],
      [1, 10],
      [4, 10],
      [1, 100],
      [4, 100],
      [1, 1000],
      [2, 1000],
    ] as const) {
      const commits = await loop(writers, () =>
        insertLeaseAuditRows(db, Array.from({ length: rows }, auditRow)),
      );
      console.log(`${writers} × ${rows} | ${rate(commits)} | ${rate(commits * rows)}`);
    }
  } finally {
    await db.destroy();
  }
};

/** Bytes per audit row: heap, heap with indexes, and WAL, over 100,000 rows in 100-row commits. */
const rowSize = async (env: BenchEnvironment) => {
  const db = await createDataSource({ url: await env.database('rows'), poolSize: 1 }).initialize();
  const rows = 100_000;
  try {
    const [before] = await db.query<{ lsn: string }[]>('SELECT pg_current_wal_lsn() AS lsn');
    for (let i = 0; i < rows / 100; i += 1)
      await insertLeaseAuditRows(db, Array.from({ length: 100 }, auditRow));
    const [size] = await db.query<{ heap: string; total: string; wal: string }[]>(
      `SELECT pg_relation_size('lease_audit') AS heap, pg_total_relation_size('lease_audit') AS total,
              pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS wal`,
      [before?.lsn],
    );
    const per = (bytes: string | undefined) => Math.round(Number(bytes) / rows);
    console.log(
      `\naudit row size over ${rows.toLocaleString('en-US')} rows (WAL includes whatever else the server wrote meanwhile)\nheap | heap + indexes | WAL\n${per(size?.heap)} B | ${per(size?.total)} B | ${per(size?.wal)} B`,
    );
  } finally {
    await db.destroy();
  }
};

/** `PostgresEventStore.append` of one event to a stream of its own, by concurrent appenders. */
const appends = async (env: BenchEnvironment) => {
  const db = await createDataSource({
    url: await env.database('appends'),
    poolSize: 32,
  }).initialize();
  const store = new PostgresEventStore(db);
  try {
    console.log(
      '\nevent appends (PostgresEventStore.append, one event each)\nappenders | appends/s',
    );
    for (const appenders of [1, 8, 32]) {
      const done = await loop(appenders, async () => {
        await store.append(`pool-probe/${randomUUID()}`, 0, [
          {
            type: 'pool.usage-recorded.v1',
            data: {
              provider: 'probe',
              pool: 'default',
              replica: 'probe',
              windowStart: new Date().toISOString(),
              windowEnd: new Date().toISOString(),
              served: 1,
              refused: 0,
            },
            metadata: {},
          },
        ]);
      });
      console.log(`${appenders} | ${rate(done)}`);
    }
  } finally {
    await db.destroy();
  }
};

/** A JetStream publish with a message id (the relay's), one at a time and 64 in flight, on R1. */
const jetstream = async (env: BenchEnvironment) => {
  const name = `PROBE_${env.run.toUpperCase()}`;
  const subject = `${env.root('probe')}.events`;
  const jsm = await env.nats.jetstreamManager();
  await jsm.streams.add({
    name,
    subjects: [subject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: 1,
    duplicate_window: 120_000_000_000,
  });
  const js = env.nats.jetstream();
  const body = new TextEncoder().encode(JSON.stringify({ probe: 'x'.repeat(400) }));
  const publish = () => js.publish(subject, body, { msgID: randomUUID(), headers: headers() });
  try {
    console.log('\nJetStream publish with a message id, R1\nin flight | publishes/s');
    for (const inFlight of [1, 64])
      console.log(
        `${inFlight} | ${rate(await loop(inFlight, async () => void (await publish())))}`,
      );
  } finally {
    await jsm.streams.delete(name);
  }
};

/** `selectCredential` (round-robin) on one pool, by pool size: µs per selection. */
const selection = () => {
  console.log(
    '\nround-robin selection (selectCredential)\npool size | µs with the position hint | µs without',
  );
  const now = Date.now();
  for (const size of [8, 1000, 10_000, 100_000]) {
    const registry = new CredentialRegistry();
    for (let i = 0; i < size; i += 1) {
      const id = `probe-${String(i).padStart(6, '0')}`;
      registry.apply(
        {
          type: 'credential.added.v1',
          data: {
            credentialId: id,
            provider: 'gemini-cli',
            pool: 'default',
            priority: 0,
            scopes: [],
            metadata: {},
            tokenType: 'Bearer',
            addedAt: new Date(now).toISOString(),
            expiresAt: new Date(now + 3_600_000).toISOString(),
            secrets: { accessToken: 'enc:v1:k1:aXY:YQ', refreshToken: 'enc:v1:k1:aXY:cg' },
            fingerprint: `fp:${i}`,
            source: 'add',
          },
        },
        1,
      );
    }
    const credentials = registry.all();
    // As the token service calls it (the last position as a hint), and without the hint.
    const perSelection = (hinted: boolean): number => {
      const samples: number[] = [];
      let last: { id: string; position: number } | undefined;
      for (let round = 0; round < 5; round += 1) {
        const started = performance.now();
        let n = 0;
        while (performance.now() - started < (seconds * 1000) / 10) {
          const chosen = selectCredential({
            credentials,
            policy: 'round-robin',
            health: DEFAULT_HEALTH_POLICY,
            lastChosen: last?.id ?? null,
            ...(hinted && last !== undefined ? { lastPosition: last.position } : {}),
            ask: { minValiditySeconds: 60, exclude: new Set() },
            now,
            trialsInFlight: new Set(),
          });
          last = chosen.ok
            ? { id: chosen.credential.id, position: chosen.reason.position }
            : undefined;
          n += 1;
        }
        samples.push(((performance.now() - started) * 1000) / n);
      }
      return median(samples);
    };
    console.log(
      `${size.toLocaleString('en-US')} | ${perSelection(true).toFixed(2)} | ${perSelection(false).toFixed(2)}`,
    );
  }
};

const main = async () => {
  const env = await BenchEnvironment.create();
  try {
    if (runs('audit')) await audit(env);
    if (runs('rowsize')) await rowSize(env);
    if (runs('appends')) await appends(env);
    if (runs('jetstream')) await jetstream(env);
    if (runs('selection')) selection();
  } finally {
    await env.cleanup();
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
