import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { RuntimeConfig } from '@broker/config';
import { errorMessage, type Logger } from '@broker/observability';
import { CONFIG, LOGGER } from '../tokens.js';
import { CredentialStateService } from './credential-state.service.js';

const DEFAULTS = { everyEvents: 100_000, minIntervalSeconds: 60, onStop: true };
const CHECK_EVERY_MS = 5_000;

/**
 * Writes a snapshot of every credential's folded state once enough events were
 * folded since the last one, and on a clean stop, so that the next start folds
 * only the tail. Every replica may write; the store keeps the newest.
 */
@Injectable()
export class SnapshotService implements BeforeApplicationShutdown {
  private readonly settings: typeof DEFAULTS;
  private timer: NodeJS.Timeout | undefined;
  /** `eventsFolded` when the last snapshot was written (0: the state started from). */
  private foldedAtLast = 0;
  private lastAt = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly state: CredentialStateService,
    @Inject(CONFIG) config: RuntimeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.settings = { ...DEFAULTS, ...config.file.snapshots };
  }

  start(): void {
    this.lastAt = Date.now() - this.settings.minIntervalSeconds * 1000;
    // A start that folded a long log snapshots it at the first check, after `ready`.
    this.timer = setInterval(() => void this.writeIfDue(), CHECK_EVERY_MS);
  }

  /** Runs after every module stopped (usage flushed, log no longer followed). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.writing;
    if (this.settings.onStop && this.state.eventsFolded > this.foldedAtLast)
      await this.write('stop');
  }

  private async writeIfDue(): Promise<void> {
    const due =
      this.state.eventsFolded - this.foldedAtLast >= this.settings.everyEvents &&
      Date.now() - this.lastAt >= this.settings.minIntervalSeconds * 1000;
    if (!due || this.writing !== undefined) return;
    this.writing = this.write('events').finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  private async write(why: 'events' | 'stop'): Promise<void> {
    const folded = this.state.eventsFolded;
    const started = performance.now();
    try {
      const taken = await this.state.saveSnapshot();
      this.foldedAtLast = folded;
      this.lastAt = Date.now();
      this.logger.info(
        { why, ...taken, ms: Math.round(performance.now() - started) },
        taken.saved ? 'snapshot written' : 'snapshot not written: a newer one is stored',
      );
    } catch (error) {
      this.logger.warn(
        { err: errorMessage(error) },
        'snapshot failed; the next one will try again',
      );
    }
  }
}
