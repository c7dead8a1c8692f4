import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from 'nats';
import type { RuntimeConfig } from '@broker/config';

/** Connects with the configured credentials and reconnects forever after an outage. */
export const connectNats = (config: RuntimeConfig, name: string): Promise<NatsConnection> =>
  connect({
    servers: config.natsUrl,
    name: `${name}@${config.replicaId}`,
    ...(config.natsUser === undefined ? {} : { user: config.natsUser }),
    ...(config.natsPass === undefined ? {} : { pass: config.natsPass }),
    ...(config.natsCreds === undefined
      ? {}
      : { authenticator: credsAuthenticator(readFileSync(config.natsCreds)) }),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    timeout: 5000,
  });
