import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerMessages,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import {
  checkpointOf,
  LOG_START,
  type BatchHandler,
  type EventFeed,
  type LogCheckpoint,
  type StoredEvent,
} from '@broker/event-store';
import { ensureEventStream, PULL_EXPIRES_MS } from './jetstream.js';
import { decodeRelayed } from './relayed-event.js';
import type { SetAsideMessage } from './set-aside.js';

/** Deliveries of one message before the server gives up on it (a backstop: see `take`). */
export const EVENT_MAX_DELIVER = 10;
const ACK_WAIT_MS = 30_000;

const isAfter = (event: LogCheckpoint, checkpoint: LogCheckpoint): boolean => {
  const tx = BigInt(event.transactionId);
  const at = BigInt(checkpoint.transactionId);
  return tx > at || (tx === at && event.globalPosition > checkpoint.globalPosition);
};

const same = (a: LogCheckpoint, b: LogCheckpoint): boolean =>
  a.transactionId === b.transactionId && a.globalPosition === b.globalPosition;

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** What the feed reads from Postgres, the log itself: `PostgresEventStore` is one. */
export interface LogReader {
  readAll(after: LogCheckpoint, limit?: number): Promise<StoredEvent[]>;
}

export interface JetStreamEventFeedOptions {
  readonly nats: NatsConnection;
  readonly subjectRoot: string;
  /** The durable consumer's name; also the consumer named in set-aside records. */
  readonly durable: string;
  /** JetStream replicas of the stream and of this consumer (`BROKER_JETSTREAM_REPLICAS`). */
  readonly replicas: number;
  /** The Postgres log: a failed event's own copy, and events missing from the stream. */
  readonly log: LogReader;
  /** A failed attempt (the feed retries it) or a failed read of the log. */
  readonly onError: (error: unknown) => void;
  /** A message given up on: record it where an operator sees it. */
  readonly onSetAside: (record: SetAsideMessage) => void | Promise<void>;
  /** Attempts at one event before it is set aside (default 5). */
  readonly maxAttempts?: number;
  /** Wait before the second attempt, doubled for each one after (default 250 ms). */
  readonly retryDelayMs?: number;
}

/**
 * Follows the relayed log on JetStream with a durable consumer of its own, so
 * that a consumer that was down resumes where it stopped. Events are applied
 * strictly in commit order, one message at a time: positions at or before the
 * checkpoint (already folded) are acknowledged and skipped; a failed event is
 * retried in place, from its Postgres copy, before anything later is applied,
 * and set aside (recorded, terminated) only after `maxAttempts`; events the
 * stream lacks (a message the server gave up on) are read from Postgres, which
 * every message names the predecessor of.
 */
