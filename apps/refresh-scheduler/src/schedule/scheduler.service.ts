import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import { credentialStreamId } from '@broker/contracts';
import { decide, DEFAULT_HEALTH_POLICY, type CredentialState } from '@broker/domain';
import {
  CREDENTIALS_SNAPSHOT,
  CredentialProjection,
  ExpectedVersionConflictError,
  LogLag,
  PostgresEventStore,
  SnapshotStore,
  type Lag,
} from '@broker/event-store';
import { JetStreamEventFeed } from '@broker/nats-transport';
import {
  consumerLagMetrics,
  errorMessage,
  injectTraceHeaders,
  schedulerMetrics,
  SpanAttributes,
  SpanKind,
  traceMetadata,
  withSpan,
  type Logger,
  type Registry,
  type SchedulerMetrics,
} from '@broker/observability';
import { pickDue } from '@broker/scheduling';
import {
  CLOCK,
  CONFIG,
  DATA_SOURCE,
  LOGGER,
  METRICS,
  NATS,
  setAsideRecorder,
  type Clock,
} from '@broker/service-shell';
import { LeadershipKeeper } from './leadership.js';
import { commandFor, commandKey, maxConcurrentFor, plan, type Planned } from './planner.js';

const TICK_MS = 250;
/** A command with no outcome in the log after this long may be sent again. */
const PENDING_TIMEOUT_MS = 120_000;

/** Trace context for a command's message headers; none outside a trace. */
const traceHeaders = (): MsgHdrs | undefined => {
  const h = natsHeaders();
  injectTraceHeaders(h);
  return h.has('traceparent') ? h : undefined;
};

/**
 * Follows the log, plans every credential's next refresh, and, while it leads,
 * sends the due ones to the token service's work queue within each provider's cap.
 */
