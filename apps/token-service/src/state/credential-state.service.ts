import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  BrokerError,
  credentialStreamId,
  type CredentialEvent,
  type EventMetadata,
} from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import { poolPolicy } from '@broker/config';
import {
  decide,
  DEFAULT_HEALTH_POLICY,
  type CredentialCommand,
  type CredentialRegistry,
  type CredentialState,
} from '@broker/domain';
import {
  CREDENTIALS_SNAPSHOT,
  CredentialProjection,
  ExpectedVersionConflictError,
  PostgresEventStore,
  SnapshotStore,
  type InTransaction,
  type LogCheckpoint,
  type SnapshotTaken,
} from '@broker/event-store';
import { errorMessage, type Logger } from '@broker/observability';
import { CLOCK, CONFIG, DATA_SOURCE, LOGGER, type Clock } from '../tokens.js';

const MAX_CONFLICT_RETRIES = 5;

/**
 * The replica's view of every credential: folded from the log at start, kept
 * current by following it, and the one place commands become appended events.
 */
@Injectable()
export class CredentialStateService implements OnModuleDestroy {
  readonly store: PostgresEventStore;
  private readonly projection: CredentialProjection;
  private lastFollowError = 0;
  private folded = false;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.store = new PostgresEventStore(dataSource);
    this.projection = new CredentialProjection(this.store, {
      listenUrl: config.databaseUrl,
      onError: (error) => this.followError(error),
      snapshots: new SnapshotStore(dataSource, CREDENTIALS_SNAPSHOT),
      loadSnapshot: config.file.snapshots?.load ?? true,
    });
  }

  get registry(): CredentialRegistry {
    return this.projection.registry;
  }

  /** Where this replica's view stands in the log. */
  get checkpoint(): LogCheckpoint {
    return this.projection.checkpoint;
  }

  /** True once the whole log has been folded at start. */
  get started(): boolean {
    return this.folded;
  }

  /** Folds the log (from the newest snapshot if one is readable), then follows it. */
  async start(): Promise<void> {
    const started = performance.now();
    const origin = await this.projection.start();
    if (origin.from === 'log start' && origin.snapshotIgnored !== undefined) {
      this.logger.warn(
        { reason: origin.snapshotIgnored },
        'snapshot ignored; folded the whole log',
      );
    }
    this.folded = true;
    this.logger.info(
      {
        credentials: this.registry.size,
        checkpoint: this.projection.checkpoint,
        from: origin.from === 'snapshot' ? { snapshot: origin.checkpoint } : 'log start',
        events: this.projection.eventsFolded,
        ms: Math.round(performance.now() - started),
      },
      'log folded',
    );
  }

  /** Events folded since start: the snapshot writer's measure of how stale the last one is. */
  get eventsFolded(): number {
    return this.projection.eventsFolded;
  }

  saveSnapshot(): Promise<SnapshotTaken> {
    return this.projection.saveSnapshot(this.config.replicaId);
  }

  async onModuleDestroy(): Promise<void> {
    await this.projection.stop();
  }

  get(id: string): CredentialState | undefined {
    return this.registry.get(id);
  }

  /**
   * Decides a command against the current state and appends the events, retrying
   * on a version conflict after reading what the sibling appended. Returns the events.
   */
  async execute(
    credentialId: string,
    command: CredentialCommand,
    metadata: EventMetadata,
    inTransaction?: InTransaction,
  ): Promise<CredentialEvent[]> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt += 1) {
      const state = this.registry.get(credentialId) ?? null;
      const policy =
        state === null
          ? DEFAULT_HEALTH_POLICY
          : poolPolicy(this.config.file, state.provider, state.pool).health;
      const events = decide(command, state, { now: this.clock.now(), policy });
      if (events.length === 0) return [];
      try {
        const stored = await this.store.append(
          credentialStreamId(credentialId),
          state?.version ?? 0,
          events.map((event) => ({
            type: event.type,
            data: event.data,
            metadata: { ...metadata },
          })),
          inTransaction,
        );
        this.projection.apply(stored);
        return events;
      } catch (error) {
        if (!(error instanceof ExpectedVersionConflictError)) throw error;
        await this.catchUpStream(credentialId);
      }
    }
    throw new BrokerError(
      'INTERNAL',
      `credential '${credentialId}' is changing too fast; try again`,
    );
  }

  /** Reads what other replicas appended to this credential's stream and folds it in. */
  catchUpStream(credentialId: string): Promise<void> {
    return this.projection.catchUpStream(credentialId);
  }

  private followError(error: unknown): void {
    const now = Date.now();
    if (now - this.lastFollowError < 5000) return; // one line per outage, not one per poll
    this.lastFollowError = now;
    this.logger.warn({ err: errorMessage(error) }, 'following the log failed; retrying');
  }
}
