import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import { alertStreamId } from '@broker/contracts';
import {
  evaluateRules,
  payloadOf,
  renderBody,
  wants,
  type AlertThresholds,
  type RulePolicy,
  type Transition,
} from '@broker/domain';
import {
  enqueueDeliveries,
  ExpectedVersionConflictError,
  PostgresEventStore,
  type NewDelivery,
} from '@broker/event-store';
import {
  errorMessage,
  SpanAttributes,
  traceMetadata,
  withTraceFrom,
  type Logger,
} from '@broker/observability';
import { CLOCK, CONFIG, DATA_SOURCE, LOGGER, type Clock } from '../tokens.js';
import { newDeliveryId } from '../webhooks/delivery-id.js';
import { DeliveryWorker } from '../webhooks/delivery-worker.service.js';
import { AlertProjection } from './alert-projection.js';
import { alertThresholds, rulePolicy } from './alert-thresholds.js';

const TICK_MS = 250;

/**
 * Evaluates the rules against what the log shows and appends each change of an
 * alert's state once: the append carries the alert stream's expected version,
 * so of several replicas only one wins, and its deliveries are queued in the
 * same transaction, so an alert is never recorded without its webhooks.
 */
@Injectable()
export class AlertEngine implements OnModuleDestroy {
  private readonly store: PostgresEventStore;
  private readonly thresholds: AlertThresholds;
  private readonly policy: RulePolicy;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    @Inject(DATA_SOURCE) db: DataSource,
    private readonly projection: AlertProjection,
    private readonly worker: DeliveryWorker,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.store = new PostgresEventStore(db);
    this.thresholds = alertThresholds(config.file);
    this.policy = rulePolicy(config.file);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    while (this.ticking) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  async tick(): Promise<void> {
    if (this.ticking || !this.projection.ready) return;
    this.ticking = true;
    try {
      const now = this.clock.now();
      const { facts, book } = this.projection;
      const conditions = evaluateRules(facts, now, this.thresholds, book.firingKeys(), this.policy);
      for (const transition of book.reconcile(conditions, now, randomUUID)) {
        await this.commit(transition, now);
      }
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, 'alert evaluation failed; retrying');
    } finally {
      this.ticking = false;
    }
  }

  private deliveriesFor(transition: Transition, now: number): NewDelivery[] {
    const { event } = transition;
    const payload = payloadOf(event);
    const kind = event.type === 'alert.fired.v1' ? 'fired' : 'resolved';
    return this.projection.webhooks
      .all()
      .filter((endpoint) => wants(endpoint, kind, event.data.type))
      .map((endpoint) => ({
        id: newDeliveryId(),
        webhookId: endpoint.id,
        type: payload.type,
        alertId: event.data.alertId,
        body: renderBody(payload, endpoint.format),
        traceparent: traceMetadata().traceparent ?? null,
        createdAt: now,
      }));
  }

  /** Within the trace of the event that caused it, when that was traced. */
  private commit(transition: Transition, now: number): Promise<void> {
    const { data } = transition.event;
    return withTraceFrom(
      this.projection.causeOf(data.subject),
      `alert ${data.type}`,
      {
        attributes: {
          'alert.type': data.type,
          'alert.transition': transition.event.type === 'alert.fired.v1' ? 'fired' : 'resolved',
          ...(data.subject.credentialId === undefined
            ? {}
            : { [SpanAttributes.credentialId]: data.subject.credentialId }),
        },
      },
      () => this.commitInTrace(transition, now),
    );
  }

  private async commitInTrace(transition: Transition, now: number): Promise<void> {
    const streamId = alertStreamId(transition.key);
    const deliveries = this.deliveriesFor(transition, now);
    try {
      const stored = await this.store.append(
        streamId,
        transition.expectedVersion,
        [
          {
            type: transition.event.type,
            data: transition.event.data,
            metadata: { actor: 'alerting', replica: this.config.replicaId },
          },
        ],
        (query) => enqueueDeliveries(query, deliveries),
      );
      this.projection.apply(stored);
    } catch (error) {
      if (!(error instanceof ExpectedVersionConflictError)) throw error;
      // Another replica changed this alert first: take its events and judge again next tick.
      await this.projection.catchUpStream(streamId, transition.expectedVersion);
      return;
    }
    const { data } = transition.event;
    this.logger.info(
      {
        alertId: data.alertId,
        alert: data.type,
        key: data.key,
        ...data.subject,
        webhooks: deliveries.length,
      },
      transition.event.type === 'alert.fired.v1'
        ? `alert fired: ${data.message}`
        : `alert resolved: ${data.message}`,
    );
    if (deliveries.length > 0) this.worker.poke();
  }
}
