export interface NewEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Record<string, unknown>;
}

export interface StoredEvent {
  readonly globalPosition: number;
  readonly transactionId: string;
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Record<string, unknown>;
  readonly recordedAt: Date;
  readonly hash: string;
}

/**
 * Where a reader stands in the log: commit order is (transaction id, position),
 * not position alone, because positions are taken before their transactions commit.
 */
export interface LogCheckpoint {
  readonly transactionId: string;
  readonly globalPosition: number;
}

export const LOG_START: LogCheckpoint = { transactionId: '0', globalPosition: 0 };

export const checkpointOf = (event: StoredEvent): LogCheckpoint => ({
  transactionId: event.transactionId,
  globalPosition: event.globalPosition,
});

/** Expected version: a number (0 = the stream must not exist yet) or 'any'. */
export type ExpectedVersion = number | 'any';

/** Runs SQL inside an append's transaction. */
export type TransactionQuery = (sql: string, parameters?: unknown[]) => Promise<unknown[]>;

/**
 * Work that must commit or roll back with the appended events, e.g. taking or
 * releasing a refresh lock. It runs before the insert; throwing aborts the append.
 */
export type InTransaction = (query: TransactionQuery) => Promise<void>;
