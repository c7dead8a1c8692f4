import type { AlertingEventOf, WebhookFormat, WebhookPayload } from '@broker/contracts';

type AlertEvent = AlertingEventOf<'alert.fired.v1'> | AlertingEventOf<'alert.resolved.v1'>;

/** The standard body (DESIGN "Alerting"): `type`, `credential_id`, `timestamp`, `message`, `details`. */
export const payloadOf = (event: AlertEvent): WebhookPayload => {
  const d = event.data;
  const base = { credential_id: d.subject.credentialId ?? null, message: d.message };
  if (event.type === 'alert.fired.v1') {
    return {
      ...base,
      type: d.type,
      timestamp: d.firedAt,
      details: { alert_id: d.alertId, ...d.details },
    };
  }
  return {
    ...base,
    type: 'resolved',
    timestamp: event.data.resolvedAt,
    details: { alert_id: d.alertId, alert_type: d.type, fired_at: d.firedAt, ...d.details },
  };
};

export const testPayload = (webhookId: string, now: number): WebhookPayload => ({
  type: 'test',
  credential_id: null,
  timestamp: new Date(now).toISOString(),
  message: `Test event for webhook '${webhookId}': if you can read this, delivery and signing work`,
  details: { webhook_id: webhookId },
});

const headline = (payload: WebhookPayload): string => {
  const subject =
    payload.credential_id ??
    (typeof payload.details['pool'] === 'string'
      ? `${String(payload.details['provider'])}/${payload.details['pool']}`
      : 'broker');
  const label =
    payload.type === 'resolved'
      ? `RESOLVED ${String(payload.details['alert_type'])}`
      : payload.type.toUpperCase();
  return `[${label}] ${subject}: ${payload.message}`;
};

const fieldsOf = (payload: WebhookPayload) =>
  Object.entries(payload.details)
    .filter(([, value]) => value !== null)
    .map(([name, value]) => ({ name, value: String(value) }));

/** DISCORD embed colours: red for an alert, green for a resolution, blue for a test. */
const COLOURS = { alert: 0xd83c3e, resolved: 0x2ea043, test: 0x3b82f6 } as const;

/**
 * The exact body sent: the standard JSON, or what Slack's and Discord's
 * incoming webhooks expect, built from the same payload.
 */
export const renderBody = (payload: WebhookPayload, format: WebhookFormat): string => {
  switch (format) {
    case 'standard':
      return JSON.stringify(payload);
    case 'slack': {
      const lines = fieldsOf(payload).map((f) => `• *${f.name}*: ${f.value}`);
      return JSON.stringify({
        text: headline(payload),
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: `*${headline(payload)}*` } },
          ...(lines.length === 0
            ? []
            : [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }]),
          { type: 'context', elements: [{ type: 'mrkdwn', text: payload.timestamp }] },
        ],
      });
    }
    case 'discord':
      return JSON.stringify({
        content: headline(payload),
        embeds: [
          {
            title: payload.type === 'resolved' ? 'Resolved' : payload.type,
            description: payload.message,
            timestamp: payload.timestamp,
            color:
              payload.type === 'resolved'
                ? COLOURS.resolved
                : payload.type === 'test'
                  ? COLOURS.test
                  : COLOURS.alert,
            fields: fieldsOf(payload)
              .slice(0, 25)
              .map((f) => ({ ...f, inline: true })),
          },
        ],
      });
  }
};
