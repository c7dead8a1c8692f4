import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import { judgeAttempt, signingSecrets, type WebhookEndpoint } from '@broker/domain';
import { WebhookDeliveryQueue, type ClaimedDelivery } from '@broker/event-store';
import {
  errorMessage,
  SpanKind,
  webhookMetrics,
  withTraceFrom,
  type Logger,
  type Registry,
  type WebhookMetrics,
} from '@broker/observability';
import { KeyRing, secretContext } from '@broker/secrets';
import { AlertProjection } from '../alerts/alert-projection.js';
import { CLOCK, CONFIG, DATA_SOURCE, KEY_RING, LOGGER, METRICS, type Clock } from '../tokens.js';
import { webhookHeaders } from './signature.js';
import { sendWebhook } from './webhook-sender.js';

const POLL_MS = 500;
const BATCH = 16;
const DEFAULT_TIMEOUT_MS = 10_000;

export const secretsOf = (keyRing: KeyRing, endpoint: WebhookEndpoint, now: number): string[] =>
  signingSecrets(endpoint, now).map((sealed) =>
    keyRing.decrypt(sealed, secretContext(endpoint.id, 'webhookSecret')),
  );

export const urlOf = (keyRing: KeyRing, endpoint: WebhookEndpoint): string =>
  keyRing.decrypt(endpoint.sealedUrl, secretContext(endpoint.id, 'webhookUrl'));

/**
 * Works off the delivery queue: claims due deliveries, signs and sends each,
 * and records what the policy makes of the answer. A claim outlives the
 * attempt's timeout, so a worker that dies mid-attempt only delays it.
 */
@Injectable()
export class DeliveryWorker implements OnModuleDestroy {
  readonly queue: WebhookDeliveryQueue;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly timeoutMs: number;
  private readonly worker: string;
  private readonly metrics: WebhookMetrics;

  constructor(
    @Inject(DATA_SOURCE) db: DataSource,
    private readonly projection: AlertProjection,
    @Inject(KEY_RING) private readonly keyRing: KeyRing,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) registry: Registry,
  ) {
    this.metrics = webhookMetrics(registry);
    this.queue = new WebhookDeliveryQueue(db);
    this.timeoutMs = config.file.alerting?.deliveryTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.worker = `${config.replicaId}:${process.pid}`;
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), POLL_MS);
    this.poke();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
    await this.queue.release(this.worker).catch(() => undefined);
  }

  /** Looks for due deliveries now (and once more after the current round, if one runs). */
  poke(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.round()
      .catch((error: unknown) =>
        this.logger.warn({ err: errorMessage(error) }, 'webhook delivery round failed; retrying'),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** Sends one queued delivery at once, whatever its schedule (for `webhooks.test`). */
  async attemptNow(id: string): Promise<void> {
    const claimed = await this.queue.claim(id, this.worker, this.claimMs());
    if (claimed !== null) await this.attempt(claimed);
  }

  private claimMs(): number {
    return this.timeoutMs + 30_000;
  }

  private async round(): Promise<void> {
    for (;;) {
      if (this.stopped || !this.projection.ready) return;
      const due = await this.queue.claimDue(this.clock.now(), this.worker, this.claimMs(), BATCH);
      if (due.length === 0) return;
      await Promise.all(due.map((d) => this.attempt(d)));
      if (due.length < BATCH) return;
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const endpoint = this.projection.webhooks.get(delivery.webhookId);
    const log = { deliveryId: delivery.id, webhookId: delivery.webhookId, type: delivery.type };
    if (endpoint === undefined) {
      await this.queue.dead(
        delivery.id,
        this.worker,
        null,
        'no such webhook',
        'the webhook was removed',
      );
      this.logger.warn(log, 'webhook delivery dropped: its endpoint was removed');
      return;
    }
    const attemptNo = delivery.attempts + 1;
    const headers = webhookHeaders(
      secretsOf(this.keyRing, endpoint, this.clock.now()),
      delivery.id,
      delivery.body,
      // The signed timestamp is the real send time: receivers check it against their own clock.
      Date.now(),
    );
    // Only the origin goes on the span: the paths of chat webhook URLs are secrets.
    const result = await withTraceFrom(
      { traceparent: delivery.traceparent },
      'webhook deliver',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'server.address': endpoint.origin,
          'webhook.id': endpoint.id,
          'webhook.delivery_id': delivery.id,
          'webhook.attempt': attemptNo,
        },
      },
      async (span) => {
        const sent = await sendWebhook(urlOf(this.keyRing, endpoint), headers, delivery.body, {
          timeoutMs: this.timeoutMs,
          allowPrivate: this.config.file.alerting?.allowPrivateWebhookTargets ?? false,
        });
        span?.setAttribute('http.response.status_code', sent.kind === 'response' ? sent.status : 0);
        return sent;
      },
    );
    const now = this.clock.now();
    const verdict = judgeAttempt(result, attemptNo, now, Math.random());
    const status = result.kind === 'response' ? result.status : null;
    const what = result.kind === 'response' ? `receiver answered ${result.status}` : result.error;
    const where = { ...log, origin: endpoint.origin, attempt: attemptNo, status };
    this.metrics.deliveries.inc({ outcome: verdict.outcome });
    switch (verdict.outcome) {
      case 'delivered':
        await this.queue.delivered(delivery.id, this.worker, status ?? 0, now);
        this.logger.info(where, 'webhook delivered');
        return;
      case 'retry':
        await this.queue.retryAt(delivery.id, this.worker, status, what, verdict.at);
        this.logger.warn(
          { ...where, error: what, nextAttemptAt: new Date(verdict.at).toISOString() },
          'webhook attempt failed; retrying on schedule',
        );
        return;
      case 'dead':
        await this.queue.dead(delivery.id, this.worker, status, what, verdict.why);
        this.logger.error(
          { ...where, reason: verdict.why },
          'webhook delivery gave up; dead-lettered (oauthctl webhooks redeliver replays it)',
        );
        return;
    }
  }
}
