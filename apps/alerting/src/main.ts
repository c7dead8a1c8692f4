import { tracing } from './instrument.js'; // first: tracing hooks pg before anything loads it
import 'reflect-metadata';
import { loadRuntimeConfig } from '@broker/config';
import { LogLag, PostgresEventStore } from '@broker/event-store';
import { connectNats, JetStreamEventFeed } from '@broker/nats-transport';
import {
  caughtUpCheck,
  consumerLagMetrics,
  createLogger,
  createMetricsRegistry,
  errorMessage,
  startOpsServer,
} from '@broker/observability';
import {
  createMicroservice,
  failedToStart,
  natsReadiness,
  openDatabase,
  postgresReadiness,
  serviceClock,
  serviceKeyRing,
  setAsideRecorder,
  stopOnSignal,
} from '@broker/service-shell';
import { AlertEngine } from './alerts/alert-engine.service.js';
import { AlertProjection } from './alerts/alert-projection.js';
import { AlertingModule } from './alerting.module.js';
import { DeliveryWorker } from './webhooks/delivery-worker.service.js';
import { WebhookEndpoints } from './webhooks/webhook-endpoints.service.js';

const SERVICE = 'alerting';

/** Follows the log, fires and resolves alerts once, and delivers them as signed webhooks. */
const bootstrap = async (): Promise<void> => {
  const logger = createLogger(SERVICE);
  const config = loadRuntimeConfig();
  const metrics = createMetricsRegistry(SERVICE);
  const ops = await startOpsServer({
    service: SERVICE,
    port: config.ports.alerting,
    registry: metrics,
    logger,
  });
  const keyRing = serviceKeyRing(config, logger);
  const dataSource = await openDatabase(config, logger, 4);
  const nats = await connectNats(config, SERVICE);
  const clock = serviceClock(process.env, nats, config.subjectRoot, config.production);
  const onError = (error: unknown) =>
    logger.warn({ err: errorMessage(error) }, 'following the log failed; retrying');
  const store = new PostgresEventStore(dataSource);
  const projection = new AlertProjection(
    store,
    new JetStreamEventFeed({
      nats,
      subjectRoot: config.subjectRoot,
      durable: `alerting-${config.replicaId.replace(/[^A-Za-z0-9_-]/g, '_')}`,
      replicas: config.jetStreamReplicas,
      log: store,
      onError: (error) =>
        logger.warn({ err: errorMessage(error) }, 'applying a relayed event failed; retrying'),
      onSetAside: setAsideRecorder({
        store,
        logger,
        metrics,
        replica: config.replicaId,
        now: () => clock.now(),
      }),
    }),
    onError,
  );
  const app = await createMicroservice({
    service: SERVICE,
    module: AlertingModule.with({
      config,
      logger,
      clock,
      dataSource,
      keyRing,
      projection,
      metrics,
    }),
    config,
    logger,
    nats,
  });
  await projection.start();
  const lag = new LogLag(dataSource);
  consumerLagMetrics(metrics, 'alerting', () => lag.behind(projection.checkpoint));
  await app.get(WebhookEndpoints).syncFromConfig();
  app.get(DeliveryWorker).start();
  app.get(AlertEngine).start();
  await app.listen();
  ops.ready({
    nats: natsReadiness(nats),
    postgres: postgresReadiness(dataSource),
    log: caughtUpCheck(
      () => projection.ready,
      () => lag.behind(projection.checkpoint),
    ),
  });
  logger.info({ subjectRoot: config.subjectRoot, replica: config.replicaId }, 'ready');
  stopOnSignal(logger, [
    () => app.close(),
    () => projection.stop(),
    () => nats.drain(),
    () => dataSource.destroy(),
    () => ops.close(),
    () => tracing.shutdown(),
  ]);
};

bootstrap().catch(failedToStart(createLogger(SERVICE)));
