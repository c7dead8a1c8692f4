import { createHash } from 'node:crypto';

const sortedJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
};

/**
 * JSON with keys sorted at every level, so that the same event always hashes the same.
 * It goes through JSON first, as the value does on its way into jsonb: dates become
 * strings, undefined fields vanish and undefined array items become null.
 */
export const canonicalJson = (value: unknown): string =>
  value === undefined ? 'null' : sortedJson(JSON.parse(JSON.stringify(value)) as unknown);

export interface HashedFields {
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly recordedAt: Date;
}

/** `sha256(prev_hash || canonical event)`; the first event of a stream chains from ''. */
export const chainHash = (previousHash: string, event: HashedFields): string =>
  createHash('sha256')
    .update(previousHash)
    .update(
      canonicalJson({
        eventId: event.eventId,
        streamId: event.streamId,
        streamVersion: event.streamVersion,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        recordedAt: event.recordedAt.toISOString(),
      }),
    )
    .digest('hex');
