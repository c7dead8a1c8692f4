import { tracing } from './instrument.js'; // first: tracing hooks pg before anything loads it
import 'reflect-metadata';
import { loadRuntimeConfig } from '@broker/config';
import { connectNats } from '@broker/nats-transport';
import {
  caughtUpCheck,
  createLogger,
  createMetricsRegistry,
  startOpsServer,
} from '@broker/observability';
import { LeaseAuditWriter } from '@broker/event-store';
import { ProviderRegistry } from '@broker/providers';
import {
  createMicroservice,
  databaseClock,
  failedToStart,
  natsReadiness,
  openDatabase,
  postgresReadiness,
  serviceClock,
  serviceKeyRing,
  stopOnSignal,
} from '@broker/service-shell';
import { TokenServiceModule } from './app.module.js';
import { TokenMetrics } from './metrics/token-metrics.js';
import { AuditRetentionService } from './audit/audit-retention.service.js';
import { CommandConsumer } from './commands/command.consumer.js';
import { RefreshService } from './refresh/refresh.service.js';
import { EventRelayService } from './relay/event-relay.service.js';
import { CredentialStateService } from './state/credential-state.service.js';
import { SnapshotService } from './state/snapshot.service.js';
import { UsageService } from './usage/usage.service.js';

const SERVICE = 'token-service';

const bootstrap = async (): Promise<void> => {
  const logger = createLogger(SERVICE);
  const config = loadRuntimeConfig();
  const metrics = createMetricsRegistry(SERVICE);
  // Up first, so that /healthz answers and /readyz says 'starting' during the fold.
  const ops = await startOpsServer({
    service: SERVICE,
    port: config.ports.tokenService,
    registry: metrics,
    logger,
  });
  const keyRing = serviceKeyRing(config, logger);

  const dataSource = await openDatabase(config, logger);
  const nats = await connectNats(config, SERVICE);

  // Expiry, due times and leases go by the database's clock, which every replica shares.
  const clock = await databaseClock(
    serviceClock(process.env, nats, config.subjectRoot, config.production),
    dataSource,
    logger,
  );
  const app = await createMicroservice({
    service: SERVICE,
    module: TokenServiceModule.with({
      config,
      logger,
      clock,
      keyRing,
      dataSource,
      nats,
      providers: new ProviderRegistry(config.file.providers),
      metrics,
    }),
    config,
    logger,
    nats,
  });
  const state = app.get(CredentialStateService);
  const audit = app.get(LeaseAuditWriter);
  await state.start();
  app.get(SnapshotService).start();
  app.get(UsageService).start();
  app.get(AuditRetentionService).start();
  app.get(RefreshService).start();
  await app.get(CommandConsumer).start();
  app.get(EventRelayService).start();
  await app.listen();
  const lag = app.get(TokenMetrics).lag;
  ops.ready({
    nats: natsReadiness(nats),
    postgres: postgresReadiness(dataSource),
    log: caughtUpCheck(
      () => state.started,
      () => lag.behind(state.checkpoint),
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
    () => app.close(), // answers what is in flight, flushes usage, stops following the log
    () => audit.close(),
    () => nats.drain(),
    () => dataSource.destroy(),
    () => ops.close(),
    () => tracing.shutdown(),
  ]);
};

bootstrap().catch(failedToStart(createLogger(SERVICE)));
