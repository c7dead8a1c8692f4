import pg from 'pg';
import {
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  waitFor,
} from '@broker/testing';

const N = 1000;
const CAP = 10;
const MINUTE = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The largest number of refreshes between `refresh started` and their outcome at one time, by database time. */
const maxInFlight = (spans: readonly { from: number; to: number }[]): number => {
  const edges = spans.flatMap((s) => [
    { at: s.from, d: 1 },
    { at: s.to, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let current = 0;
  let max = 0;
  for (const e of edges) {
    current += e.d;
    max = Math.max(max, current);
  }
  return max;
};

describe('refresh scheduler - a thousand tokens issued in the same second', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;

  beforeAll(async () => {
    server = await MockOAuthServer.start({ behaviour: { latencyMs: 5 } });
    broker = await brokerWithOAuthServer(
      server,
      {
        pools: {
          'gemini-cli/default': { refreshStrategy: 'default', maxConcurrentRefreshes: CAP },
        },
      },
      { BROKER_TEST_CLOCK: '1', LOG_LEVEL: 'warn' },
    );
  }, 60_000);

  afterAll(async () => {
    await broker.destroy();
    await server.close();
  });

  it('are all refreshed before they expire, never more than the cap in flight, spread across the jitter window', async () => {
    await broker.start('token-service', { LOG_LEVEL: 'info' });
    await broker.start('refresh-scheduler', { LOG_LEVEL: 'info' });
    const expiresAt = Date.now() + 2 * 60 * MINUTE;
    for (let i = 0; i < N; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, N - i) }, async (_, j) => {
          const reply = await broker.admin('credentials.add', {
            provider: 'gemini-cli',
            id: `storm-${i + j}`,
            accessToken: `access-${i + j}`,
            refreshToken: server.issueGrant().refreshToken,
            expiresAt,
          });
          expect(reply.ok).toBe(true);
        }),
      );
    }

    // Walk the clock across the default strategy's due window (5 min before expiry, up to 30 s of jitter earlier).
    const started = Date.now();
    for (
      let at = expiresAt - 5 * MINUTE - 40_000;
      at <= expiresAt - 5 * MINUTE + 5_000;
      at += 1_000
    ) {
      await broker.setClock(at);
      await sleep(100);
    }
    const db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    try {
      await waitFor(
        'every credential to be refreshed',
        async () =>
          Number(
            (
              await db.query(
                `SELECT count(*) AS n FROM events WHERE type = 'credential.refreshed.v1'`,
              )
            ).rows[0].n,
          ) >= N,
        150_000,
      );
      const tookMs = Date.now() - started;
      const refreshed = (
        await db.query<{ id: string; refreshed: string; expires: string }>(
          `SELECT data->>'credentialId' AS id, data->>'refreshedAt' AS refreshed, data->>'expiresAt' AS expires
           FROM events WHERE type = 'credential.refreshed.v1'`,
        )
      ).rows;
      expect(new Set(refreshed.map((r) => r.id)).size).toBe(N);
      // Refreshed before the old token's end, by the services' (moved) clock.
      expect(refreshed.every((r) => Date.parse(r.refreshed) < expiresAt)).toBe(true);
      expect(server.refreshRequests).toHaveLength(N);
      expect(server.reuseDetected).toBe(false);

      const starts = (
        await db.query<{ stream: string; started: string; at: Date }>(
          `SELECT stream_id AS stream, data->>'startedAt' AS started, recorded_at AS at
           FROM events WHERE type = 'credential.refresh-started.v1'`,
        )
      ).rows;
      const ends = new Map(
        (
          await db.query<{ stream: string; at: Date }>(
            `SELECT stream_id AS stream, recorded_at AS at FROM events WHERE type = 'credential.refreshed.v1'`,
          )
        ).rows.map((r) => [r.stream, r.at.getTime()]),
      );
      const inFlight = maxInFlight(
        starts.map((s) => ({ from: s.at.getTime(), to: ends.get(s.stream) ?? s.at.getTime() })),
      );
      expect(inFlight).toBeLessThanOrEqual(CAP);
      const startTimes = starts.map((s) => Date.parse(s.started));
      const spreadMs = Math.max(...startTimes) - Math.min(...startTimes);
      expect(spreadMs).toBeGreaterThanOrEqual(20_000);
      process.stdout.write(
        `refresh storm: ${N} credentials refreshed in ${(tookMs / 1000).toFixed(1)} s of real time, ` +
          `at most ${inFlight} in flight (cap ${CAP}), starts spread over ${(spreadMs / 1000).toFixed(1)} s of the due window\n`,
      );
    } finally {
      await db.end();
    }
  }, 240_000);
});
