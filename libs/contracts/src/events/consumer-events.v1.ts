import { z } from 'zod';
import { TimestampSchema } from '../primitives.js';

/**
 * A consumer gave up on a JetStream message (a relayed event or a command) after
 * its attempts, or at once when it could not be read: the durable record behind
 * the `message_set_aside` alert. Never the body: it may hold secrets.
 */
export const MessageSetAsideV1 = z.strictObject({
  type: z.literal('consumer.message-set-aside.v1'),
  data: z.strictObject({
    /** The durable consumer, e.g. `refresh-scheduler-<replica>`. */
    consumer: z.string().min(1).max(200),
    replica: z.string(),
    subject: z.string().max(300),
    /** Its JetStream stream sequence; null for an event read from Postgres to fill a gap. */
    streamSequence: z.number().int().positive().nullable(),
    attempts: z.number().int().nonnegative(),
    reason: z.string().max(2000),
    /** The event it held, when it could be read as one. */
    event: z
      .strictObject({
        eventId: z.string(),
        type: z.string(),
        streamId: z.string(),
        globalPosition: z.number().int().positive(),
        transactionId: z.string(),
      })
      .nullable(),
    setAsideAt: TimestampSchema,
  }),
});

export const ConsumerEventSchema = z.discriminatedUnion('type', [MessageSetAsideV1]);
export type ConsumerEvent = z.infer<typeof ConsumerEventSchema>;

export const setAsideStreamId = (consumer: string): string => `set-aside-${consumer}`;

/** What the alert about one set-aside message is keyed by: consumer and where the message was. */
export const setAsideKey = (data: z.infer<typeof MessageSetAsideV1>['data']): string =>
  `${data.consumer}#${
    data.streamSequence !== null
      ? `seq${data.streamSequence}`
      : `pos${data.event?.globalPosition ?? 0}`
  }`;
