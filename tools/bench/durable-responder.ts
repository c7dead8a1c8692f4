import { randomUUID } from 'node:crypto';
import { connect, type Msg } from 'nats';
import pg from 'pg';

/**
 * The durable-lease limit: a NATS responder that writes one audit row per
 * request to Postgres and replies only once that row is committed. Rows are
 * group-committed: a flush starts whenever one waits and none is running (no
 * timer), taking everything that queued meanwhile; so the reply rate is bounded
 * by in-flight requests over the commit latency.
 */
const [url = 'nats://127.0.0.1:4222', subject = 'bench.durable', databaseUrl = '', size = '11'] =
  process.argv.slice(2);
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
await db.query(`CREATE TABLE IF NOT EXISTS bench_audit (LIKE lease_audit INCLUDING ALL)`);
const nc = await connect({ servers: url });
const reply = new TextEncoder().encode(
  Number(size) <= 11 ? '{"ok":true}' : `{"ok":true,"pad":"${'x'.repeat(Number(size) - 20)}"}`,
);
const selection = JSON.stringify({ policy: 'round-robin', reason: 'next in turn', candidates: 8 });

let queue: Msg[] = [];
let flushing = false;

const flush = async (): Promise<void> => {
  flushing = true;
  try {
    while (queue.length > 0) {
      const batch = queue.slice(0, 2000);
      queue = queue.slice(batch.length);
      const expires = new Date(Date.now() + 3_600_000);
      await db.query(
        `INSERT INTO bench_audit (lease_id, client, provider, pool, credential_id, expires_at, model, selection, trace_id, replica)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                              $7::text[], $8::jsonb[], $9::text[], $10::text[])`,
        [
          batch.map(() => randomUUID()),
          batch.map(() => 'bench'),
          batch.map(() => 'gemini-cli'),
          batch.map(() => 'default'),
          batch.map((_, i) => `bench-${i % 8}`),
          batch.map(() => expires),
          batch.map(() => null),
          batch.map(() => selection),
          batch.map(() => null),
          batch.map(() => 'durable-baseline'),
        ],
      );
      for (const msg of batch) msg.respond(reply);
    }
  } finally {
    flushing = false;
  }
};

const sub = nc.subscribe(subject, { queue: 'durable' });
process.stdout.write('ready\n');
for await (const msg of sub) {
  queue.push(msg);
  if (!flushing) void flush();
}
