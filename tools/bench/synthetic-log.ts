import pg from 'pg';

/**
 * A log of `events` credential events over `credentials` streams, generated
 * inside Postgres (INSERT ... SELECT generate_series), in the shapes the
 * services write: each stream opens with `added` (encrypted tokens of real
 * lengths), then cycles through a refresh (started, refreshed), usage windows,
 * a cooldown and a failure. Streams are interleaved as a live log is. The hash
 * chain is not valid: folding does not read it.
 */
const CYCLE = `ARRAY['refresh-started','refreshed','usage-recorded','usage-recorded','usage-recorded',
  'usage-recorded','usage-recorded','usage-recorded','cooled-down','failure-recorded']`;

/** An `enc:v1:` value of about `chars` characters, different per seed. */
const sealed = (seed: string, chars: number) =>
  `'enc:v1:bench:' || left(translate(encode(decode(md5(${seed} || 'iv'), 'hex'), 'base64'), '+/=' || chr(10), '-_'), 16)
   || ':' || left(translate(encode(decode(repeat(md5(${seed}), ${Math.ceil((chars * 3) / 64) + 1}), 'hex'), 'base64'), '+/=' || chr(10), '-_'), ${chars})`;

/** A valid version 4 UUID from an md5, as the contracts accept. */
const uuid = (seed: string) =>
  `overlay(overlay(md5(${seed}) placing '4' from 13) placing '8' from 17)::uuid`;

const iso = (sql: string) =>
  `to_char((${sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const INSERT = `
WITH g AS (
  SELECT n, n % $2 AS c, n / $2 + 1 AS v, 'bench-' || lpad((n % $2)::text, 7, '0') AS id,
         now() - interval '1 day' + (n % 86400) * interval '1 second' AS at
  FROM generate_series($1::bigint, $3::bigint - 1) AS n
), typed AS (
  SELECT *, CASE WHEN v = 1 THEN 'added' ELSE (${CYCLE})[((v - 2) % 10) + 1] END AS kind FROM g
)
INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata, recorded_at, hash)
SELECT md5('event' || n)::uuid, 'credential-' || id, v, 'credential.' || kind || '.v1',
  CASE kind
    WHEN 'added' THEN jsonb_build_object(
      'credentialId', id, 'provider', 'gemini-cli', 'pool', 'default', 'priority', 0,
      'scopes', jsonb_build_array('https://www.googleapis.com/auth/cloud-platform'),
      'metadata', jsonb_build_object(), 'tokenType', 'Bearer',
      'addedAt', ${iso('at')}, 'expiresAt', ${iso("now() + interval '30 days'")},
      'secrets', jsonb_build_object('accessToken', ${sealed("id || 'a'", 290)},
                                    'refreshToken', ${sealed("id || 'r'", 150)}),
      'fingerprint', 'fp:' || left(md5(id), 12), 'source', 'import', 'importFormat', 'gemini-cli')
    WHEN 'refresh-started' THEN jsonb_build_object(
      'credentialId', id, 'refreshId', ${uuid("'refresh' || n")}, 'reason', 'scheduled',
      'replica', 'token-service-1', 'startedAt', ${iso('at')})
    WHEN 'refreshed' THEN jsonb_build_object(
      'credentialId', id, 'refreshId', ${uuid("'refresh' || (n - $2)")},
      'secrets', jsonb_build_object('accessToken', ${sealed("id || 'a' || v", 290)}),
      'tokenType', 'Bearer', 'expiresAt', ${iso("now() + interval '30 days'")}, 'rotated', false,
      'fingerprint', 'fp:' || left(md5(id || v), 12), 'refreshedAt', ${iso('at')}, 'durationMs', 180 + n % 200)
    WHEN 'usage-recorded' THEN jsonb_build_object(
      'credentialId', id, 'replica', 'token-service-1',
      'windowStart', ${iso("at - interval '1 minute'")}, 'windowEnd', ${iso('at')},
      'leases', 40 + n % 7, 'requests', 40 + n % 7, 'successes', 38 + n % 7, 'failures', 2,
      'byStatus', jsonb_build_object('200', 38 + n % 7, '429', 2), 'tokensUsed', 120000 + n % 5000,
      'latencyMsTotal', 34000 + n % 900, 'latencySamples', 40 + n % 7, 'lastUsedAt', ${iso('at')})
    WHEN 'cooled-down' THEN jsonb_build_object(
      'credentialId', id, 'leaseId', ${uuid("'lease' || n")}, 'status', 429,
      'cooldownMs', 60000, 'capped', false, 'until', ${iso("at + interval '1 minute'")})
    ELSE jsonb_build_object(
      'credentialId', id, 'leaseId', ${uuid("'lease' || n")}, 'status', 500, 'consecutiveFailures', 1)
  END,
  jsonb_build_object('actor', 'token-service', 'replica', 'token-service-1'),
  at, md5('hash' || n)
FROM typed`;

export interface SyntheticLog {
  readonly events: number;
  readonly credentials: number;
  readonly seconds: number;
}

/** Appends the log to an empty, migrated database, in chunks; the relay starts at its end. */
export const generateLog = async (
  databaseUrl: string,
  events: number,
  credentials: number,
): Promise<SyntheticLog> => {
  const started = performance.now();
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const chunk = 100_000;
    for (let from = 0; from < events; from += chunk) {
      await db.query(INSERT, [from, credentials, Math.min(events, from + chunk)]);
    }
    // A running broker has relayed what it folded: the relay starts at the end, not at 0.
    await db.query(
      `INSERT INTO relay_checkpoints (name, transaction_id, global_position)
       SELECT 'jetstream-relay', transaction_id, global_position FROM events
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    await db.query('VACUUM ANALYZE events');
  } finally {
    await db.end();
  }
  return { events, credentials, seconds: (performance.now() - started) / 1000 };
};
