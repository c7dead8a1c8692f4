import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import { createDataSource, ensureDatabase, migrate } from '@broker/event-store';
import type { Logger } from '@broker/observability';
import { loadKeyRing, type KeyRing } from '@broker/secrets';

/** The key ring from `BROKER_KEYS`, or the generated one outside production, warning through the log. */
export const serviceKeyRing = (config: RuntimeConfig, logger: Logger): KeyRing =>
  loadKeyRing({
    ...(config.keys === undefined ? {} : { keys: config.keys }),
    dataDir: config.dataDir,
    production: config.production,
    warn: (message) => logger.warn(message),
  });

/** Creates the database if missing, connects and applies pending migrations (logged). */
export const openDatabase = async (
  config: RuntimeConfig,
  logger: Logger,
  poolSize?: number,
): Promise<DataSource> => {
  await ensureDatabase(config.databaseUrl);
  const dataSource = await createDataSource({
    url: config.databaseUrl,
    ...(poolSize === undefined ? {} : { poolSize }),
  }).initialize();
  const applied = await migrate(dataSource);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  return dataSource;
};
