import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  headers as natsHeaders,
  type JetStreamClient,
  type MsgHdrs,
  type NatsConnection,
} from 'nats';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import {
  CheckpointStore,
  checkpointOf,
  PostgresEventStore,
  PostgresLogFollower,
  type LogCheckpoint,
  type StoredEvent,
} from '@broker/event-store';
import { ensureEventStream, relayedBody, relayedHeaders } from '@broker/nats-transport';
import {
  errorMessage,
  injectTraceHeaders,
  SpanAttributes,
  SpanKind,
  withTraceFrom,
  type Logger,
} from '@broker/observability';
import { CONFIG, DATA_SOURCE, LOGGER, NATS } from '../tokens.js';

const RELAY_LOCK = 7_311_001; // advisory lock id: one relay at a time per database
/** The relay's checkpoint in `relay_checkpoints`; its distance to the log head is the relay lag. */
export const RELAY_CHECKPOINT = 'jetstream-relay';
const TRY_EVERY_MS = 2_000;

/**
 * Publishes every committed event to JetStream in commit order, from a
 * checkpoint in Postgres. It runs in one replica at a time: the one holding a
 * session advisory lock, which Postgres frees when that replica's connection
 * dies, so another takes over. A re-publish after a crash between publish and
 * checkpoint carries the same message id (the event id) and is dropped.
 */
@Injectable()
export class EventRelayService implements OnModuleDestroy {
  private readonly store: PostgresEventStore;
  private readonly checkpoints: CheckpointStore;
  private lock: pg.Client | undefined;
  private follower: PostgresLogFollower | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private trying = false;

  constructor(
    @Inject(DATA_SOURCE) db: DataSource,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.store = new PostgresEventStore(db);
    this.checkpoints = new CheckpointStore(db);
  }

  get active(): boolean {
    return this.follower !== undefined;
  }

  start(): void {
    void this.tryToRelay();
    this.timer = setInterval(() => void this.tryToRelay(), TRY_EVERY_MS);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.standDown();
  }

  private async tryToRelay(): Promise<void> {
    if (this.stopped || this.trying || this.active) return;
    this.trying = true;
    const lock = new pg.Client({
      connectionString: this.config.databaseUrl,
      connectionTimeoutMillis: 3000,
    });
    try {
      lock.on('error', () => void this.standDown());
      await lock.connect();
      const [row] = (
        await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
          RELAY_LOCK,
        ])
      ).rows;
      if (row?.locked !== true) {
        await lock.end();
        return;
      }
      this.lock = lock;
      await ensureEventStream(this.nats, this.config.subjectRoot, this.config.jetStreamReplicas);
      const from = await this.checkpoints.load(RELAY_CHECKPOINT);
      const follower = new PostgresLogFollower(this.store, {
        listenUrl: this.config.databaseUrl,
        pollIntervalMs: 200,
        onError: (error) =>
          this.logger.warn(
            { err: errorMessage(error) },
            'relay: publishing failed; retrying from the checkpoint',
          ),
      });
      this.follower = follower;
      // While a batch is handled the follower's checkpoint is still the event before it.
      await follower.start(from, (events) => this.publish(events, follower.checkpoint));
      this.logger.info({ from }, 'relay active');
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, 'relay could not start; trying again');
      await this.standDown();
    } finally {
      this.trying = false;
    }
  }

  private async standDown(): Promise<void> {
    const follower = this.follower;
    const lock = this.lock;
    this.follower = undefined;
    this.lock = undefined;
    await follower?.stop();
    await lock?.end().catch(() => undefined);
  }

  private async publish(events: readonly StoredEvent[], from: LogCheckpoint): Promise<void> {
    const js = this.nats.jetstream();
    let previous = from;
    for (const event of events) {
      const h = natsHeaders();
      for (const [name, value] of relayedHeaders(event, previous)) h.set(name, value);
      previous = checkpointOf(event);
      // An event appended inside a trace is published in a span of that trace, whose context the headers carry on.
      await withTraceFrom(
        event.metadata,
        `relay ${event.type}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            [SpanAttributes.eventType]: event.type,
            [SpanAttributes.streamId]: event.streamId,
          },
        },
        (span) => {
          if (span !== undefined) injectTraceHeaders(h);
          return this.publishOne(js, event, h);
        },
      );
    }
    const last = events[events.length - 1];
    if (last !== undefined) await this.checkpoints.store(RELAY_CHECKPOINT, checkpointOf(last));
  }

  private async publishOne(js: JetStreamClient, event: StoredEvent, h: MsgHdrs): Promise<void> {
    await js.publish(`${this.config.subjectRoot}.v1.events.${event.type}`, relayedBody(event), {
      msgID: event.eventId,
      headers: h,
    });
  }
}
