import type { NatsConnection } from 'nats';

export interface LeaseLoadOptions {
  readonly perSecond: number;
  readonly timeoutMs: number;
}

export interface LeaseLoadResult {
  /** Every lease replied ok: when, and its id. */
  readonly ok: { readonly at: number; readonly leaseId: string }[];
  readonly failed: number;
  /** Failures by error code or NATS error. */
  readonly errors: Map<string, number>;
  readonly startedAt: number;
  readonly stoppedAt: number;
  /** The longest time without a successful lease, and when it began. */
  longestPause(): { ms: number; from: number };
}

const TICK_MS = 20;

/**
 * An open-loop lease load: `perSecond` raw NATS requests, sent on a fixed beat
 * whether or not earlier ones were answered, so that an outage shows as a gap
 * in successes rather than as a slower client.
 */
export class LeaseLoad {
  private readonly ok: { at: number; leaseId: string }[] = [];
  private readonly errors = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private failed = 0;
  private sent = 0;

  private constructor(
    private readonly nats: NatsConnection,
    private readonly subject: string,
    private readonly options: LeaseLoadOptions,
    private readonly startedAt = Date.now(),
  ) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  static start(nats: NatsConnection, subject: string, options: LeaseLoadOptions): LeaseLoad {
    return new LeaseLoad(nats, subject, options);
  }

  private tick(): void {
    const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.options.perSecond);
    for (; this.sent < due; this.sent += 1) {
      const request = this.one().finally(() => this.inFlight.delete(request));
      this.inFlight.add(request);
    }
  }

  private async one(): Promise<void> {
    try {
      const reply = await this.nats.request(this.subject, '{}', {
        timeout: this.options.timeoutMs,
      });
      const body = reply.json<{
        ok: boolean;
        lease?: { leaseId: string };
        error?: { code: string };
      }>();
      if (body.ok && body.lease !== undefined) {
        this.ok.push({ at: Date.now(), leaseId: body.lease.leaseId });
        return;
      }
      this.count(body.error?.code ?? 'no lease in an ok reply');
    } catch (error) {
      this.count(`nats ${(error as { code?: string }).code ?? (error as Error).message}`);
    }
  }

  private count(reason: string): void {
    this.failed += 1;
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }

  /** Stops sending and waits for every request in flight to be answered or to time out. */
  async stop(): Promise<LeaseLoadResult> {
    clearInterval(this.timer);
    const stoppedAt = Date.now();
    await Promise.all([...this.inFlight]);
    const ok = [...this.ok].sort((a, b) => a.at - b.at);
    const { startedAt } = this;
    return {
      ok,
      failed: this.failed,
      errors: new Map(this.errors),
      startedAt,
      stoppedAt,
      longestPause: () => {
        let longest = { ms: 0, from: startedAt };
        let previous = startedAt;
        for (const { at } of [...ok, { at: stoppedAt }]) {
          if (at - previous > longest.ms) longest = { ms: at - previous, from: previous };
          previous = at;
        }
        return longest;
      },
    };
  }
}
