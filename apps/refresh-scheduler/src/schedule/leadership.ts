import type { DataSource } from 'typeorm';
import { LeaderLease, type Leadership } from '@broker/event-store';
import { errorMessage, type Logger } from '@broker/observability';

export const LEASE_TTL_MS = 10_000;
const RENEW_EVERY_MS = 3_000;

/**
 * Keeps trying to lead: renews the lease while it holds it, takes it when the
 * holder stops renewing. A standby leads within TTL + one renewal period (13 s)
 * of the leader's death. Losing the database means losing the lead at once.
 */
export class LeadershipKeeper {
  private current: Leadership = {
    leading: false,
    term: 0,
    holder: 'nobody',
    expiresAt: new Date(0),
  };
  private timer: NodeJS.Timeout | undefined;
  private readonly lease: LeaderLease;

  constructor(
    db: DataSource,
    private readonly holder: string,
    private readonly logger: Logger,
  ) {
    this.lease = new LeaderLease(db, 'refresh-scheduler', holder, LEASE_TTL_MS);
  }

  get state(): Leadership {
    return this.current;
  }

  get leading(): boolean {
    return this.current.leading && this.current.expiresAt.getTime() > Date.now();
  }

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), RENEW_EVERY_MS);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.current.leading) await this.lease.release().catch(() => undefined);
    this.current = { ...this.current, leading: false };
  }

  private async check(): Promise<void> {
    const was = this.current.leading;
    try {
      this.current = await this.lease.acquireOrRenew();
    } catch (error) {
      this.current = { ...this.current, leading: false };
      this.logger.warn({ err: errorMessage(error) }, 'cannot reach the leader lease; not leading');
    }
    if (this.current.leading && !was)
      this.logger.info({ term: this.current.term, holder: this.holder }, 'leading');
    if (!this.current.leading && was)
      this.logger.warn({ leader: this.current.holder }, 'no longer leading');
  }
}
