import {
  alertStreamId,
  BrokerEventSchema,
  describeIssues,
  webhookStreamId,
  type AlertingEventOf,
} from '@broker/contracts';
import { AlertBook, WebhookRegistry, type AlertRecord, type WebhookEndpoint } from '@broker/domain';
import type { StoredEvent } from './types.js';

export const ALERT_STREAM = 'alert-';
export const WEBHOOK_STREAM = 'webhook-';

type AlertEvent = AlertingEventOf<'alert.fired.v1' | 'alert.resolved.v1'>;
type WebhookEvent = AlertingEventOf<
  'webhook.added.v1' | 'webhook.secret-rotated.v1' | 'webhook.removed.v1'
>;

export const isAlertingStream = (streamId: string): boolean =>
  streamId.startsWith(ALERT_STREAM) || streamId.startsWith(WEBHOOK_STREAM);

/**
 * Alert and webhook endpoint streams folded with the alerting service's own
 * `AlertBook` and `WebhookRegistry`. Keeps each stream's state at a version it
 * is told (the one a live service answered with) to compare the two there.
 */
export class AlertingFold {
  readonly alerts = new AlertBook();
  readonly webhooks = new WebhookRegistry();
  private readonly keptAlerts = new Map<string, AlertRecord>();
  private readonly keptWebhooks = new Map<string, WebhookEndpoint | undefined>();

  /** `keepAtVersion`: stream id → version, as `alertStreamId` and `webhookStreamId` name them. */
  constructor(private readonly keepAtVersion: ReadonlyMap<string, number> = new Map()) {}

  /** Folds one event of an alert or webhook stream; returns what is wrong with it, or null. */
  fold(event: StoredEvent): string | null {
    const parsed = BrokerEventSchema.safeParse({ type: event.type, data: event.data });
    if (!parsed.success) return `cannot be read as a broker event: ${describeIssues(parsed.error)}`;
    const alerting = parsed.data;
    if (event.streamId.startsWith(ALERT_STREAM)) {
      if (alerting.type !== 'alert.fired.v1' && alerting.type !== 'alert.resolved.v1')
        return `is not an alert event (${alerting.type}) in an alert stream`;
      return this.foldAlert(alerting, event);
    }
    if (
      alerting.type !== 'webhook.added.v1' &&
      alerting.type !== 'webhook.secret-rotated.v1' &&
      alerting.type !== 'webhook.removed.v1'
    )
      return `is not a webhook event (${alerting.type}) in a webhook endpoint stream`;
    return this.foldWebhook(alerting, event);
  }

  /** The alert as it was at `version`, if the fold was told to keep it or ended there. */
  alertAt(key: string, version: number): AlertRecord | undefined {
    const kept = this.keptAlerts.get(key);
    if (kept?.version === version) return kept;
    const record = this.alerts.get(key);
    return record?.version === version ? record : undefined;
  }

  /** The endpoint as it was at `version`: null if removed then, undefined if the fold did not keep it. */
  webhookAt(id: string, version: number): WebhookEndpoint | null | undefined {
    if (this.keepAtVersion.get(webhookStreamId(id)) === version && this.keptWebhooks.has(id))
      return this.keptWebhooks.get(id) ?? null;
    return this.webhooks.version(id) === version ? (this.webhooks.get(id) ?? null) : undefined;
  }

  private foldAlert(alert: AlertEvent, event: StoredEvent): string | null {
    const key = alert.data.key;
    if (alertStreamId(key) !== event.streamId)
      return `is about alert '${key}', not the one its stream belongs to`;
    const outcome = this.alerts.apply(alert, event.streamVersion);
    if (outcome !== 'applied') return `cannot be folded: the fold says ${outcome}`;
    if (this.keepAtVersion.get(event.streamId) === event.streamVersion)
      this.keptAlerts.set(key, this.alerts.get(key) as AlertRecord);
    return null;
  }

  private foldWebhook(webhook: WebhookEvent, event: StoredEvent): string | null {
    const id = webhook.data.webhookId;
    if (webhookStreamId(id) !== event.streamId)
      return `is about webhook '${id}', not the one its stream belongs to`;
    const outcome = this.webhooks.apply(webhook, event.streamVersion);
    if (outcome !== 'applied') return `cannot be folded: the fold says ${outcome}`;
    if (this.keepAtVersion.get(event.streamId) === event.streamVersion)
      this.keptWebhooks.set(id, this.webhooks.get(id));
    return null;
  }
}
