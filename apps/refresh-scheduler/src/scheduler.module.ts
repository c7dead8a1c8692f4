import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import type { Logger, Registry } from '@broker/observability';
import {
  CLOCK,
  CONFIG,
  DATA_SOURCE,
  LOGGER,
  METRICS,
  NATS,
  type Clock,
} from '@broker/service-shell';
import { ScheduleController } from './schedule/schedule.controller.js';
import { SchedulerService } from './schedule/scheduler.service.js';

export interface SchedulerRuntime {
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly dataSource: DataSource;
  readonly nats: NatsConnection;
  readonly metrics: Registry;
}

@Module({})
export class RefreshSchedulerModule {
  static with(runtime: SchedulerRuntime): DynamicModule {
    return {
      module: RefreshSchedulerModule,
      controllers: [ScheduleController],
      providers: [
        { provide: CONFIG, useValue: runtime.config },
        { provide: LOGGER, useValue: runtime.logger },
        { provide: CLOCK, useValue: runtime.clock },
        { provide: DATA_SOURCE, useValue: runtime.dataSource },
        { provide: NATS, useValue: runtime.nats },
        { provide: METRICS, useValue: runtime.metrics },
        SchedulerService,
      ],
    };
  }
}
