import { z } from 'zod';

/** Stamped on every event at append: who caused it, and the trace it belongs to. */
export const EventMetadataSchema = z.strictObject({
  actor: z.string(),
  replica: z.string().optional(),
  correlationId: z.string().optional(),
  causationId: z.string().optional(),
  traceparent: z.string().optional(),
  tracestate: z.string().optional(),
});
export type EventMetadata = z.infer<typeof EventMetadataSchema>;
