import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { RuntimeConfig } from '@broker/config';
import { poolStreamId } from '@broker/contracts';
import { PoolUsageWindow, UsageWindow, type OutcomeSample } from '@broker/domain';
import { errorMessage, type Logger } from '@broker/observability';
import { CredentialStateService } from '../state/credential-state.service.js';
import { CLOCK, CONFIG, LOGGER, type Clock } from '../tokens.js';

const DEFAULT_WINDOW_SECONDS = 60;

/** Counts leases and outcomes in memory and closes them into the log once per window. */
@Injectable()
export class UsageService implements OnModuleDestroy {
  private readonly window: UsageWindow;
  private readonly pools: PoolUsageWindow;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: CredentialStateService,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.window = new UsageWindow(clock.now());
    this.pools = new PoolUsageWindow(clock.now());
  }

  start(): void {
    const seconds = this.config.file.usage?.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    this.timer = setInterval(() => void this.flush(), seconds * 1000);
  }

  countLease(credentialId: string): void {
    this.window.countLease(credentialId, this.clock.now());
  }

  /** A lease request of a pool: served, or refused because no credential could serve. */
  countPoolLease(provider: string, pool: string, outcome: 'served' | 'refused'): void {
    this.pools.count(provider, pool, outcome);
  }

  countOutcome(credentialId: string, sample: OutcomeSample): void {
    this.window.countOutcome(credentialId, sample, this.clock.now());
  }

  /** This replica's counts not yet in the log. */
  unflushed(credentialId: string) {
    return this.window.peek(credentialId);
  }

  async flush(): Promise<void> {
    const records = this.window.close(this.clock.now(), this.config.replicaId);
    const failed = [];
    for (const record of records) {
      try {
        await this.state.execute(
          record.credentialId,
          { type: 'RecordUsage', data: record },
          { actor: 'token-service', replica: this.config.replicaId },
        );
      } catch (error) {
        failed.push(record);
        this.logger.warn(
          { credentialId: record.credentialId, err: errorMessage(error) },
          'usage window not recorded; kept for the next one',
        );
      }
    }
    this.window.restore(failed);
    await this.flushPools();
  }

  private async flushPools(): Promise<void> {
    const records = this.pools.close(this.clock.now(), this.config.replicaId);
    const failed = [];
    for (const record of records) {
      try {
        await this.state.store.append(poolStreamId(record.provider, record.pool), 'any', [
          {
            type: 'pool.usage-recorded.v1',
            data: record,
            metadata: { actor: 'token-service', replica: this.config.replicaId },
          },
        ]);
      } catch (error) {
        failed.push(record);
        this.logger.warn(
          { provider: record.provider, pool: record.pool, err: errorMessage(error) },
          'pool usage window not recorded; kept for the next one',
        );
      }
    }
    this.pools.restore(failed);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.flush();
  }
}
