import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type NatsConnection } from 'nats';
import {
  checkpointOf,
  LOG_START,
  type BatchHandler,
  type EventFeed,
  type LogCheckpoint,
  type StoredEvent,
} from '@broker/event-store';
import { ensureEventStream, PULL_EXPIRES_MS } from './jetstream.js';

interface RelayedEvent {
  eventId: string;
  streamId: string;
  streamVersion: number;
  globalPosition: number;
  transactionId: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

const isAfter = (event: StoredEvent, checkpoint: LogCheckpoint): boolean => {
  const tx = BigInt(event.transactionId);
  const at = BigInt(checkpoint.transactionId);
  return tx > at || (tx === at && event.globalPosition > checkpoint.globalPosition);
};

/**
 * Follows the relayed log on JetStream with a durable consumer of its own, so
 * that a consumer that was down resumes where it stopped. Positions at or
 * before the checkpoint it was started from (already folded) are acknowledged
 * and skipped: each global position is applied once.
 */
export class JetStreamEventFeed implements EventFeed {
  private current: LogCheckpoint = LOG_START;
  private messages: ConsumerMessages | undefined;

  constructor(
    private readonly nats: NatsConnection,
    private readonly subjectRoot: string,
    private readonly durable: string,
    private readonly onError: (error: unknown) => void,
    /** JetStream replicas of the stream and of this consumer (`BROKER_JETSTREAM_REPLICAS`). */
    private readonly replicas: number,
  ) {}

  get checkpoint(): LogCheckpoint {
    return this.current;
  }

  async start(from: LogCheckpoint, handler: BatchHandler): Promise<void> {
    this.current = from;
    const stream = await ensureEventStream(this.nats, this.subjectRoot, this.replicas);
    const jsm = await this.nats.jetstreamManager();
    await jsm.consumers
      .add(stream, {
        durable_name: this.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        // A consumer nobody has used for a week is removed by the server.
        inactive_threshold: nanos(7 * 86_400_000),
        num_replicas: this.replicas,
      })
      .catch(async (error: unknown) => {
        if ((await jsm.consumers.info(stream, this.durable).catch(() => undefined)) === undefined)
          throw error;
      });
    const consumer = await this.nats.jetstream().consumers.get(stream, this.durable);
    this.messages = await consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
    void this.follow(this.messages, handler);
  }

  async stop(): Promise<void> {
    await this.messages?.close();
  }

  private async follow(messages: ConsumerMessages, handler: BatchHandler): Promise<void> {
    for await (const message of messages) {
      try {
        const relayed = message.json<RelayedEvent>();
        const event: StoredEvent = {
          ...relayed,
          recordedAt: new Date(relayed.recordedAt),
          hash: '',
        };
        if (isAfter(event, this.current)) {
          await handler([event]);
          this.current = checkpointOf(event);
        }
        message.ack();
      } catch (error) {
        this.onError(error);
        message.nak(1000);
      }
    }
  }
}
