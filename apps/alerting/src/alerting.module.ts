import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '@broker/config';
import type { Logger, Registry } from '@broker/observability';
import type { KeyRing } from '@broker/secrets';
import { AlertEngine } from './alerts/alert-engine.service.js';
import { AlertProjection } from './alerts/alert-projection.js';
import { AlertsController } from './alerts/alerts.controller.js';
import { CLOCK, CONFIG, DATA_SOURCE, KEY_RING, LOGGER, METRICS, type Clock } from './tokens.js';
import { DeliveryWorker } from './webhooks/delivery-worker.service.js';
import { WebhookEndpoints } from './webhooks/webhook-endpoints.service.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';

export interface AlertingRuntime {
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly dataSource: DataSource;
  readonly keyRing: KeyRing;
  readonly projection: AlertProjection;
  readonly metrics: Registry;
}

@Module({})
export class AlertingModule {
  static with(runtime: AlertingRuntime): DynamicModule {
    return {
      module: AlertingModule,
      controllers: [WebhooksController, AlertsController],
      providers: [
        { provide: CONFIG, useValue: runtime.config },
        { provide: LOGGER, useValue: runtime.logger },
        { provide: CLOCK, useValue: runtime.clock },
        { provide: DATA_SOURCE, useValue: runtime.dataSource },
        { provide: KEY_RING, useValue: runtime.keyRing },
        { provide: AlertProjection, useValue: runtime.projection },
        { provide: METRICS, useValue: runtime.metrics },
        DeliveryWorker,
        WebhookEndpoints,
        AlertEngine,
      ],
    };
  }
}
