import { BrokerEventSchema, type AlertingEventOf } from '@broker/contracts';
import { AlertBook, AlertFacts, WebhookRegistry } from '@broker/domain';
import {
  LOG_START,
  PostgresLogFollower,
  type EventFeed,
  type PostgresEventStore,
  type StoredEvent,
} from '@broker/event-store';

/**
 * What the alerting service knows, folded from the log: the facts the rules
 * read, which alerts fire, and the webhook endpoints. Folded from Postgres at
 * start, then kept current from the relayed log.
 */
export class AlertProjection {
  readonly facts = new AlertFacts();
  readonly book = new AlertBook();
  readonly webhooks = new WebhookRegistry();
  private readonly fold: PostgresLogFollower;
  private caughtUp = false;

  constructor(
    private readonly store: PostgresEventStore,
    private readonly feed: EventFeed,
    onError: (error: unknown) => void,
  ) {
    this.fold = new PostgresLogFollower(store, { onError });
  }

  /** True once the whole log up to the start has been folded. */
  get ready(): boolean {
    return this.caughtUp;
  }

  async start(): Promise<void> {
    const folded = await this.fold.foldFrom(LOG_START, (events) => this.apply(events));
    await this.feed.start(folded, (events) => this.apply(events));
    this.caughtUp = true;
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  /** Reads what another replica appended to one stream, after a lost race. */
  async catchUpStream(streamId: string, knownVersion: number): Promise<void> {
    this.apply(await this.store.readStream(streamId, knownVersion));
  }

  apply(events: readonly StoredEvent[]): void {
    for (const stored of events) {
      const parsed = BrokerEventSchema.safeParse({ type: stored.type, data: stored.data });
      if (!parsed.success) {
        throw new Error(
          `cannot read event ${stored.eventId} (${stored.type}) at position ${stored.globalPosition}: ${parsed.error.message}`,
        );
      }
      const event = parsed.data;
      const result = event.type.startsWith('alert.')
        ? this.book.apply(event as AlertingEventOf<'alert.fired.v1'>, stored.streamVersion)
        : event.type.startsWith('webhook.')
          ? this.webhooks.apply(event as AlertingEventOf<'webhook.added.v1'>, stored.streamVersion)
          : this.facts.apply(event, stored.streamVersion);
      if (result === 'gap') {
        throw new Error(
          `event ${stored.eventId} is version ${stored.streamVersion} of ${stored.streamId}, ahead of the state`,
        );
      }
    }
  }
}
