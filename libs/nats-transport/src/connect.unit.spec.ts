import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRuntimeConfig } from '@broker/config';
import { natsConnectOptions, serviceInboxPrefix } from './connect.js';

describe('NATS connection options', () => {
  it('passes every server of a comma-separated NATS_URL, not one string with commas', () => {
    const config = loadRuntimeConfig({
      NATS_URL: 'nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222',
      BROKER_REPLICA_ID: 'ts-1',
    });
    const options = natsConnectOptions(config, 'token-service');
    expect(options.servers).toEqual([
      'nats://nats-1:4222',
      'nats://nats-2:4222',
      'nats://nats-3:4222',
    ]);
    expect(options.name).toBe('token-service@ts-1');
    expect(options.maxReconnectAttempts).toBe(-1);
  });

  it('gives each service its own inbox prefix, which the NATS permissions are written for', () => {
    const options = natsConnectOptions(loadRuntimeConfig({}), 'refresh-scheduler');
    expect(options.inboxPrefix).toBe('_SERVICE_INBOX.refresh-scheduler');
    expect(serviceInboxPrefix('alerting')).toBe('_SERVICE_INBOX.alerting');
    // oauthctl speaks as an operator: replies on the usual _INBOX, which the services may answer.
    expect(natsConnectOptions(loadRuntimeConfig({}), 'oauthctl', '_INBOX').inboxPrefix).toBe(
      '_INBOX',
    );
  });

  it('authenticates with NATS_USER/NATS_PASS, or with the NATS_CREDS file', () => {
    const withPassword = natsConnectOptions(
      loadRuntimeConfig({ NATS_USER: 'token-service', NATS_PASS: 'pw' }),
      'token-service',
    );
    expect(withPassword).toMatchObject({ user: 'token-service', pass: 'pw' });
    expect(withPassword.authenticator).toBeUndefined();

    const creds = join(mkdtempSync(join(tmpdir(), 'broker-creds-')), 'broker.creds');
    writeFileSync(creds, 'not read until the handshake');
    const withCreds = natsConnectOptions(loadRuntimeConfig({ NATS_CREDS: creds }), 'token-service');
    expect(typeof withCreds.authenticator).toBe('function');
    expect(withCreds.user).toBeUndefined();
  });
});
