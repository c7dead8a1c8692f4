import 'reflect-metadata';
import { loadRuntimeConfig } from '@broker/config';
import { createDataSource, ensureDatabase, migrate } from '@broker/event-store';
import { connectNats, ensureCommandStream } from '@broker/nats-transport';
import { createLogger } from '@broker/observability';
import {
  createMicroservice,
  failedToStart,
  stopOnSignal,
  serviceClock,
} from '@broker/service-shell';
import { SchedulerService } from './schedule/scheduler.service.js';
import { RefreshSchedulerModule } from './scheduler.module.js';

const SERVICE = 'refresh-scheduler';

const bootstrap = async (): Promise<void> => {
  const logger = createLogger(SERVICE);
  const config = loadRuntimeConfig();
  await ensureDatabase(config.databaseUrl);
  const dataSource = await createDataSource({ url: config.databaseUrl, poolSize: 4 }).initialize();
  await migrate(dataSource);
  const nats = await connectNats(config, SERVICE);
  await ensureCommandStream(nats, config.subjectRoot, config.jetStreamReplicas);
  const clock = serviceClock(process.env, nats, config.subjectRoot, config.production);
  const app = await createMicroservice({
    service: SERVICE,
    module: RefreshSchedulerModule.with({ config, logger, clock, dataSource, nats }),
    config,
    logger,
    nats,
  });
  await app.get(SchedulerService).start();
  await app.listen();
  logger.info({ subjectRoot: config.subjectRoot, replica: config.replicaId }, 'ready');
  stopOnSignal(logger, [() => app.close(), () => nats.drain(), () => dataSource.destroy()]);
};

bootstrap().catch(failedToStart(createLogger(SERVICE)));
