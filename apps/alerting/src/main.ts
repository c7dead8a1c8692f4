import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { loadRuntimeConfig } from '@broker/config';
import { connectNats } from '@broker/nats-transport';
import { createLogger } from '@broker/observability';
import { createMicroservice, failedToStart, stopOnSignal } from '@broker/service-shell';

const SERVICE = 'alerting';

/** Follows the log and turns incidents into signed webhooks; its rules arrive with the alerting issue. */
@Module({})
class AlertingModule {}

const bootstrap = async (): Promise<void> => {
  const logger = createLogger(SERVICE);
  const config = loadRuntimeConfig();
  const nats = await connectNats(config, SERVICE);
  const app = await createMicroservice({
    service: SERVICE,
    module: AlertingModule,
    config,
    logger,
    nats,
  });
  await app.listen();
  logger.info({ subjectRoot: config.subjectRoot, replica: config.replicaId }, 'ready');
  stopOnSignal(logger, [() => app.close(), () => nats.drain()]);
};

bootstrap().catch(failedToStart(createLogger(SERVICE)));
