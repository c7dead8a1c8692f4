import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SpanAttributes, traceMetadata, withSpan } from '@broker/observability';
import { ExpectedVersionConflictError } from './errors.js';
import { chainHash } from './hash-chain.js';
import type {
  ExpectedVersion,
  InTransaction,
  LogCheckpoint,
  NewEvent,
  StoredEvent,
} from './types.js';

export const EVENTS_CHANNEL = 'broker_events';

export interface EventRow {
  global_position: string;
  transaction_id: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: Date;
  hash: string;
}

/** The columns of an event row, in the shape `toStoredEvent` reads. */
export const EVENT_COLUMNS = `global_position, transaction_id::text AS transaction_id, event_id, stream_id,
  stream_version, type, data, metadata, recorded_at, hash`;

export const toStoredEvent = (row: EventRow): StoredEvent => ({
  globalPosition: Number(row.global_position),
  transactionId: row.transaction_id,
  eventId: row.event_id,
  streamId: row.stream_id,
  streamVersion: row.stream_version,
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  recordedAt: row.recorded_at,
  hash: row.hash,
});

const UNIQUE_VIOLATION = '23505';

/** The event log in Postgres: appends with an expected version, reads in commit order. */
export class PostgresEventStore {
  constructor(private readonly db: DataSource) {}

  /**
   * Appends events to one stream if it is still at `expectedVersion`; the hash chain
   * and the recorded time are fixed inside the transaction, from the database clock.
   */
  async append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly NewEvent[],
    inTransaction?: InTransaction,
  ): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const attributes = {
      [SpanAttributes.streamId]: streamId,
      [SpanAttributes.eventType]: events.map((e) => e.type).join(','),
    };
    return withSpan('events append', { attributes }, async () => {
      // Each event names the trace it was appended in, so that the relay and consumers continue it.
      const traced = events.map((event) => ({
        ...event,
        metadata: { ...traceMetadata(), ...event.metadata },
      }));
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await this.appendOnce(streamId, expectedVersion, traced, inTransaction);
        } catch (error) {
          // 'any' means the caller does not care which version: lose the race, take the next one.
          const raced =
            expectedVersion === 'any' && (error as { code?: string }).code === UNIQUE_VIOLATION;
          if (!raced || attempt >= 10) throw error;
        }
      }
    });
  }

  private async appendOnce(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly NewEvent[],
    inTransaction: InTransaction | undefined,
  ): Promise<StoredEvent[]> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [head] = (await runner.query(
        `SELECT date_trunc('milliseconds', now()) AS now, last.stream_version, last.hash
         FROM (SELECT 1) AS one
         LEFT JOIN LATERAL (
           SELECT stream_version, hash FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1
         ) AS last ON true`,
        [streamId],
      )) as { now: Date; stream_version: number | null; hash: string | null }[];
      const actual = head?.stream_version ?? 0;
      if (expectedVersion !== 'any' && actual !== expectedVersion) {
        throw new ExpectedVersionConflictError(streamId, expectedVersion, actual);
      }
      if (inTransaction !== undefined) {
        // Structured results: rows for every statement, DELETE ... RETURNING included.
        await inTransaction(async (sql, parameters) => {
          const result = (await runner.query(sql, parameters, true)) as { records?: unknown[] };
          return result.records ?? [];
        });
      }
      const recordedAt = head?.now ?? new Date();
      let previousHash = head?.hash ?? '';
      const rows = events.map((event, i) => {
        const fields = {
          eventId: randomUUID(),
          streamId,
          streamVersion: actual + i + 1,
          type: event.type,
          data: event.data,
          metadata: event.metadata,
          recordedAt,
        };
        previousHash = chainHash(previousHash, fields);
        return { ...fields, hash: previousHash };
      });
      const inserted = (await runner.query(
        `INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata, recorded_at, hash)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::jsonb[], $6::jsonb[], $7::timestamptz[], $8::text[])
         RETURNING ${EVENT_COLUMNS}`,
        [
          rows.map((r) => r.eventId),
          rows.map((r) => r.streamId),
          rows.map((r) => r.streamVersion),
          rows.map((r) => r.type),
          rows.map((r) => JSON.stringify(r.data)),
          rows.map((r) => JSON.stringify(r.metadata)),
          rows.map((r) => r.recordedAt),
          rows.map((r) => r.hash),
        ],
      )) as EventRow[];
      await runner.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, streamId]);
      await runner.commitTransaction();
      return inserted.map(toStoredEvent).sort((a, b) => a.streamVersion - b.streamVersion);
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      if ((error as { code?: string }).code === UNIQUE_VIOLATION && expectedVersion !== 'any') {
        // A sibling appended the same version between our read and our insert.
        throw new ExpectedVersionConflictError(
          streamId,
          expectedVersion,
          await this.streamVersion(streamId),
        );
      }
      throw error;
    } finally {
      await runner.release();
    }
  }

  async streamVersion(streamId: string): Promise<number> {
    const [row] = await this.db.query<{ version: number }[]>(
      `SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1`,
      [streamId],
    );
    return Number(row?.version ?? 0);
  }

  async readStream(streamId: string, afterVersion = 0): Promise<StoredEvent[]> {
    const rows = await this.db.query<EventRow[]>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version`,
      [streamId, afterVersion],
    );
    return rows.map(toStoredEvent);
  }

  /**
   * The next committed events after a checkpoint, in commit order. Only rows whose
   * transaction is older than every transaction still running are visible, so a
   * slow transaction holding a lower position is never skipped: readers wait for it.
   */
  async readAll(after: LogCheckpoint, limit = 1000): Promise<StoredEvent[]> {
    const rows = await this.db.query<EventRow[]>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         AND (transaction_id, global_position) > ($1::xid8, $2::bigint)
       ORDER BY events.transaction_id, events.global_position
       LIMIT $3`,
      [after.transactionId, after.globalPosition, limit],
    );
    return rows.map(toStoredEvent);
  }
}
