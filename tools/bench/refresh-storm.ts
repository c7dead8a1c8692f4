import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
// The bench is built with the services; the local OAuth server is the test one, imported by path.
import { MockOAuthServer } from '../../libs/testing/src/mock-oauth-server.js';
import type { BenchEnvironment } from './environment.js';
import { BenchProcess } from './processes.js';
import type { Results } from './results.js';
import type { Scale } from './scale.js';
import { sleep } from './stats.js';

const ADD_IN_FLIGHT = 64;

const count = async (db: pg.Client, type: string): Promise<number> =>
  Number(
    (
      await db.query<{ n: string }>(
        `SELECT count(DISTINCT stream_id) AS n FROM events WHERE type = $1`,
        [type],
      )
    ).rows[0]?.n ?? 0,
  );

/**
 * refresh storm: credentials that are all due at once (added expiring within the
 * default strategy's buffer, then the scheduler starts), refreshed against the
 * local OAuth server within the configured cap. Time from the scheduler being
 * ready until every one of them has a `refreshed` event.
 */
export const refreshStorm = async (
  env: BenchEnvironment,
  scale: Scale,
  results: Results,
): Promise<void> => {
  const server = await MockOAuthServer.start();
  const databaseUrl = await env.database('storm');
  const root = env.root('storm');
  const file = join(mkdtempSync(join(tmpdir(), 'broker-bench-')), 'broker.json');
  writeFileSync(
    file,
    JSON.stringify({
      providers: {
        'gemini-cli': {
          tokenUrl: server.tokenUrl,
          clientId: 'test-client',
          clientSecret: 'test-secret',
          clientAuth: 'body',
        },
      },
      pools: { 'gemini-cli/default': { maxConcurrentRefreshes: scale.stormCap } },
    }),
  );
  const serviceEnv = env.serviceEnv(databaseUrl, root, { BROKER_CONFIG: file });
  const processes: BenchProcess[] = [];
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const token = BenchProcess.start('token-service', serviceEnv);
    processes.push(token);
    await token.ready();
    const expiresAt = Date.now() + 4 * 60_000; // inside the default 5 minute buffer: due now
    let next = 0;
    const adder = async () => {
      while (next < scale.stormCredentials) {
        const i = next++;
        const reply = await env.nats.request(
          `${root}.v1.admin.credentials.add`,
          JSON.stringify({
            provider: 'gemini-cli',
            id: `storm-${i}`,
            accessToken: `ya29.storm-${i}`,
            refreshToken: server.issueGrant().refreshToken,
            expiresAt,
          }),
          { timeout: 30_000 },
        );
        if (!reply.json<{ ok: boolean }>().ok) throw new Error(`add failed: ${reply.string()}`);
      }
    };
    await Promise.all(Array.from({ length: ADD_IN_FLIGHT }, adder));

    const scheduler = BenchProcess.start('refresh-scheduler', serviceEnv);
    processes.push(scheduler);
    await scheduler.ready();
    const started = performance.now();
    const deadline = started + 20 * 60_000;
    while ((await count(db, 'credential.refreshed.v1')) < scale.stormCredentials) {
      if (performance.now() > deadline) throw new Error('the storm did not end within 20 minutes');
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const failed = await count(db, 'credential.refresh-failed.v1');
    const { rows } = await db.query<{ n: number }>(
      `WITH spans AS (
         SELECT s.recorded_at AS t, 1 AS d FROM events s WHERE s.type = 'credential.refresh-started.v1'
         UNION ALL
         SELECT e.recorded_at, -1 FROM events e WHERE e.type IN ('credential.refreshed.v1', 'credential.refresh-failed.v1')
       )
       SELECT coalesce(max(running), 0)::int AS n FROM (
         SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS running FROM spans
       ) AS r`,
    );
    const maxInFlight = rows[0]?.n ?? 0;
    results.sections['refreshStorm'] = {
      credentials: scale.stormCredentials,
      cap: scale.stormCap,
      seconds,
      refreshesPerSecond: scale.stormCredentials / seconds,
      refreshFailedCredentials: failed,
      maxInFlight,
      tokenRequests: server.refreshRequests.length,
    };
    results.row({
      benchmark: `refresh storm, ${scale.stormCredentials.toLocaleString('en-US')} due`,
      measure: 's to refresh all',
      broker: seconds,
      baseline: `cap ${scale.stormCap}, max ${maxInFlight} in flight`,
      ratio: '',
      goal: `${Math.round(scale.stormCredentials / seconds)}/s, ${failed} failed`,
    });
  } finally {
    await db.end();
    await Promise.all(processes.map((p) => p.stop()));
    await server.close();
  }
};
