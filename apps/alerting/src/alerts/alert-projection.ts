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
  /** Metadata of the newest traced event per credential or pool: the cause an alert continues. */
  private readonly causes = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly store: PostgresEventStore,
    private readonly feed: EventFeed,
    onError: (error: unknown) => void,
  ) {
    this.fold = new PostgresLogFollower(store, { onError });
  }

  get checkpoint() {
    return this.feed.checkpoint;
  }

  /** The trace fields of what last happened to a credential (or a pool), if it was traced. */
  causeOf(subject: {
    credentialId?: string;
    provider?: string;
    pool?: string;
  }): Record<string, unknown> | undefined {
    return this.causes.get(
      subject.credentialId ?? `${subject.provider ?? ''}/${subject.pool ?? ''}`,
    );
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
      this.rememberCause(event, stored.metadata);
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

  private rememberCause(event: { data: object }, metadata: Record<string, unknown>): void {
    if (typeof metadata['traceparent'] !== 'string') return;
    const data = event.data as { credentialId?: unknown; provider?: unknown; pool?: unknown };
    if (typeof data.credentialId === 'string') this.causes.set(data.credentialId, metadata);
    else if (typeof data.provider === 'string' && typeof data.pool === 'string')
      this.causes.set(`${data.provider}/${data.pool}`, metadata);
  }
}
