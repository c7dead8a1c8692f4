import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { loadRuntimeConfig } from '@broker/config';
import { connectNats } from '@broker/nats-transport';
import { createLogger } from '@broker/observability';
import { createMicroservice, failedToStart, stopOnSignal } from '@broker/service-shell';

const SERVICE = 'refresh-scheduler';

/** Follows the log and emits refresh and rotation commands; its rules arrive with the scheduler issue. */
@Module({})
class RefreshSchedulerModule {}

const bootstrap = async (): Promise<void> => {
  const logger = createLogger(SERVICE);
  const config = loadRuntimeConfig();
  const nats = await connectNats(config, SERVICE);
  const app = await createMicroservice({
    service: SERVICE,
    module: RefreshSchedulerModule,
    config,
    logger,
    nats,
  });
  await app.listen();
  logger.info({ subjectRoot: config.subjectRoot, replica: config.replicaId }, 'ready');
  stopOnSignal(logger, [() => app.close(), () => nats.drain()]);
};

bootstrap().catch(failedToStart(createLogger(SERVICE)));
