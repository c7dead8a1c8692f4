import { credentialStreamId, parseCredentialEvent } from '@broker/contracts';
import {
  CredentialRegistry,
  decodeRegistrySnapshot,
  encodeRegistrySnapshot,
  REGISTRY_SNAPSHOT_SCHEMA_VERSION,
  SnapshotUnreadableError,
} from '@broker/domain';
import type { PostgresEventStore } from './event-store.js';
import { PostgresLogFollower, type EventFeed } from './log-follower.js';
import type { SnapshotStore } from './snapshot-store.js';
import { LOG_START, type LogCheckpoint, type StoredEvent } from './types.js';

const CREDENTIAL_STREAM = 'credential-';

/** The name of the credential registry's snapshots, shared by every service that folds it. */
export const CREDENTIALS_SNAPSHOT = 'credentials';

/** Where a start began folding: a snapshot's checkpoint, or the start of the log and why. */
export type FoldOrigin =
  | { readonly from: 'snapshot'; readonly checkpoint: LogCheckpoint; readonly takenAt: Date }
  | { readonly from: 'log start'; readonly snapshotIgnored?: string };

export interface SnapshotTaken {
  readonly saved: boolean;
  readonly checkpoint: LogCheckpoint;
  readonly credentials: number;
  readonly bytes: number;
}

/**
 * Every credential's state, folded from the log at start and kept current by
 * following it: the read side that the token service and the scheduler share.
 * With a snapshot store it starts from the newest readable snapshot and folds
 * only the tail.
 */
export class CredentialProjection {
  readonly registry = new CredentialRegistry();
  private readonly feed: EventFeed;
  private readonly fold: PostgresLogFollower;
  private folded = 0;

  /**
   * Folds the log from Postgres at start; then follows it with `feed` when one is
   * given (the relayed log on JetStream), else by following Postgres itself.
   */
  constructor(
    private readonly store: PostgresEventStore,
    private readonly options: {
      listenUrl: string;
      pollIntervalMs?: number;
      onError: (error: unknown) => void;
      feed?: EventFeed;
      /** Where snapshots are read at start and written by `saveSnapshot`. */
      snapshots?: SnapshotStore;
      /** Start from the newest snapshot (default true); false folds the whole log. */
      loadSnapshot?: boolean;
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

  /** Events folded in since this projection was created (a snapshot's own not counted). */
  get eventsFolded(): number {
    return this.folded;
  }

  /**
   * Restores the newest snapshot if there is a readable one, folds the log from
   * there, then follows it. Resolves once the fold is done, saying where it began.
   */
  async start(): Promise<FoldOrigin> {
    const origin = await this.restore();
    const from = origin.from === 'snapshot' ? origin.checkpoint : LOG_START;
    if (this.feed === this.fold) {
      await this.fold.start(from, (events) => this.apply(events));
    } else {
      const folded = await this.fold.foldFrom(from, (events) => this.apply(events));
      await this.feed.start(folded, (events) => this.apply(events));
    }
    return origin;
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  /**
   * Stores the state folded so far. State and checkpoint are taken in one go
   * (nothing runs in between), and the state may hold events past the
   * checkpoint (this replica's own appends): folding on from the checkpoint
   * meets them again as duplicates, which the registry ignores.
   */
  async saveSnapshot(takenBy: string): Promise<SnapshotTaken> {
    const snapshots = this.options.snapshots;
    if (snapshots === undefined) throw new Error('this projection has no snapshot store');
    const checkpoint = this.checkpoint;
    const credentials = this.registry.size;
    const state = encodeRegistrySnapshot(this.registry);
    const saved = await snapshots.save({
      schemaVersion: REGISTRY_SNAPSHOT_SCHEMA_VERSION,
      checkpoint,
      state,
      takenBy,
    });
    return { saved, checkpoint, credentials, bytes: Buffer.byteLength(state) };
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
      const parsed = parseCredentialEvent(stored.type, stored.data);
      if (!parsed.success) {
        // Refuse to fold on: a state built past an event we cannot read would be a lie.
        throw new Error(
          `cannot read event ${stored.eventId} (${stored.type}) at position ${stored.globalPosition}: ${parsed.error.message}`,
        );
      }
      const result = this.registry.apply(parsed.data, stored.streamVersion);
      if (result === 'gap') {
        throw new Error(
          `event ${stored.eventId} is version ${stored.streamVersion} of ${stored.streamId}, ahead of the state`,
        );
      }
      if (result === 'applied') this.folded += 1;
    }
  }

  /** Fills the registry from the newest readable snapshot; one that cannot be read is passed over. */
  private async restore(): Promise<FoldOrigin> {
    const snapshots = this.options.snapshots;
    if (snapshots === undefined || this.options.loadSnapshot === false)
      return { from: 'log start' };
    const snapshot = await snapshots.latest(REGISTRY_SNAPSHOT_SCHEMA_VERSION);
    if (snapshot === undefined) return { from: 'log start' };
    if (snapshot.schemaVersion !== REGISTRY_SNAPSHOT_SCHEMA_VERSION) {
      return {
        from: 'log start',
        snapshotIgnored: `snapshot '${snapshots.name}' has schema version ${snapshot.schemaVersion}; this version reads ${REGISTRY_SNAPSHOT_SCHEMA_VERSION}`,
      };
    }
    try {
      this.registry.restore(decodeRegistrySnapshot(snapshot.state));
    } catch (error) {
      if (!(error instanceof SnapshotUnreadableError)) throw error;
      return {
        from: 'log start',
        snapshotIgnored: `snapshot '${snapshots.name}': ${error.message}`,
      };
    }
    return { from: 'snapshot', checkpoint: snapshot.checkpoint, takenAt: snapshot.takenAt };
  }
}
