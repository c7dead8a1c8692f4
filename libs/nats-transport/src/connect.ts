import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import type { RuntimeConfig } from '@broker/config';

/**
 * The reply subjects of a service's own requests (JetStream API calls, pull
 * consumers): `_SERVICE_INBOX.<service>.…`. A prefix of its own lets the NATS
 * permissions give each service only its own replies, so that no service, and
 * no client, can subscribe to `_INBOX.>` and read the tokens in lease replies.
 */
export const serviceInboxPrefix = (service: string): string => `_SERVICE_INBOX.${service}`;

/**
 * The connection options for a service: every server of `NATS_URL`, its
 * credentials, reconnecting forever. Tools that speak as an operator (oauthctl)
 * pass the usual `_INBOX` prefix, to which the services may send replies.
 */
export const natsConnectOptions = (
  config: RuntimeConfig,
  service: string,
  inboxPrefix = serviceInboxPrefix(service),
): ConnectionOptions => ({
  servers: [...config.natsServers],
  name: `${service}@${config.replicaId}`,
  inboxPrefix,
  ...(config.natsUser === undefined ? {} : { user: config.natsUser }),
  ...(config.natsPass === undefined ? {} : { pass: config.natsPass }),
  ...(config.natsCreds === undefined
    ? {}
    : { authenticator: credsAuthenticator(readFileSync(config.natsCreds)) }),
  maxReconnectAttempts: -1,
  reconnectTimeWait: 1000,
  timeout: 5000,
});

/** Connects with the configured credentials and reconnects forever, to any server of the list, after an outage. */
export const connectNats = (
  config: RuntimeConfig,
  service: string,
  inboxPrefix?: string,
): Promise<NatsConnection> => connect(natsConnectOptions(config, service, inboxPrefix));
