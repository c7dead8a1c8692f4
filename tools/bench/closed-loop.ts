import type { NatsConnection } from 'nats';
import { percentile } from './stats.js';

export interface LoadResult {
  /** Requests answered with `ok: true` per second. */
  readonly rate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The body of request `i` of worker `w`: a fixed body, or one per worker (reports name a lease). */
export type Body = string | ((worker: number) => string);

/**
 * A closed loop: `inFlight` workers, spread over the given connections, each
 * sending its next request as soon as its last was answered, for `seconds`.
 * Every reply must be `ok`; one that is not fails the measurement.
 */
export const closedLoop = async (
  connections: readonly NatsConnection[],
  subject: string,
  body: Body,
  inFlight: number,
  seconds: number,
): Promise<LoadResult> => {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let failure: string | undefined;
  const worker = async (w: number) => {
    const nc = connections[w % connections.length] as NatsConnection;
    const data = typeof body === 'string' ? body : body(w);
    while (performance.now() < deadline && failure === undefined) {
      const sent = performance.now();
      const reply = await nc.request(subject, data, { timeout: 30_000 });
      latencies.push(performance.now() - sent);
      if (!reply.json<{ ok: boolean }>().ok) failure = reply.string();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  if (failure !== undefined) throw new Error(`a request to ${subject} failed: ${failure}`);
  return {
    rate: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
};
