import type { BrokerHarness, Reply } from '@broker/testing';
import type { LeaseRecord } from './invariants.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LeaseLoadOptions {
  readonly concurrency?: number;
  readonly provider?: string;
  readonly pool?: string;
  readonly minValiditySeconds?: number;
  /** Per request; a request to a replica that died times out and is retried. */
  readonly timeoutMs?: number;
}

/**
 * A steady lease load from retrying clients: each worker leases, and on an
 * error reply or a timeout waits a little and tries again.
 */
export class LeaseLoad {
  readonly leases: LeaseRecord[] = [];
  readonly errorReplies: Reply[] = [];
  /** Requests that got no reply (timeouts, no responders, NATS down). */
  unanswered = 0;
  private running = true;
  private readonly workers: Promise<void>[];

  constructor(
    private readonly broker: BrokerHarness,
    private readonly options: LeaseLoadOptions = {},
  ) {
    this.workers = Array.from({ length: options.concurrency ?? 8 }, (_, i) => this.work(i));
  }

  private async work(worker: number): Promise<void> {
    const minValiditySeconds = this.options.minValiditySeconds ?? 60;
    while (this.running) {
      const sentAt = Date.now();
      try {
        const reply = await this.broker.request(
          `lease.${this.options.provider ?? 'gemini-cli'}.${this.options.pool ?? 'default'}.load-${worker}`,
          { minValiditySeconds },
          this.options.timeoutMs ?? 1000,
        );
        const repliedAt = Date.now();
        if (reply.ok) {
          const lease = reply['lease'] as Omit<
            LeaseRecord,
            'sentAt' | 'repliedAt' | 'minValiditySeconds'
          >;
          this.leases.push({ ...lease, minValiditySeconds, sentAt, repliedAt });
        } else {
          this.errorReplies.push(reply);
          await sleep(Math.min(reply.error?.retryAfterMs ?? 50, 250));
        }
      } catch {
        this.unanswered += 1;
        await sleep(50);
      }
    }
  }

  /** Leases replied ok since `at` (client time). */
  okSince(at: number): number {
    return this.leases.filter((l) => l.repliedAt >= at).length;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }
}
