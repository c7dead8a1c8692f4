import { z } from 'zod';
import { CredentialIdSchema, TimestampSchema } from './primitives.js';

/**
 * `<root>.v1.cmd.refresh`, on the JetStream work queue: the scheduler asks the
 * token service to refresh one credential. Executing one twice is harmless: the
 * refresh lock and the refresh count it carries make the second a no-op.
 */
export const RefreshCommandSchema = z.strictObject({
  commandId: z.uuid(),
  credentialId: CredentialIdSchema,
  reason: z.enum(['scheduled', 'retry', 'idle-keepalive']),
  /** The refresh count the scheduler saw; a refresh since then makes the command moot. */
  knownRefreshCount: z.number().int().nonnegative(),
  dueAt: TimestampSchema,
  issuedAt: TimestampSchema,
  issuedBy: z.string(),
  /** W3C trace context of the scheduler's decision (also in the message headers). */
  traceparent: z.string().max(256).optional(),
  tracestate: z.string().max(512).optional(),
});
export type RefreshCommand = z.infer<typeof RefreshCommandSchema>;

/** `<root>.v1.cmd.decommission`: a rotated credential's grace period is over. */
export const DecommissionCommandSchema = z.strictObject({
  commandId: z.uuid(),
  credentialId: CredentialIdSchema,
  reason: z.string(),
  issuedAt: TimestampSchema,
  issuedBy: z.string(),
  traceparent: z.string().max(256).optional(),
  tracestate: z.string().max(512).optional(),
});
export type DecommissionCommand = z.infer<typeof DecommissionCommandSchema>;
