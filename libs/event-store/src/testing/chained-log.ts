import { randomUUID } from 'node:crypto';
import { chainHash } from '../hash-chain.js';
import type { StoredEvent } from '../types.js';

/** The first event's time in the specs' logs: 2026-01-01T00:00:00.000Z. */
export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** A log as the store writes it: positions in order, each stream chained from ''. */
export class Log {
  readonly events: StoredEvent[] = [];
  private readonly heads = new Map<string, { version: number; hash: string }>();

  append(streamId: string, event: { type: string; data: unknown }): StoredEvent {
    const head = this.heads.get(streamId) ?? { version: 0, hash: '' };
    const fields = {
      eventId: randomUUID(),
      streamId,
      streamVersion: head.version + 1,
      type: event.type,
      data: event.data,
      metadata: { actor: 'test' },
      recordedAt: new Date(T0 + this.events.length * 1000),
    };
    const stored: StoredEvent = {
      ...fields,
      globalPosition: this.events.length + 1,
      transactionId: String(100 + this.events.length),
      hash: chainHash(head.hash, fields),
    };
    this.heads.set(streamId, { version: stored.streamVersion, hash: stored.hash });
    this.events.push(stored);
    return stored;
  }
}
