import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import { auditPool, LeaseAuditReader, LeaseAuditWriter } from '@broker/event-store';
import type { Logger, Registry } from '@broker/observability';
import type { ProviderRegistry } from '@broker/providers';
import type { KeyRing } from '@broker/secrets';
import { AuditRetentionService } from './audit/audit-retention.service.js';
import { AuditController } from './audit/audit.controller.js';
import { CredentialsController } from './credentials/credentials.controller.js';
import { CredentialsService } from './credentials/credentials.service.js';
import { LeaseBook } from './lease/lease-book.js';
import { LeaseController } from './lease/lease.controller.js';
import { LeaseService } from './lease/lease.service.js';
import { NoticePublisher } from './notices/notice.publisher.js';
import { PoolsController } from './pools/pools.controller.js';
import { ReportController } from './report/report.controller.js';
import { ReportService } from './report/report.service.js';
import { CredentialStateService } from './state/credential-state.service.js';
import { SnapshotService } from './state/snapshot.service.js';
import { CommandConsumer } from './commands/command.consumer.js';
import { RefreshService } from './refresh/refresh.service.js';
import { EventRelayService } from './relay/event-relay.service.js';
import {
  CLOCK,
  CONFIG,
  DATA_SOURCE,
  KEY_RING,
  LOGGER,
  METRICS,
  NATS,
  PROVIDERS,
  type Clock,
} from './tokens.js';
import { UsageService } from './usage/usage.service.js';
import { TokenMetrics } from './metrics/token-metrics.js';

/** What main.ts builds before Nest starts: connections, keys, config and the clock. */
export interface TokenServiceRuntime {
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly keyRing: KeyRing;
  readonly dataSource: DataSource;
  readonly nats: NatsConnection;
  readonly providers: ProviderRegistry;
  readonly metrics: Registry;
}

@Module({})
export class TokenServiceModule {
  static with(runtime: TokenServiceRuntime): DynamicModule {
    return {
      module: TokenServiceModule,
      controllers: [
        LeaseController,
        ReportController,
        CredentialsController,
        PoolsController,
        AuditController,
      ],
      providers: [
        { provide: CONFIG, useValue: runtime.config },
        { provide: LOGGER, useValue: runtime.logger },
        { provide: CLOCK, useValue: runtime.clock },
        { provide: KEY_RING, useValue: runtime.keyRing },
        { provide: DATA_SOURCE, useValue: runtime.dataSource },
        { provide: NATS, useValue: runtime.nats },
        { provide: PROVIDERS, useValue: runtime.providers },
        { provide: METRICS, useValue: runtime.metrics },
        TokenMetrics,
        {
          provide: LeaseAuditWriter,
          useFactory: (db: DataSource, logger: Logger) =>
            new LeaseAuditWriter(
              auditPool(db, (error) =>
                logger.warn({ err: error.message }, 'audit connection lost; reconnecting'),
              ),
            ),
          inject: [DATA_SOURCE, LOGGER],
        },
        {
          provide: LeaseAuditReader,
          useFactory: (db: DataSource) => new LeaseAuditReader(db),
          inject: [DATA_SOURCE],
        },
        CredentialStateService,
        SnapshotService,
        UsageService,
        LeaseBook,
        LeaseService,
        ReportService,
        CredentialsService,
        NoticePublisher,
        AuditRetentionService,
        RefreshService,
        CommandConsumer,
        EventRelayService,
      ],
    };
  }
}
