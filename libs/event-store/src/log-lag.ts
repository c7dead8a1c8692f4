import type { DataSource } from 'typeorm';
import { CheckpointStore } from './checkpoint-store.js';
import type { LogCheckpoint } from './types.js';

export interface Lag {
  /** Committed events after the reader's checkpoint (counted up to a cap). */
  readonly events: number;
  /** Age of the oldest of them by the database clock; 0 when there is none. */
  readonly seconds: number;
}

const CAP = 100_000;

/** How far readers of the log are behind it: for lag metrics and readiness. */
export class LogLag {
  private readonly checkpoints: CheckpointStore;

  constructor(private readonly db: DataSource) {
    this.checkpoints = new CheckpointStore(db);
  }

  /** Committed events (the same visibility rule as `readAll`) a reader at `checkpoint` has not read. */
  async behind(checkpoint: LogCheckpoint): Promise<Lag> {
    const [row] = await this.db.query<{ events: number; seconds: number | string | null }[]>(
      `SELECT count(*)::int AS events,
              coalesce(extract(epoch FROM now() - min(recorded_at)), 0)::float8 AS seconds
       FROM (SELECT recorded_at FROM events
             WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
               AND (transaction_id, global_position) > ($1::xid8, $2::bigint)
             ORDER BY transaction_id, global_position
             LIMIT ${CAP}) AS unread`,
      [checkpoint.transactionId, checkpoint.globalPosition],
    );
    return { events: Number(row?.events ?? 0), seconds: Math.max(0, Number(row?.seconds ?? 0)) };
  }

  /**
   * Committed events no reader may read yet: a transaction that started before
   * they committed is still open (its id is at or below theirs), and readers
   * keep to the ids below the oldest open one so as never to skip a late commit.
   */
  async heldBack(): Promise<Lag> {
    const [row] = await this.db.query<{ events: number; seconds: number | string | null }[]>(
      `SELECT count(*)::int AS events,
              coalesce(extract(epoch FROM now() - min(recorded_at)), 0)::float8 AS seconds
       FROM (SELECT recorded_at FROM events
             WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())
             LIMIT ${CAP}) AS held`,
    );
    return { events: Number(row?.events ?? 0), seconds: Math.max(0, Number(row?.seconds ?? 0)) };
  }

  /** How long the oldest transaction holding an id (one that holds readers back) has been open. */
  async oldestTransactionSeconds(): Promise<number> {
    const [row] = await this.db.query<{ seconds: number | string | null }[]>(
      `SELECT coalesce(extract(epoch FROM now() - min(xact_start)), 0)::float8 AS seconds
       FROM pg_stat_activity
       WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()`,
    );
    return Math.max(0, Number(row?.seconds ?? 0));
  }

  /**
   * The lag of a named checkpoint kept in Postgres (the relay's), counting the
   * events held back too: what has been committed and is not on JetStream yet.
   */
  async ofCheckpoint(name: string): Promise<Lag> {
    const [visible, held] = await Promise.all([
      this.behind(await this.checkpoints.load(name)),
      this.heldBack(),
    ]);
    return {
      events: visible.events + held.events,
      seconds: Math.max(visible.seconds, held.seconds),
    };
  }
}
