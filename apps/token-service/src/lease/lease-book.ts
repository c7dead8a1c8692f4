import { Injectable } from '@nestjs/common';

export interface LeaseRecord {
  readonly leaseId: string;
  readonly credentialId: string;
  readonly client: string;
  readonly leasedAt: number;
  readonly expiresAt: number;
}

const TRIAL_TIMEOUT_MS = 30_000;
const MAX_REMEMBERED = 200_000;

/**
 * What this replica remembers of the leases it handed out: recent ones, so that
 * reports usually need no database read, and half-open trials in flight, so
 * that a recovering credential gets one trial at a time from this replica.
 */
@Injectable()
export class LeaseBook {
  private readonly recent = new Map<string, LeaseRecord>();
  private readonly trials = new Map<string, { leaseId: string; until: number }>();

  remember(lease: LeaseRecord): void {
    if (this.recent.size >= MAX_REMEMBERED) {
      const oldest = this.recent.keys().next();
      if (oldest.done !== true) this.recent.delete(oldest.value);
    }
    this.recent.set(lease.leaseId, lease);
  }

  find(leaseId: string): LeaseRecord | undefined {
    return this.recent.get(leaseId);
  }

  /** Credentials with a live trial; a trial nobody reported on expires after a while. */
  trialsInFlight(now: number): Pick<ReadonlySet<string>, 'has'> {
    return {
      has: (credentialId) => {
        const trial = this.trials.get(credentialId);
        if (trial === undefined) return false;
        if (trial.until > now) return true;
        this.trials.delete(credentialId);
        return false;
      },
    };
  }

  startTrial(credentialId: string, leaseId: string, now: number): void {
    this.trials.set(credentialId, { leaseId, until: now + TRIAL_TIMEOUT_MS });
  }

  /** Ends the trial if this report is about it. */
  settle(credentialId: string, leaseId: string): void {
    if (this.trials.get(credentialId)?.leaseId === leaseId) this.trials.delete(credentialId);
  }
}
