import { Events, type NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import type { ReadinessCheck } from '@broker/observability';

/**
 * NATS is ready when the connection is open, not between a disconnect and the
 * reconnect, and a PING round trip to the server comes back.
 */
export const natsReadiness = (nats: NatsConnection): ReadinessCheck => {
  let connected = true;
  void (async () => {
    for await (const status of nats.status()) {
      if (status.type === Events.Disconnect) connected = false;
      if (status.type === Events.Reconnect) connected = true;
    }
  })();
  return async () => {
    if (nats.isClosed()) throw new Error('the NATS connection is closed');
    if (!connected) throw new Error('disconnected from the NATS server; reconnecting');
    await nats.flush();
  };
};

/** Postgres is ready when the service's pool answers `SELECT 1` (the ops server bounds the wait). */
export const postgresReadiness =
  (db: DataSource): ReadinessCheck =>
  async () => {
    await db.query('SELECT 1');
  };
