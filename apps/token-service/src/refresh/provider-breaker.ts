/**
 * Per provider: after `threshold` transient refresh failures in a row (any
 * credentials), refreshes of that provider pause for `pauseMs`, so that an
 * outage is not hammered. One success closes it again.
 */
export class ProviderBreaker {
  private readonly state = new Map<string, { failures: number; openUntil: number }>();

  constructor(
    private readonly threshold: number,
    private readonly pauseMs: number,
  ) {}

  /** Milliseconds until the provider may be called again; 0 when it may be now. */
  waitMs(provider: string, now: number): number {
    const openUntil = this.state.get(provider)?.openUntil ?? 0;
    return Math.max(0, openUntil - now);
  }

  success(provider: string): void {
    this.state.delete(provider);
  }

  /** Returns true when this failure opened the breaker. */
  failure(provider: string, now: number): boolean {
    const current = this.state.get(provider) ?? { failures: 0, openUntil: 0 };
    const failures = current.failures + 1;
    const opens = failures >= this.threshold;
    this.state.set(provider, {
      failures: opens ? 0 : failures,
      openUntil: opens ? now + this.pauseMs : current.openUntil,
    });
    return opens;
  }
}
