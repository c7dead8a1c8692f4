import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { RuntimeConfig } from '@broker/config';
import { NatsJsonTransport, PassThroughRpcFilter } from '@broker/nats-transport';
import { errorMessage, PinoNestLogger, type Logger } from '@broker/observability';

export interface MicroserviceOptions {
  readonly service: string;
  readonly module: unknown;
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly nats: NatsConnection;
}

/**
 * A Nest microservice on the plain-JSON NATS transport, in the service's queue
 * group, with errors passed to the transport so that replies keep the protocol.
 * Not yet listening: the caller starts what must run first, then `listen()`s.
 */
export const createMicroservice = async (
  options: MicroserviceOptions,
): Promise<INestMicroservice> => {
  const { service, config, logger, nats } = options;
  const transport = new NatsJsonTransport({
    connection: nats,
    subjectRoot: config.subjectRoot,
    queue: `${config.subjectRoot}.${service}`,
    onUnexpectedError: (error, subject) =>
      logger.error({ err: errorMessage(error), subject }, 'request failed'),
  });
  const app = await NestFactory.createMicroservice(options.module as never, {
    strategy: transport,
    logger: new PinoNestLogger(logger),
  });
  app.useGlobalFilters(new PassThroughRpcFilter());
  return app;
};
