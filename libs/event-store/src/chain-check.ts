import { chainHash } from './hash-chain.js';
import type { StoredEvent } from './types.js';

interface ChainHead {
  readonly version: number;
  readonly hash: string;
  readonly globalPosition: number;
}

/**
 * Follows every stream's hash chain one event at a time, in the order the events
 * are given (commit order, or position order within a stream). Each event must be
 * its stream's next version, come after its predecessor in the log, and hash from
 * its predecessor's hash and its own fields. Memory grows with streams, not events.
 */
export class ChainCheck {
  private readonly heads = new Map<string, ChainHead>();

  /** Checks the next event of its stream; returns what is wrong with it, or null. */
  next(event: StoredEvent): string | null {
    const head = this.heads.get(event.streamId);
    const expected = (head?.version ?? 0) + 1;
    if (event.streamVersion !== expected)
      return `stream version ${event.streamVersion} where ${expected} was expected`;
    if (head !== undefined && event.globalPosition <= head.globalPosition)
      return `position ${event.globalPosition} comes before version ${head.version}'s position ${head.globalPosition}`;
    if (chainHash(head?.hash ?? '', event) !== event.hash)
      return 'hash does not match the event and its predecessor';
    this.heads.set(event.streamId, {
      version: event.streamVersion,
      hash: event.hash,
      globalPosition: event.globalPosition,
    });
    return null;
  }

  get streams(): number {
    return this.heads.size;
  }
}
