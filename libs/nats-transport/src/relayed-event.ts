import { z } from 'zod';
import { describeIssues } from '@broker/contracts';
import type { LogCheckpoint, StoredEvent } from '@broker/event-store';

/** The body of a relayed event on `<root>.v1.events.<type>`. */
const RelayedEventSchema = z.object({
  eventId: z.string().min(1),
  streamId: z.string().min(1),
  streamVersion: z.number().int().positive(),
  globalPosition: z.number().int().positive(),
  transactionId: z.string().regex(/^\d+$/),
  type: z.string().min(1),
  data: z.unknown(),
  metadata: z.record(z.string(), z.unknown()),
  recordedAt: z.iso.datetime(),
});

/** The headers the relay sets; `Broker-Previous-*` name the event before it in commit order. */
export const RELAYED_HEADERS = {
  position: 'Broker-Position',
  transaction: 'Broker-Transaction',
  stream: 'Broker-Stream',
  version: 'Broker-Version',
  previousTransaction: 'Broker-Previous-Transaction',
  previousPosition: 'Broker-Previous-Position',
} as const;

export interface RelayedEventHeaders {
  get(name: string): string;
}

export const relayedBody = (event: StoredEvent): string =>
  JSON.stringify({
    eventId: event.eventId,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    globalPosition: event.globalPosition,
    transactionId: event.transactionId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt.toISOString(),
  });

/** Header values of a relayed event: where it is in the log and which event precedes it. */
export const relayedHeaders = (event: StoredEvent, previous: LogCheckpoint): [string, string][] => [
  [RELAYED_HEADERS.position, String(event.globalPosition)],
  [RELAYED_HEADERS.transaction, event.transactionId],
  [RELAYED_HEADERS.stream, event.streamId],
  [RELAYED_HEADERS.version, String(event.streamVersion)],
  [RELAYED_HEADERS.previousTransaction, previous.transactionId],
  [RELAYED_HEADERS.previousPosition, String(previous.globalPosition)],
];

export type DecodedRelayed =
  | { readonly ok: true; readonly event: StoredEvent; readonly previous?: LogCheckpoint }
  | { readonly ok: false; readonly problem: string };

const previousOf = (headers: RelayedEventHeaders | undefined): LogCheckpoint | undefined => {
  const transactionId = headers?.get(RELAYED_HEADERS.previousTransaction) ?? '';
  const position = Number(headers?.get(RELAYED_HEADERS.previousPosition) ?? '');
  // Messages relayed before these headers existed carry none: stream order is all there is.
  if (!/^\d+$/.test(transactionId) || !Number.isSafeInteger(position)) return undefined;
  return { transactionId, globalPosition: position };
};

/** Reads a relayed message; a problem names what is wrong without quoting the body (it may hold secrets). */
export const decodeRelayed = (
  data: Uint8Array,
  headers: RelayedEventHeaders | undefined,
): DecodedRelayed => {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  const parsed = RelayedEventSchema.safeParse(body);
  if (!parsed.success)
    return { ok: false, problem: `not a relayed event: ${describeIssues(parsed.error)}` };
  const previous = previousOf(headers);
  return {
    ok: true,
    event: { ...parsed.data, recordedAt: new Date(parsed.data.recordedAt), hash: '' },
    ...(previous === undefined ? {} : { previous }),
  };
};
