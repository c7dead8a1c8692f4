import {
  Inject,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type InjectionToken,
  type ModuleMetadata,
  type OnModuleDestroy,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { BrokerClient, type CreateBrokerClientOptions } from '@broker/client';

/** The options the `BrokerClient` provider is created from. */
export const BROKER_CLIENT_OPTIONS = Symbol('BROKER_CLIENT_OPTIONS');

export interface BrokerClientModuleOptions extends CreateBrokerClientOptions {
  /** Register the module globally (default true): one client per application. */
  readonly isGlobal?: boolean;
}

export interface BrokerClientModuleAsyncOptions {
  readonly imports?: ModuleMetadata['imports'];
  readonly inject?: (InjectionToken | OptionalFactoryDependency)[];
  readonly useFactory: (
    ...args: never[]
  ) => CreateBrokerClientOptions | Promise<CreateBrokerClientOptions>;
  readonly isGlobal?: boolean;
}

const clientProvider: FactoryProvider<Promise<BrokerClient>> = {
  provide: BrokerClient,
  useFactory: (options: CreateBrokerClientOptions) => BrokerClient.create(options),
  inject: [BROKER_CLIENT_OPTIONS],
};

/**
 * Provides {@link BrokerClient} for injection. On module destroy the client forgets its
 * leases and closes its NATS connection when it opened it (a `connection` passed in
 * stays open: its owner closes it).
 */
@Module({})
export class BrokerClientModule implements OnModuleDestroy {
  constructor(@Inject(BrokerClient) private readonly client: BrokerClient) {}

  static forRoot(options: BrokerClientModuleOptions): DynamicModule {
    const { isGlobal, ...clientOptions } = options;
    return {
      module: BrokerClientModule,
      global: isGlobal ?? true,
      providers: [{ provide: BROKER_CLIENT_OPTIONS, useValue: clientOptions }, clientProvider],
      exports: [BrokerClient],
    };
  }

  static forRootAsync(options: BrokerClientModuleAsyncOptions): DynamicModule {
    return {
      module: BrokerClientModule,
      global: options.isGlobal ?? true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: BROKER_CLIENT_OPTIONS,
          useFactory: options.useFactory as (...args: unknown[]) => unknown,
          inject: options.inject ?? [],
        },
        clientProvider,
      ],
      exports: [BrokerClient],
    };
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }
}
