import { tracing } from './instrument.js'; // first: tracing hooks pg before anything loads it
import 'reflect-metadata';
import { loadRuntimeConfig } from '@broker/config';
import { connectNats, ensureCommandStream } from '@broker/nats-transport';
import {
  caughtUpCheck,
  createLogger,
  createMetricsRegistry,
  startOpsServer,
} from '@broker/observability';
import {
  createMicroservice,
  databaseClock,
  failedToStart,
  natsReadiness,
  openDatabase,
  postgresReadiness,
  serviceClock,
  stopOnSignal,
} from '@broker/service-shell';
import { SchedulerService } from './schedule/scheduler.service.js';
import { RefreshSchedulerModule } from './scheduler.module.js';

const SERVICE = 'refresh-scheduler';

const bootstrap = async (): Promise<void> => {
  const logger = createLogger(SERVICE);
  const config = loadRuntimeConfig();
  const metrics = createMetricsRegistry(SERVICE);
  const ops = await startOpsServer({
    service: SERVICE,
    port: config.ports.refreshScheduler,
    registry: metrics,
    logger,
  });
  const dataSource = await openDatabase(config, logger, 4);
  const nats = await connectNats(config, SERVICE);
  await ensureCommandStream(nats, config.subjectRoot, config.jetStreamReplicas);
  // Expiry, due times and leases go by the database's clock, which every replica shares.
  const clock = await databaseClock(
    serviceClock(process.env, nats, config.subjectRoot, config.production),
    dataSource,
    logger,
  );
  const app = await createMicroservice({
    service: SERVICE,
    module: RefreshSchedulerModule.with({ config, logger, clock, dataSource, nats, metrics }),
    config,
    logger,
    nats,
  });
  const scheduler = app.get(SchedulerService);
  await scheduler.start();
  await app.listen();
  ops.ready({
    nats: natsReadiness(nats),
    postgres: postgresReadiness(dataSource),
    log: caughtUpCheck(
      () => scheduler.started,
      () => scheduler.lag(),
    ),
  });
  logger.info(
    {
      subjectRoot: config.subjectRoot,
      replica: config.replicaId,
      opsPort: ops.port,
      tracing: tracing.exporting,
    },
    'ready',
  );
  stopOnSignal(logger, [
    () => Promise.resolve(clock.stop()),
    () => app.close(),
    () => nats.drain(),
    () => dataSource.destroy(),
    () => ops.close(),
    () => tracing.shutdown(),
  ]);
};

bootstrap().catch(failedToStart(createLogger(SERVICE)));