@Injectable()
export class SchedulerService implements OnModuleDestroy {
  private readonly projection: CredentialProjection;
  private readonly store: PostgresEventStore;
  private readonly lagOf: LogLag;
  private readonly metrics: SchedulerMetrics;
  private folded = false;
  private readonly decommissionsSent = new Set<string>();
  readonly leadership: LeadershipKeeper;
  private readonly pending = new Map<string, { key: string; sentAt: number; provider: string }>();
  /** Sends per command key: a re-send after a timeout gets a new message id, so it is not deduplicated away. */
  private readonly sends = new Map<string, number>();
  private planned: Planned[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    @Inject(DATA_SOURCE) db: DataSource,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) registry: Registry,
  ) {
    this.store = new PostgresEventStore(db);
    this.lagOf = new LogLag(db);
    this.projection = new CredentialProjection(this.store, {
      listenUrl: config.databaseUrl,
      // After the fold from Postgres, the relayed log on JetStream, with a durable consumer per replica.
      feed: new JetStreamEventFeed({
        nats,
        subjectRoot: config.subjectRoot,
        durable: `refresh-scheduler-${config.replicaId.replace(/[^A-Za-z0-9_-]/g, '_')}`,
        replicas: config.jetStreamReplicas,
        log: this.store,
        onError: (error) =>
          this.logger.warn(
            { err: errorMessage(error) },
            'applying a relayed event failed; retrying',
          ),
        onSetAside: setAsideRecorder({
          store: this.store,
          logger,
          metrics: registry,
          replica: config.replicaId,
          now: () => clock.now(),
        }),
      }),
      onError: (error) =>
        this.logger.warn({ err: errorMessage(error) }, 'following the log failed; retrying'),
      // Starts from the token service's newest snapshot, if readable; writes none itself.
      snapshots: new SnapshotStore(db, CREDENTIALS_SNAPSHOT),
      loadSnapshot: config.file.snapshots?.load ?? true,
    });
    this.leadership = new LeadershipKeeper(db, config.replicaId, logger);
    this.metrics = schedulerMetrics(registry, () => this.leadership.leading);
    consumerLagMetrics(registry, 'refresh-scheduler', () => this.lag());
  }

  /** True once the log has been folded at start. */
  get started(): boolean {
    return this.folded;
  }

  /** How far this replica's projection is behind the log. */
  lag(): Promise<Lag> {
    return this.lagOf.behind(this.projection.checkpoint);
  }

  async start(): Promise<void> {
    const origin = await this.projection.start();
    if (origin.from === 'log start' && origin.snapshotIgnored !== undefined) {
      this.logger.warn(
        { reason: origin.snapshotIgnored },
        'snapshot ignored; folded the whole log',
      );
    }
    this.folded = true;
    await this.leadership.start();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    await this.tick();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.leadership.stop();
    await this.projection.stop();
  }

  /** The current plan, for `schedule.list`. */
  schedule(): readonly Planned[] {
    return this.planned;
  }

  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.clock.now();
      this.planned = this.projection.registry
        .all()
        .map((credential) => plan(credential, this.config.file, now));
      this.forgetSettled(now);
      if (this.leadership.leading) {
        await this.sendDue(now);
        await this.rotate(now);
      }
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, 'scheduling tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /** A sent command is settled once the log shows its outcome (or it has waited too long). */
  private forgetSettled(now: number): void {
    for (const [id, sent] of this.pending) {
      const credential = this.projection.registry.get(id);
      const settled =
        credential === undefined ||
        credential.status !== 'active' ||
        (commandKey(credential) !== sent.key && credential.refresh.inFlight === null);
      if (settled) this.sends.delete(sent.key);
      if (settled || now - sent.sentAt > PENDING_TIMEOUT_MS) this.pending.delete(id);
    }
  }

  /**
   * Rotation: a credential past its pool's interval is due (an event, once);
   * one whose grace period after a successor has ended is decommissioned.
   */
  private async rotate(now: number): Promise<void> {
    for (const { credential, rotationDueAt } of this.planned) {
      if (credential.status !== 'active') continue;
      const { rotation } = credential;
      if (
        rotationDueAt !== null &&
        now >= rotationDueAt &&
        rotation.dueAt === null &&
        rotation.successorId === null
      ) {
        const interval =
          this.config.file.pools?.[`${credential.provider}/${credential.pool}`]?.rotation
            ?.intervalDays ?? 0;
        await this.append(credential, {
          type: 'MarkRotationDue',
          data: {
            credentialId: credential.id,
            intervalDays: interval,
            dueAt: new Date(rotationDueAt).toISOString(),
          },
        });
        this.logger.info({ credentialId: credential.id, intervalDays: interval }, 'rotation due');
      }
      const auto =
        this.config.file.pools?.[`${credential.provider}/${credential.pool}`]?.rotation
          ?.autoDecommission ?? true;
      if (
        auto &&
        rotation.graceUntil !== null &&
        now >= rotation.graceUntil &&
        !this.decommissionsSent.has(credential.id)
      ) {
        await withSpan(
          'decommission due',
          {
            kind: SpanKind.PRODUCER,
            attributes: {
              [SpanAttributes.credentialId]: credential.id,
              [SpanAttributes.provider]: credential.provider,
              [SpanAttributes.pool]: credential.pool,
            },
          },
          async () => {
            const command = {
              commandId: randomUUID(),
              credentialId: credential.id,
              reason: `rotated to '${rotation.successorId ?? ''}'; grace period over`,
              issuedAt: new Date(now).toISOString(),
              issuedBy: this.config.replicaId,
              ...traceMetadata(),
            };
            const headers = traceHeaders();
            await this.nats
              .jetstream()
              .publish(`${this.config.subjectRoot}.v1.cmd.decommission`, JSON.stringify(command), {
                msgID: `${credential.id}:decommission`,
                ...(headers === undefined ? {} : { headers }),
              });
          },
        );
        this.decommissionsSent.add(credential.id);
        this.logger.info(
          { credentialId: credential.id, successorId: rotation.successorId },
          'decommission command sent',
        );
      }
    }
  }

  /** Appends what the domain decides, once; a conflict is tried again on the next tick. */
  private async append(
    credential: CredentialState,
    command: Parameters<typeof decide>[0],
  ): Promise<void> {
    const events = decide(command, credential, {
      now: this.clock.now(),
      policy: DEFAULT_HEALTH_POLICY,
    });
    try {
      const stored = await this.store.append(
        credentialStreamId(credential.id),
        credential.version,
        events.map((e) => ({
          type: e.type,
          data: e.data,
          metadata: { actor: 'refresh-scheduler', replica: this.config.replicaId },
        })),
      );
      this.projection.apply(stored);
    } catch (error) {
      if (!(error instanceof ExpectedVersionConflictError)) throw error;
    }
  }

  private async sendDue(now: number): Promise<void> {
    const inFlight: Record<string, number> = {};
    for (const { credential } of this.planned) {
      if (credential.refresh.inFlight !== null || this.pending.has(credential.id)) {
        inFlight[credential.provider] = (inFlight[credential.provider] ?? 0) + 1;
      }
    }
    const candidates = this.planned.filter(
      (p): p is Planned & { due: NonNullable<Planned['due']> } =>
        p.due !== null && !this.pending.has(p.credential.id),
    );
    const { start } = pickDue(
      candidates.map((p) => ({
        id: p.credential.id,
        provider: p.credential.provider,
        at: p.due.at,
      })),
      inFlight,
      maxConcurrentFor(this.config.file),
      now,
    );
    const js = this.nats.jetstream();
    for (const id of start) {
      const planned = candidates.find((p) => p.credential.id === id);
      if (planned === undefined) continue;
      const key = commandKey(planned.credential);
      const send = this.sends.get(key) ?? 0;
      this.sends.set(key, send + 1);
      const { credential, due } = planned;
      // The decision starts the refresh's trace: the command carries it in its headers and its body.
      const command = await withSpan(
        `refresh due ${credential.provider}/${credential.pool}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            [SpanAttributes.credentialId]: id,
            [SpanAttributes.provider]: credential.provider,
            [SpanAttributes.pool]: credential.pool,
            [SpanAttributes.reason]: due.reason,
            'broker.strategy': due.strategy,
          },
        },
        async () => {
          const sent = {
            ...commandFor(planned, this.config.replicaId, randomUUID(), now),
            ...traceMetadata(),
          };
          const headers = traceHeaders();
          await js.publish(`${this.config.subjectRoot}.v1.cmd.refresh`, JSON.stringify(sent), {
            msgID: `${key}:${send}`,
            ...(headers === undefined ? {} : { headers }),
          });
          return sent;
        },
      );
      this.metrics.commands.inc({ provider: credential.provider, reason: command.reason });
      this.pending.set(id, { key, sentAt: now, provider: planned.credential.provider });
      this.logger.info(
        { credentialId: id, reason: command.reason, dueAt: command.dueAt, why: planned.due.reason },
        'refresh command sent',
      );
    }
  }
}
