import type { DataSource } from 'typeorm';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-store.js';
import { LogReplay, type ReplayOptions } from './replay-log.js';
import type { StoredEvent } from './types.js';

export interface LogSnapshotOptions {
  /** Only events recorded at or before this moment. */
  readonly until?: Date;
  readonly batchSize?: number;
}

/**
 * Every committed event in commit order (transaction id, position), batch by batch,
 * all from one REPEATABLE READ snapshot: a log being appended to while it is read
 * still reads as one consistent moment, and nothing committed before it is missed.
 */
export async function* readLogSnapshot(
  db: DataSource,
  options: LogSnapshotOptions = {},
): AsyncGenerator<StoredEvent[]> {
  const batchSize = options.batchSize ?? 5000;
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    let after = { transactionId: '0', globalPosition: 0 };
    for (;;) {
      const rows = (await runner.query(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE (events.transaction_id, events.global_position) > ($1::xid8, $2::bigint)
           AND ($3::timestamptz IS NULL OR events.recorded_at <= $3::timestamptz)
         ORDER BY events.transaction_id, events.global_position
         LIMIT $4`,
        [after.transactionId, after.globalPosition, options.until ?? null, batchSize],
      )) as EventRow[];
      if (rows.length === 0) return;
      const batch = rows.map(toStoredEvent);
      yield batch;
      const last = batch[batch.length - 1] as StoredEvent;
      after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    }
  } finally {
    await runner.query('ROLLBACK').catch(() => undefined);
    await runner.release();
  }
}

/**
 * Reads the whole log (or up to `until`) from one snapshot and folds it with
 * `LogReplay`: the work of `oauthctl replay`, and of the replay benchmark.
 */
export const replayPostgresLog = async (
  db: DataSource,
  options: LogSnapshotOptions & ReplayOptions = {},
): Promise<LogReplay> => {
  const replay = new LogReplay(options);
  for await (const batch of readLogSnapshot(db, options)) replay.addAll(batch);
  return replay;
};
