import pg from 'pg';
import { EVENTS_CHANNEL, type PostgresEventStore } from './event-store.js';
import { checkpointOf, type LogCheckpoint, type StoredEvent } from './types.js';

export type BatchHandler = (events: readonly StoredEvent[]) => void | Promise<void>;

/**
 * A source of committed events in commit order. The Postgres follower below is
 * one; the JetStream relay consumer can take its place behind this interface.
 */
export interface EventFeed {
  readonly checkpoint: LogCheckpoint;
  /** Reads everything committed so far, then keeps following until stopped. */
  start(from: LogCheckpoint, handler: BatchHandler): Promise<void>;
  stop(): Promise<void>;
}

export interface LogFollowerOptions {
  /** Connection for LISTEN; without it the follower only polls. */
  readonly listenUrl?: string;
  readonly pollIntervalMs?: number;
  readonly batchSize?: number;
  readonly onError?: (error: unknown) => void;
}

/** Follows the log by polling, woken early by NOTIFY from appends. */
export class PostgresLogFollower implements EventFeed {
  private current: LogCheckpoint = { transactionId: '0', globalPosition: 0 };
  private handler: BatchHandler = () => undefined;
  private timer: NodeJS.Timeout | undefined;
  private listener: pg.Client | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: PostgresEventStore,
    private readonly options: LogFollowerOptions = {},
  ) {}

  get checkpoint(): LogCheckpoint {
    return this.current;
  }

  async start(from: LogCheckpoint, handler: BatchHandler): Promise<void> {
    this.current = from;
    this.handler = handler;
    this.stopped = false;
    await this.catchUp();
    if (this.options.listenUrl !== undefined) void this.listen(this.options.listenUrl);
    this.timer = setInterval(() => this.poke(), this.options.pollIntervalMs ?? 500);
  }

  /** Reads everything committed after `from` once, without following; returns where it stopped. */
  async foldFrom(from: LogCheckpoint, handler: BatchHandler): Promise<LogCheckpoint> {
    this.current = from;
    this.handler = handler;
    await this.catchUp();
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.listener?.end().catch(() => undefined);
    await this.running?.catch(() => undefined);
  }

  /** Reads every committed event after the checkpoint, batch by batch. */
  async catchUp(): Promise<void> {
    const size = this.options.batchSize ?? 1000;
    for (;;) {
      const batch = await this.store.readAll(this.current, size);
      if (batch.length === 0) return;
      await this.handler(batch);
      this.current = checkpointOf(batch[batch.length - 1] as StoredEvent);
      if (batch.length < size) return;
    }
  }

  /** Starts a catch-up unless one runs; then it runs once more when that one ends. */
  poke(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.catchUp()
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async listen(url: string): Promise<void> {
    while (!this.stopped) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      this.listener = client;
      try {
        const ended = new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
        });
        client.on('notification', () => this.poke());
        await client.connect();
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
        this.poke(); // anything appended while we were not listening
        await ended;
      } catch (error) {
        if (!this.stopped) this.options.onError?.(error);
      }
      await client.end().catch(() => undefined);
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
