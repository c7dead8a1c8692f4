import { HOUR, iso, NOW } from '../testing/fixtures.js';
import { signingSecrets, wants, WebhookRegistry, webhookView } from './webhook-registry.js';

const added = {
  type: 'webhook.added.v1' as const,
  data: {
    webhookId: 'ops',
    origin: 'https://hooks.example.com',
    url: 'enc:v1:k1:aXY:dXJs',
    events: ['failure' as const, 'resolved' as const],
    format: 'standard' as const,
    secret: 'enc:v1:k1:aXY:b2xk',
    source: 'admin' as const,
    addedAt: iso(NOW),
  },
};

describe('webhook registry', () => {
  it('signs with both secrets during a rotation, then with the new one', () => {
    const registry = new WebhookRegistry();
    registry.apply(added, 1);
    registry.apply(
      {
        type: 'webhook.secret-rotated.v1',
        data: {
          webhookId: 'ops',
          secret: 'enc:v1:k1:aXY:bmV3',
          previousValidUntil: iso(NOW + HOUR),
          rotatedAt: iso(NOW),
        },
      },
      2,
    );
    const endpoint = registry.get('ops')!;
    expect(signingSecrets(endpoint, NOW)).toEqual(['enc:v1:k1:aXY:bmV3', 'enc:v1:k1:aXY:b2xk']);
    expect(signingSecrets(endpoint, NOW + HOUR)).toEqual(['enc:v1:k1:aXY:bmV3']);
    expect(webhookView(endpoint, NOW).previousSecretValidUntil).toBe(iso(NOW + HOUR));
    expect(JSON.stringify(webhookView(endpoint, NOW))).not.toContain('enc:');
  });

  it('forgets a removed endpoint but keeps its stream version', () => {
    const registry = new WebhookRegistry();
    registry.apply(added, 1);
    registry.apply(
      { type: 'webhook.removed.v1', data: { webhookId: 'ops', removedAt: iso(NOW) } },
      2,
    );
    expect(registry.get('ops')).toBeUndefined();
    expect(registry.version('ops')).toBe(2);
    expect(registry.apply(added, 2)).toBe('duplicate');
  });

  it('filters alerts by type; `resolved` takes the resolutions of every type', () => {
    expect(wants({ events: ['failure', 'resolved'] }, 'fired', 'failure')).toBe(true);
    expect(wants({ events: ['failure', 'resolved'] }, 'fired', 'rotation')).toBe(false);
    expect(wants({ events: ['failure', 'resolved'] }, 'resolved', 'failure')).toBe(true);
    expect(wants({ events: ['failure'] }, 'resolved', 'failure')).toBe(false);
    expect(wants({ events: ['resolved', 'rotation'] }, 'resolved', 'failure')).toBe(true);
    expect(wants({ events: ['resolved'] }, 'resolved', 'pool_exhausted')).toBe(true);
    expect(wants({ events: ['resolved'] }, 'fired', 'pool_exhausted')).toBe(false);
    expect(wants({ events: ['all'] }, 'resolved', 'pool_exhausted')).toBe(true);
    expect(wants({ events: ['rotation'] }, 'test', 'test')).toBe(true);
  });
});
