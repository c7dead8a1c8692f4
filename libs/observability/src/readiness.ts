import type { ReadinessCheck } from './ops-server.js';

/** How far a reader is behind the log, as `LogLag` measures it. */
export interface LagReading {
  readonly events: number;
  readonly seconds: number;
}

/**
 * Ready when the service has folded the log and follows it closely: nothing
 * unread, or the oldest unread event committed at most `maxSeconds` ago (a busy
 * log is never empty, a stuck reader falls behind by more and more).
 */
export const caughtUpCheck =
  (started: () => boolean, measure: () => Promise<LagReading>, maxSeconds = 10): ReadinessCheck =>
  async () => {
    if (!started()) throw new Error('still folding the log');
    const lag = await measure();
    if (lag.events > 0 && lag.seconds > maxSeconds)
      throw new Error(
        `${lag.events} events behind the log, the oldest committed ${Math.round(lag.seconds)} s ago`,
      );
  };
