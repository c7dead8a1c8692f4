import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import {
  BrokerError,
  webhookStreamId,
  type AddWebhookRequest,
  type AdminReply,
  type AlertingEvent,
  type WebhookEventFilter,
  type WebhookFormat,
} from '@broker/contracts';
import { testPayload, renderBody, webhookView, type WebhookEndpoint } from '@broker/domain';
import { ExpectedVersionConflictError, PostgresEventStore } from '@broker/event-store';
import type { Logger } from '@broker/observability';
import { KeyRing, secretContext } from '@broker/secrets';
import { AlertProjection } from '../alerts/alert-projection.js';
import { CLOCK, CONFIG, DATA_SOURCE, KEY_RING, LOGGER, type Clock } from '../tokens.js';
import { newDeliveryId } from './delivery-id.js';
import { DeliveryWorker } from './delivery-worker.service.js';
import { generateWebhookSecret } from './signature.js';
import { assertAllowedTarget, WebhookTargetError } from './target-guard.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Webhook endpoints: added from the config file at start and by the `webhooks.*` admin verbs. */
@Injectable()
export class WebhookEndpoints {
  private readonly store: PostgresEventStore;

  constructor(
    @Inject(DATA_SOURCE) db: DataSource,
    private readonly projection: AlertProjection,
    private readonly worker: DeliveryWorker,
    @Inject(KEY_RING) private readonly keyRing: KeyRing,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.store = new PostgresEventStore(db);
  }

  private get allowPrivate(): boolean {
    return this.config.file.alerting?.allowPrivateWebhookTargets ?? false;
  }

  /** Creates or updates the endpoints the config file names; an unchanged one is left alone. */
  async syncFromConfig(): Promise<void> {
    for (const [index, entry] of (this.config.file.alerting?.webhooks ?? []).entries()) {
      const id = entry.id ?? `config-${sha256(entry.url).slice(0, 12)}`;
      const secret = entry.secret ?? generateWebhookSecret();
      const fingerprint = sha256(
        JSON.stringify([entry.url, entry.events, entry.format, entry.secret]),
      );
      if (this.projection.webhooks.get(id)?.configFingerprint === fingerprint) continue;
      try {
        await assertAllowedTarget(entry.url, this.allowPrivate);
      } catch (error) {
        if (error instanceof WebhookTargetError)
          throw new Error(`alerting.webhooks[${index}]: ${error.message}`);
        throw error;
      }
      await this.append(id, {
        type: 'webhook.added.v1',
        data: this.addedData(
          id,
          entry.url,
          entry.events ?? ['all'],
          entry.format ?? 'standard',
          secret,
          'config',
          fingerprint,
        ),
      }).catch((error: unknown) => {
        if (!(error instanceof ExpectedVersionConflictError)) throw error;
      });
      this.logger.info(
        { webhookId: id, origin: new URL(entry.url).origin },
        'webhook from the config file saved',
      );
    }
  }

  async add(request: AddWebhookRequest): Promise<AdminReply<'webhooks.add'>> {
    const id = request.id ?? `wh_${randomBytes(6).toString('hex')}`;
    if (this.projection.webhooks.get(id) !== undefined) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `a webhook with id '${id}' exists; remove it first or pick another id`,
      );
    }
    try {
      await assertAllowedTarget(request.url, this.allowPrivate);
    } catch (error) {
      if (error instanceof WebhookTargetError)
        throw new BrokerError('INVALID_REQUEST', error.message);
      throw error;
    }
    const secret = request.secret ?? generateWebhookSecret();
    const endpoint = await this.append(id, {
      type: 'webhook.added.v1',
      data: this.addedData(
        id,
        request.url,
        request.events ?? ['all'],
        request.format ?? 'standard',
        secret,
        'admin',
      ),
    });
    this.logger.info(
      { webhookId: id, origin: endpoint.origin, events: endpoint.events },
      'webhook added',
    );
    return { ok: true, webhook: webhookView(endpoint, this.clock.now()), secret };
  }

  list(): AdminReply<'webhooks.list'> {
    const now = this.clock.now();
    return { ok: true, webhooks: this.projection.webhooks.all().map((e) => webhookView(e, now)) };
  }

  async remove(id: string): Promise<AdminReply<'webhooks.remove'>> {
    const endpoint = this.require(id);
    await this.append(id, {
      type: 'webhook.removed.v1',
      data: { webhookId: id, removedAt: new Date(this.clock.now()).toISOString() },
    });
    this.logger.info({ webhookId: id }, 'webhook removed');
    return { ok: true, webhook: webhookView(endpoint, this.clock.now()) };
  }

  async rotateSecret(id: string, graceHours = 24): Promise<AdminReply<'webhooks.rotate-secret'>> {
    this.require(id);
    const now = this.clock.now();
    const secret = generateWebhookSecret();
    const endpoint = await this.append(id, {
      type: 'webhook.secret-rotated.v1',
      data: {
        webhookId: id,
        secret: this.keyRing.encrypt(secret, secretContext(id, 'webhookSecret')),
        previousValidUntil: new Date(now + graceHours * 3_600_000).toISOString(),
        rotatedAt: new Date(now).toISOString(),
      },
    });
    this.logger.info({ webhookId: id, graceHours }, 'webhook secret rotated');
    return { ok: true, webhook: webhookView(endpoint, now), secret };
  }

  /** Queues a signed `test` event, sends it at once, and answers with that attempt's outcome. */
  async test(id: string): Promise<AdminReply<'webhooks.test'>> {
    const endpoint = this.require(id);
    const now = this.clock.now();
    const deliveryId = newDeliveryId();
    await this.worker.queue.enqueue({
      id: deliveryId,
      webhookId: id,
      type: 'test',
      alertId: null,
      body: renderBody(testPayload(id, now), endpoint.format),
      traceparent: null,
      createdAt: now,
    });
    await this.worker.attemptNow(deliveryId);
    const delivery = await this.worker.queue.get(deliveryId);
    if (delivery === null) throw new Error(`test delivery ${deliveryId} vanished`);
    return { ok: true, delivery };
  }

  private require(id: string): WebhookEndpoint {
    const endpoint = this.projection.webhooks.get(id);
    if (endpoint === undefined)
      throw new BrokerError('UNKNOWN_WEBHOOK', `no webhook has id '${id}'`);
    return endpoint;
  }

  private addedData(
    id: string,
    url: string,
    events: WebhookEventFilter[],
    format: WebhookFormat,
    secret: string,
    source: 'config' | 'admin',
    configFingerprint?: string,
  ) {
    return {
      webhookId: id,
      origin: new URL(url).origin,
      url: this.keyRing.encrypt(url, secretContext(id, 'webhookUrl')),
      events,
      format,
      secret: this.keyRing.encrypt(secret, secretContext(id, 'webhookSecret')),
      source,
      ...(configFingerprint === undefined ? {} : { configFingerprint }),
      addedAt: new Date(this.clock.now()).toISOString(),
    };
  }

  private async append(id: string, event: AlertingEvent): Promise<WebhookEndpoint> {
    const stored = await this.store.append(
      webhookStreamId(id),
      this.projection.webhooks.version(id),
      [
        {
          type: event.type,
          data: event.data,
          metadata: { actor: 'alerting', replica: this.config.replicaId },
        },
      ],
    );
    this.projection.apply(stored);
    const endpoint = this.projection.webhooks.get(id);
    if (endpoint === undefined && event.type !== 'webhook.removed.v1')
      throw new Error(`webhook ${id} missing after its append`);
    return endpoint as WebhookEndpoint;
  }
}
