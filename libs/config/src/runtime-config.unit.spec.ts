import { ConfigError, loadRuntimeConfig } from './runtime-config.js';

const load = (env: Record<string, string>) => loadRuntimeConfig(env);

describe('runtime config - NATS and JetStream', () => {
  it('defaults to one local server, no credentials, one JetStream replica', () => {
    const config = load({});
    expect(config.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(config.natsServers).toEqual(['nats://127.0.0.1:4222']);
    expect(config.natsUser).toBeUndefined();
    expect(config.natsPass).toBeUndefined();
    expect(config.natsCreds).toBeUndefined();
    expect(config.jetStreamReplicas).toBe(1);
  });

  it('splits a comma-separated NATS_URL into the servers of a cluster', () => {
    const config = load({
      NATS_URL: 'nats://nats-1:4222, nats://nats-2:4222 ,nats://nats-3:4222',
    });
    expect(config.natsServers).toEqual([
      'nats://nats-1:4222',
      'nats://nats-2:4222',
      'nats://nats-3:4222',
    ]);
  });

  it('refuses an empty entry in NATS_URL without quoting the URL back (it may hold a password)', () => {
    const attempt = () => load({ NATS_URL: 'nats://u:secret-pw@nats-1:4222,,nats://nats-2:4222' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      'NATS_URL must be one URL or a comma-separated list of URLs; entry 2 of 3 is empty',
    );
    expect(attempt).not.toThrow(/secret-pw/);
  });

  it('takes NATS_USER with NATS_PASS, or NATS_CREDS, and refuses half a pair or both ways', () => {
    expect(load({ NATS_USER: 'token-service', NATS_PASS: 'pw' })).toMatchObject({
      natsUser: 'token-service',
      natsPass: 'pw',
    });
    expect(load({ NATS_CREDS: '/run/secrets/broker.creds' }).natsCreds).toBe(
      '/run/secrets/broker.creds',
    );
    expect(() => load({ NATS_USER: 'token-service' })).toThrow(
      'NATS_USER is set without NATS_PASS',
    );
    expect(() => load({ NATS_PASS: 'pw' })).toThrow('NATS_PASS is set without NATS_USER');
    expect(() => load({ NATS_USER: 'a', NATS_PASS: 'b', NATS_CREDS: '/c' })).toThrow(
      'set either NATS_USER/NATS_PASS or NATS_CREDS, not both',
    );
  });

  it('reads BROKER_JETSTREAM_REPLICAS from 1 to 5', () => {
    expect(load({ BROKER_JETSTREAM_REPLICAS: '3' }).jetStreamReplicas).toBe(3);
    expect(load({ BROKER_JETSTREAM_REPLICAS: ' 5 ' }).jetStreamReplicas).toBe(5);
    expect(load({ BROKER_JETSTREAM_REPLICAS: '' }).jetStreamReplicas).toBe(1);
  });

  it.each(['0', '6', '-1', '2.5', 'three', '3x', '1e0', '0x3'])(
    'refuses BROKER_JETSTREAM_REPLICAS=%p with a message naming the variable and the range',
    (value) => {
      expect(() => load({ BROKER_JETSTREAM_REPLICAS: value })).toThrow(ConfigError);
      expect(() => load({ BROKER_JETSTREAM_REPLICAS: value })).toThrow(
        `BROKER_JETSTREAM_REPLICAS must be a whole number from 1 to 5 (1 on one NATS server, 3 on a cluster), got '${value}'`,
      );
    },
  );
});
