import type { DataSource } from 'typeorm';
import type { LogCheckpoint } from './types.js';

export interface NewSnapshot {
  readonly schemaVersion: number;
  /** The last event folded into `state`, in commit order. */
  readonly checkpoint: LogCheckpoint;
  readonly state: string;
  readonly takenBy: string;
}

export interface StoredSnapshot extends NewSnapshot {
  readonly takenAt: Date;
}

interface SnapshotRow {
  schema_version: number;
  transaction_id: string;
  global_position: string;
  state: string;
  taken_at: Date;
  taken_by: string;
}

/**
 * Snapshots of one kind of folded state (by name), one per schema version. Any
 * replica may write; a snapshot replaces the stored one only if its checkpoint
 * is further along the log, so the newest wins whatever order writes land in.
 */
export class SnapshotStore {
  constructor(
    private readonly db: DataSource,
    readonly name: string,
  ) {}

  /** Stores the snapshot unless one at or past its checkpoint is there; says whether it did. */
  async save(snapshot: NewSnapshot): Promise<boolean> {
    const stored = await this.db.query<{ name: string }[]>(
      `INSERT INTO snapshots (name, schema_version, transaction_id, global_position, state, taken_by)
       VALUES ($1, $2, $3::xid8, $4, $5, $6)
       ON CONFLICT (name, schema_version) DO UPDATE
         SET transaction_id = EXCLUDED.transaction_id, global_position = EXCLUDED.global_position,
             state = EXCLUDED.state, taken_by = EXCLUDED.taken_by, taken_at = now()
         WHERE (snapshots.transaction_id, snapshots.global_position)
             < (EXCLUDED.transaction_id, EXCLUDED.global_position)
       RETURNING name`,
      [
        this.name,
        snapshot.schemaVersion,
        snapshot.checkpoint.transactionId,
        snapshot.checkpoint.globalPosition,
        snapshot.state,
        snapshot.takenBy,
      ],
    );
    return stored.length > 0;
  }

  /**
   * The snapshot of `schemaVersion` if there is one, else the newest of any other
   * version (which the caller cannot read, and should say so), else undefined.
   */
  async latest(schemaVersion: number): Promise<StoredSnapshot | undefined> {
    const [row] = await this.db.query<SnapshotRow[]>(
      `SELECT schema_version, transaction_id::text AS transaction_id, global_position, state, taken_at, taken_by
       FROM snapshots WHERE name = $1
       ORDER BY schema_version = $2 DESC, transaction_id DESC, global_position DESC
       LIMIT 1`,
      [this.name, schemaVersion],
    );
    return row === undefined
      ? undefined
      : {
          schemaVersion: row.schema_version,
          checkpoint: {
            transactionId: row.transaction_id,
            globalPosition: Number(row.global_position),
          },
          state: row.state,
          takenAt: row.taken_at,
          takenBy: row.taken_by,
        };
  }
}
