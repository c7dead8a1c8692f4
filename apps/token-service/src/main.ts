import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadRuntimeConfig } from '@broker/config';
import { createDataSource, ensureDatabase, migrate } from '@broker/event-store';
import { connectNats, NatsJsonTransport, PassThroughRpcFilter } from '@broker/nats-transport';
import { createLogger, errorMessage, PinoNestLogger } from '@broker/observability';
import { loadKeyRing } from '@broker/secrets';
import { TokenServiceModule } from './app.module.js';
import { CredentialStateService } from './state/credential-state.service.js';
import { systemClock } from './tokens.js';
import { UsageService } from './usage/usage.service.js';

const SERVICE = 'token-service';

const bootstrap = async (): Promise<void> => {
  const logger = createLogger(SERVICE);
  const config = loadRuntimeConfig();
  const keyRing = loadKeyRing({
    ...(config.keys === undefined ? {} : { keys: config.keys }),
    dataDir: config.dataDir,
    production: config.production,
    warn: (message) => logger.warn(message),
  });

  await ensureDatabase(config.databaseUrl);
  const dataSource = await createDataSource({ url: config.databaseUrl }).initialize();
  const applied = await migrate(dataSource);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  const nats = await connectNats(config, SERVICE);

  const transport = new NatsJsonTransport({
    connection: nats,
    subjectRoot: config.subjectRoot,
    queue: `${config.subjectRoot}.token-service`,
    onUnexpectedError: (error, subject) =>
      logger.error({ err: errorMessage(error), subject }, 'request failed'),
  });
  const app = await NestFactory.createMicroservice(
    TokenServiceModule.with({ config, logger, clock: systemClock, keyRing, dataSource, nats }),
    { strategy: transport, logger: new PinoNestLogger(logger) },
  );
  app.useGlobalFilters(new PassThroughRpcFilter());
  await app.get(CredentialStateService).start();
  app.get(UsageService).start();
  await app.listen();
  logger.info({ subjectRoot: config.subjectRoot, replica: config.replicaId }, 'ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    try {
      await app.close(); // answers what is in flight, flushes usage, stops following the log
      await nats.drain();
      await dataSource.destroy();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: errorMessage(error) }, 'unclean stop');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
};

bootstrap().catch((error: unknown) => {
  createLogger(SERVICE).fatal({ err: errorMessage(error) }, 'failed to start');
  process.exit(1);
});
