import { WebhookPayloadSchema, type AlertingEventOf } from '@broker/contracts';
import { iso, NOW } from '../testing/fixtures.js';
import { payloadOf, renderBody, testPayload } from './webhook-payload.js';

const fired: AlertingEventOf<'alert.fired.v1'> = {
  type: 'alert.fired.v1',
  data: {
    alertId: '6f1c1f4e-4a55-4a8e-9a7d-1d2b3c4d5e6f',
    key: 'failure:account-1',
    type: 'failure',
    subject: { credentialId: 'account-1' },
    message: 'High failure rate detected: 35.0%',
    details: { failure_rate: 0.35, success_rate: 0.65, total_requests: 100, error_count: 35 },
    firedAt: iso(NOW),
  },
};

describe('webhook payloads', () => {
  it('has the standard body of DESIGN "Alerting"', () => {
    const payload = payloadOf(fired);
    expect(WebhookPayloadSchema.parse(payload)).toEqual({
      type: 'failure',
      credential_id: 'account-1',
      timestamp: '2026-01-01T00:00:00.000Z',
      message: 'High failure rate detected: 35.0%',
      details: {
        alert_id: fired.data.alertId,
        failure_rate: 0.35,
        success_rate: 0.65,
        total_requests: 100,
        error_count: 35,
      },
    });
  });

  it('sends a resolution as type resolved naming what fired', () => {
    const resolved: AlertingEventOf<'alert.resolved.v1'> = {
      type: 'alert.resolved.v1',
      data: { ...fired.data, message: 'Resolved: x', resolvedAt: iso(NOW + 60_000) },
    };
    expect(payloadOf(resolved)).toMatchObject({
      type: 'resolved',
      timestamp: iso(NOW + 60_000),
      details: { alert_type: 'failure', fired_at: iso(NOW) },
    });
  });

  it('renders the same alert for Slack and Discord incoming webhooks', () => {
    const slack = JSON.parse(renderBody(payloadOf(fired), 'slack'));
    expect(slack.text).toBe('[FAILURE] account-1: High failure rate detected: 35.0%');
    expect(slack.blocks[1].text.text).toContain('• *failure_rate*: 0.35');
    const discord = JSON.parse(renderBody(payloadOf(fired), 'discord'));
    expect(discord.content).toBe(slack.text);
    expect(discord.embeds[0]).toMatchObject({ title: 'failure', color: 0xd83c3e });
    expect(discord.embeds[0].fields).toContainEqual({
      name: 'error_count',
      value: '35',
      inline: true,
    });
  });

  it('has a test event that validates', () => {
    expect(WebhookPayloadSchema.safeParse(testPayload('ops', NOW)).success).toBe(true);
  });
});