export class JetStreamEventFeed implements EventFeed {
  private current: LogCheckpoint = LOG_START;
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: JetStreamEventFeedOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 250;
  }

  get checkpoint(): LogCheckpoint {
    return this.current;
  }

  async start(from: LogCheckpoint, handler: BatchHandler): Promise<void> {
    const { nats, subjectRoot, durable, replicas } = this.options;
    this.current = from;
    this.stopped = false;
    const stream = await ensureEventStream(nats, subjectRoot, replicas);
    const jsm = await nats.jetstreamManager();
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      max_deliver: EVENT_MAX_DELIVER,
      // A consumer nobody has used for a week is removed by the server.
      inactive_threshold: nanos(7 * 86_400_000),
      num_replicas: replicas,
    };
    await jsm.consumers.add(stream, config).catch(async (error: unknown) => {
      const existing = await jsm.consumers.info(stream, durable).catch(() => undefined);
      if (existing === undefined) throw error;
      // A consumer made before max_deliver was set gets it now.
      if (existing.config.max_deliver !== EVENT_MAX_DELIVER)
        await jsm.consumers.update(stream, durable, { max_deliver: EVENT_MAX_DELIVER });
    });
    const consumer = await nats.jetstream().consumers.get(stream, durable);
    this.messages = await consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
    void this.follow(this.messages, handler);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
  }

  private async follow(messages: ConsumerMessages, handler: BatchHandler): Promise<void> {
    for await (const message of messages) {
      if (this.stopped) return;
      await this.take(message, handler);
    }
  }

  /** One message, settled before the next is looked at: that is what keeps commit order. */
  private async take(message: JsMsg, handler: BatchHandler): Promise<void> {
    const decoded = decodeRelayed(message.data, message.headers);
    if (!decoded.ok) {
      // No delivery changes its bytes; it names no position, so nothing of the log is lost.
      await this.setAside(message, decoded.problem, message.info.redeliveryCount);
      message.term();
      return;
    }
    const { event, previous } = decoded;
    if (!isAfter(event, this.current)) {
      message.ack();
      return;
    }
    if (previous !== undefined && !same(previous, this.current))
      await this.fillGap(event, message, handler);
    if (this.stopped) return;
    if (isAfter(event, this.current) && !(await this.applyInPlace(event, message, handler, true))) {
      message.term();
      return;
    }
    message.ack();
  }

  /** Applies from Postgres the events committed between the checkpoint and `event`. */
  private async fillGap(event: StoredEvent, message: JsMsg, handler: BatchHandler): Promise<void> {
    for (let wait = this.retryDelayMs; !this.stopped;) {
      let missing: StoredEvent[];
      try {
        missing = (await this.options.log.readAll(this.current, 100)).filter((e) =>
          isAfter(event, checkpointOf(e)),
        );
      } catch (error) {
        this.options.onError(error);
        message.working();
        await sleep(wait);
        wait = Math.min(wait * 2, ACK_WAIT_MS / 4);
        continue;
      }
      if (missing.length === 0) return;
      for (const stored of missing) await this.applyInPlace(stored, message, handler, false);
    }
  }

  /**
   * Applies one event, retrying it (from its Postgres copy after the first
   * failure) while the message is kept; false once it has been set aside.
   * `own`: the message holds this event (else it was read from Postgres to fill a gap).
   */
  private async applyInPlace(
    event: StoredEvent,
    message: JsMsg,
    handler: BatchHandler,
    own: boolean,
  ): Promise<boolean> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      if (attempt > 1) {
        message.working();
        await sleep(this.retryDelayMs * 2 ** (attempt - 2));
        if (this.stopped) return false;
      }
      try {
        const copy = attempt === 1 ? event : ((await this.logCopyOf(event)) ?? event);
        await handler([copy]);
        this.current = checkpointOf(event);
        return true;
      } catch (error) {
        lastError = error;
        this.options.onError(error);
      }
    }
    this.current = checkpointOf(event);
    await this.setAside(own ? message : undefined, errorText(lastError), this.maxAttempts, event);
    return false;
  }

  private async logCopyOf(event: StoredEvent): Promise<StoredEvent | undefined> {
    const [next] = await this.options.log.readAll(this.current, 1).catch(() => []);
    return next?.eventId === event.eventId ? next : undefined;
  }

  private async setAside(
    message: JsMsg | undefined,
    reason: string,
    attempts: number,
    event?: StoredEvent,
  ): Promise<void> {
    const record: SetAsideMessage = {
      consumer: this.options.durable,
      subject: message?.subject ?? `${this.options.subjectRoot}.v1.events.${event?.type ?? ''}`,
      ...(message === undefined ? {} : { streamSequence: message.seq }),
      attempts,
      reason,
      ...(event === undefined
        ? {}
        : {
            event: {
              eventId: event.eventId,
              type: event.type,
              streamId: event.streamId,
              globalPosition: event.globalPosition,
              transactionId: event.transactionId,
            },
          }),
    };
    try {
      await this.options.onSetAside(record);
    } catch (error) {
      this.options.onError(error);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
