import pg from 'pg';
import { CredentialProjection, createDataSource, PostgresEventStore } from '@broker/event-store';
import type { Results } from './results.js';
import type { Scale } from './scale.js';
import { median } from './stats.js';

const PAGE = 1000;

/** The real fold: CredentialProjection reads the log in commit order, parses and evolves every event. */
const fold = async (
  databaseUrl: string,
): Promise<{ seconds: number; credentials: number; events: number }> => {
  const source = await createDataSource({ url: databaseUrl, poolSize: 2 }).initialize();
  try {
    const projection = new CredentialProjection(new PostgresEventStore(source), {
      listenUrl: databaseUrl,
      onError: (error) => {
        throw error;
      },
    });
    const started = performance.now();
    await projection.start();
    const seconds = (performance.now() - started) / 1000;
    await projection.stop();
    return { seconds, credentials: projection.registry.size, events: projection.eventsFolded };
  } finally {
    await source.destroy();
  }
};

/**
 * The baseline: the same rows and columns in commit order from one plain
 * SELECT, fetched through a cursor in pages of the same size; nothing is done
 * with them beyond what the driver does (the fold's reads parse alike).
 */
const scan = async (databaseUrl: string): Promise<{ seconds: number; events: number }> => {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const started = performance.now();
    let events = 0;
    await db.query('BEGIN');
    await db.query(
      `DECLARE scan NO SCROLL CURSOR FOR
       SELECT global_position, transaction_id::text AS transaction_id, event_id, stream_id,
              stream_version, type, data, metadata, recorded_at, hash
       FROM events ORDER BY transaction_id, global_position`,
    );
    for (;;) {
      const { rows } = await db.query(`FETCH ${PAGE} FROM scan`);
      events += rows.length;
      if (rows.length < PAGE) break;
    }
    await db.query('COMMIT');
    return { seconds: (performance.now() - started) / 1000, events };
  } finally {
    await db.end();
  }
};

/** replay: events per second through the real fold, beside a plain scan of the same table. */
export const replay = async (
  databaseUrl: string,
  scale: Scale,
  results: Results,
): Promise<void> => {
  const folds: number[] = [];
  const scans: number[] = [];
  let credentials = 0;
  for (let round = 0; round < scale.replayRounds; round += 1) {
    const s = await scan(databaseUrl);
    scans.push(s.events / s.seconds);
    const f = await fold(databaseUrl);
    if (f.events !== s.events)
      throw new Error(`the fold applied ${f.events} events of the ${s.events} in the log`);
    folds.push(f.events / f.seconds);
    credentials = f.credentials;
  }
  const ratio = median(folds) / median(scans);
  results.sections['replay'] = {
    events: scale.logEvents,
    credentials,
    foldEventsPerSecond: folds,
    scanEventsPerSecond: scans,
  };
  results.row({
    benchmark: `replay ${scale.logEvents.toLocaleString('en-US')} events`,
    measure: 'events/s',
    broker: median(folds),
    baseline: `SELECT ${Math.round(median(scans))}`,
    ratio,
    goal: results.atLeast('replay vs scan', ratio, 0.5),
  });
};
