import { AlertBook, alertView } from '../alerts/alert-book.js';
import { WebhookRegistry, webhookView } from '../alerts/webhook-registry.js';
import { HOUR, iso, NOW } from '../testing/fixtures.js';
import {
  alertDifferencesFromLive,
  webhookDifferencesFromLive,
} from './alerting-live-differences.js';

const fired = {
  type: 'alert.fired.v1' as const,
  data: {
    alertId: '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b',
    key: 'reauth_required:work1',
    type: 'reauth_required' as const,
    subject: { credentialId: 'work1' },
    message: 'Re-authorisation required',
    details: { provider: 'gemini-cli', pool: 'default' },
    firedAt: iso(NOW),
  },
};

const resolved = {
  type: 'alert.resolved.v1' as const,
  data: { ...fired.data, message: 'Resolved: x', resolvedAt: iso(NOW + HOUR) },
};

const added = {
  type: 'webhook.added.v1' as const,
  data: {
    webhookId: 'ops',
    origin: 'https://hooks.example.com',
    url: 'enc:v1:k1:aXY:dXJs',
    events: ['failure' as const],
    format: 'standard' as const,
    secret: 'enc:v1:k1:aXY:b2xk',
    source: 'admin' as const,
    addedAt: iso(NOW),
  },
};

const rotated = {
  type: 'webhook.secret-rotated.v1' as const,
  data: {
    webhookId: 'ops',
    secret: 'enc:v1:k1:aXY:bmV3',
    previousValidUntil: iso(NOW + HOUR),
    rotatedAt: iso(NOW),
  },
};

describe('alertDifferencesFromLive', () => {
  it('finds none for the same record, and names each field that differs', () => {
    const book = new AlertBook();
    book.apply(fired, 1);
    const record = book.get(fired.data.key)!;
    const live = alertView(record)!;

    expect(alertDifferencesFromLive(record, live)).toEqual([]);
    expect(
      alertDifferencesFromLive(record, { ...live, message: 'forged', firedAt: iso(NOW + 1) }),
    ).toEqual([
      'message: the log says "Re-authorisation required", the live service "forged"',
      `firedAt: the log says "${iso(NOW)}", the live service "${iso(NOW + 1)}"`,
    ]);
  });

  it('tells a resolved alert from a firing one, and the version', () => {
    const book = new AlertBook();
    book.apply(fired, 1);
    const firing = alertView(book.get(fired.data.key)!)!;
    book.apply(resolved, 2);

    expect(alertDifferencesFromLive(book.get(fired.data.key)!, firing)).toEqual([
      'version: the log says 2, the live service 1',
      'state: the log says "resolved", the live service "firing"',
      'message: the log says "Resolved: x", the live service "Re-authorisation required"',
      `resolvedAt: the log says "${iso(NOW + HOUR)}", the live service null`,
    ]);
  });
});

describe('webhookDifferencesFromLive', () => {
  it('finds none whatever the live clock says about the old secret', () => {
    const registry = new WebhookRegistry();
    registry.apply(added, 1);
    registry.apply(rotated, 2);
    const endpoint = registry.get('ops')!;

    expect(webhookDifferencesFromLive(endpoint, webhookView(endpoint, NOW))).toEqual([]);
    expect(webhookDifferencesFromLive(endpoint, webhookView(endpoint, NOW + 2 * HOUR))).toEqual([]);
  });

  it('names what differs: events, a running grace period, the version', () => {
    const registry = new WebhookRegistry();
    registry.apply(added, 1);
    const endpoint = registry.get('ops')!;
    const live = {
      ...webhookView(endpoint, NOW),
      events: ['all' as const],
      previousSecretValidUntil: iso(NOW + HOUR),
      version: 2,
    };

    expect(webhookDifferencesFromLive(endpoint, live)).toEqual([
      'version: the log says 1, the live service 2',
      'events: the log says ["failure"], the live service ["all"]',
      `previousSecretValidUntil: the log says null, the live service "${iso(NOW + HOUR)}"`,
    ]);
  });
});
