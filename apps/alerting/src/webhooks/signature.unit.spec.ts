import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, webhookHeaders } from './signature.js';

const body = JSON.stringify({ type: 'failure', credential_id: 'work1', message: 'x' });

describe('Standard Webhooks signature', () => {
  it('is accepted by the independent standardwebhooks verifier', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders([secret], 'msg_1', body, Date.now());
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('fails when the body, id or timestamp is changed', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders([secret], 'msg_1', body, Date.now());
    const verifier = new Webhook(secret);
    expect(() => verifier.verify(body.replace('work1', 'work2'), headers)).toThrow();
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow();
    const later = String(Number(headers['webhook-timestamp']) + 1);
    expect(() => verifier.verify(body, { ...headers, 'webhook-timestamp': later })).toThrow();
  });

  it('signs with every secret during a rotation, so either verifies', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = webhookHeaders([current, previous], 'msg_1', body, Date.now());
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('is refused by the verifier when the timestamp is stale', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders([secret], 'msg_1', body, Date.now() - 10 * 60_000);
    expect(() => new Webhook(secret).verify(body, headers)).toThrow(/timestamp/i);
  });
});
