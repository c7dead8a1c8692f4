import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { RuntimeConfig } from '@broker/config';
import { LeaseAuditReader } from '@broker/event-store';
import { errorMessage, type Logger } from '@broker/observability';
import { CLOCK, CONFIG, LOGGER, type Clock } from '../tokens.js';

const PRUNE_EVERY_MS = 60 * 60_000;
const DAY_MS = 86_400_000;

/**
 * Deletes lease audit rows older than `audit.leaseRetentionDays`, hourly. Without
 * that setting the audit is kept for ever. Replicas may all prune: it is idempotent.
 */
@Injectable()
export class AuditRetentionService implements OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly audit: LeaseAuditReader,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  start(): void {
    const days = this.config.file.audit?.leaseRetentionDays;
    if (days === undefined) return;
    void this.prune(days);
    this.timer = setInterval(() => void this.prune(days), PRUNE_EVERY_MS);
  }

  async prune(days: number): Promise<number> {
    try {
      const removed = await this.audit.prune(new Date(this.clock.now() - days * DAY_MS));
      if (removed > 0) this.logger.info({ removed, retentionDays: days }, 'lease audit pruned');
      return removed;
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, 'lease audit pruning failed; will try again');
      return 0;
    }
  }

  onModuleDestroy(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}
