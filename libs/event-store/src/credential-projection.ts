import { CredentialEventSchema, credentialStreamId } from '@broker/contracts';
import { CredentialRegistry } from '@broker/domain';
import type { PostgresEventStore } from './event-store.js';
import { PostgresLogFollower, type EventFeed } from './log-follower.js';
import { LOG_START, type LogCheckpoint, type StoredEvent } from './types.js';

const CREDENTIAL_STREAM = 'credential-';

/**
 * Every credential's state, folded from the log at start and kept current by
 * following it: the read side that the token service and the scheduler share.
 */
export class CredentialProjection {
  readonly registry = new CredentialRegistry();
  private readonly feed: EventFeed;
  private readonly fold: PostgresLogFollower;

  /**
   * Folds the log from Postgres at start; then follows it with `feed` when one is
   * given (the relayed log on JetStream), else by following Postgres itself.
   */
  constructor(
    private readonly store: PostgresEventStore,
    options: {
      listenUrl: string;
      pollIntervalMs?: number;
      onError: (error: unknown) => void;
      feed?: EventFeed;
    },
  ) {
    this.fold = new PostgresLogFollower(store, {
      listenUrl: options.listenUrl,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      onError: options.onError,
    });
    this.feed = options.feed ?? this.fold;
  }

  get checkpoint(): LogCheckpoint {
    return this.feed.checkpoint;
  }

  /** Folds the whole log, then follows it. Resolves once the fold is done. */
  async start(): Promise<void> {
    if (this.feed === this.fold) return this.fold.start(LOG_START, (events) => this.apply(events));
    const folded = await this.fold.foldFrom(LOG_START, (events) => this.apply(events));
    await this.feed.start(folded, (events) => this.apply(events));
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  /** Reads what others appended to one credential's stream and folds it in. */
  async catchUpStream(credentialId: string): Promise<void> {
    const known = this.registry.get(credentialId)?.version ?? 0;
    this.apply(await this.store.readStream(credentialStreamId(credentialId), known));
  }

  /** Folds stored events; each stream version once, whichever path it arrives by. */
  apply(events: readonly StoredEvent[]): void {
    for (const stored of events) {
      if (!stored.streamId.startsWith(CREDENTIAL_STREAM)) continue;
      const parsed = CredentialEventSchema.safeParse({ type: stored.type, data: stored.data });
      if (!parsed.success) {
        // Refuse to fold on: a state built past an event we cannot read would be a lie.
        throw new Error(
          `cannot read event ${stored.eventId} (${stored.type}) at position ${stored.globalPosition}: ${parsed.error.message}`,
        );
      }
      if (this.registry.apply(parsed.data, stored.streamVersion) === 'gap') {
        throw new Error(
          `event ${stored.eventId} is version ${stored.streamVersion} of ${stored.streamId}, ahead of the state`,
        );
      }
    }
  }
}
