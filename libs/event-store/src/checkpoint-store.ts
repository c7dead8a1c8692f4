import type { DataSource } from 'typeorm';
import { LOG_START, type LogCheckpoint } from './types.js';

/**
 * Named checkpoints in the log. A store only moves a checkpoint forward, so a
 * repeated or late store (a relay that lost its turn) is a no-op.
 */
export class CheckpointStore {
  constructor(private readonly db: DataSource) {}

  async load(name: string): Promise<LogCheckpoint> {
    const [row] = await this.db.query<{ transaction_id: string; global_position: string }[]>(
      `SELECT transaction_id::text AS transaction_id, global_position FROM relay_checkpoints WHERE name = $1`,
      [name],
    );
    return row === undefined
      ? LOG_START
      : { transactionId: row.transaction_id, globalPosition: Number(row.global_position) };
  }

  async store(name: string, checkpoint: LogCheckpoint): Promise<void> {
    await this.db.query(
      `INSERT INTO relay_checkpoints (name, transaction_id, global_position) VALUES ($1, $2::xid8, $3)
       ON CONFLICT (name) DO UPDATE
         SET transaction_id = EXCLUDED.transaction_id, global_position = EXCLUDED.global_position, updated_at = now()
         WHERE (relay_checkpoints.transaction_id, relay_checkpoints.global_position)
             < (EXCLUDED.transaction_id, EXCLUDED.global_position)`,
      [name, checkpoint.transactionId, checkpoint.globalPosition],
    );
  }
}
