import { ChainCheck } from './chain-check.js';
import type { StoredEvent } from './types.js';

export type ChainVerdict =
  | { readonly ok: true; readonly events: number; readonly streams: number }
  | { readonly ok: false; readonly event: StoredEvent; readonly problem: string };

/**
 * Recomputes every stream's hash chain. Takes events in any order; within a stream
 * versions must run 1, 2, 3… and each hash must follow from the one before it.
 */
export const verifyChain = (events: Iterable<StoredEvent>): ChainVerdict => {
  const streams = new Map<string, StoredEvent[]>();
  let count = 0;
  for (const event of events) {
    const list = streams.get(event.streamId) ?? [];
    list.push(event);
    streams.set(event.streamId, list);
    count += 1;
  }
  const check = new ChainCheck();
  const firstBad: { event: StoredEvent; problem: string }[] = [];
  for (const list of streams.values()) {
    list.sort((a, b) => a.globalPosition - b.globalPosition);
    for (const event of list) {
      const problem = check.next(event);
      if (problem !== null) {
        firstBad.push({ event, problem });
        break;
      }
    }
  }
  const earliest = firstBad.sort((a, b) => a.event.globalPosition - b.event.globalPosition)[0];
  return earliest === undefined
    ? { ok: true, events: count, streams: streams.size }
    : { ok: false, ...earliest };
};
