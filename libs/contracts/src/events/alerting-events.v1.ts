import { z } from 'zod';
import {
  AlertDetailsSchema,
  AlertSubjectSchema,
  AlertTypeSchema,
  WebhookEventFilterSchema,
  WebhookFormatSchema,
  WebhookIdSchema,
} from '../alerting.js';
import { PoolNameSchema, ProviderNameSchema, TimestampSchema } from '../primitives.js';
import { EncryptedSchema } from './credential-events.v1.js';

/** Leases of one pool a replica served and refused (every credential unavailable) in one window. */
export const PoolUsageRecordedV1 = z.strictObject({
  type: z.literal('pool.usage-recorded.v1'),
  data: z.strictObject({
    provider: ProviderNameSchema,
    pool: PoolNameSchema,
    replica: z.string(),
    windowStart: TimestampSchema,
    windowEnd: TimestampSchema,
    served: z.number().int().nonnegative(),
    refused: z.number().int().nonnegative(),
  }),
});

const alert = {
  alertId: z.uuid(),
  /** `<type>:<credential id>` or `<type>:<provider>/<pool>`: one stream per key. */
  key: z.string().min(1).max(300),
  type: AlertTypeSchema,
  subject: AlertSubjectSchema,
  message: z.string(),
  details: AlertDetailsSchema,
};

export const AlertFiredV1 = z.strictObject({
  type: z.literal('alert.fired.v1'),
  data: z.strictObject({ ...alert, firedAt: TimestampSchema }),
});

export const AlertResolvedV1 = z.strictObject({
  type: z.literal('alert.resolved.v1'),
  data: z.strictObject({ ...alert, firedAt: TimestampSchema, resolvedAt: TimestampSchema }),
});

/** An endpoint was created, or re-configured (a later `added` replaces the earlier one). */
export const WebhookAddedV1 = z.strictObject({
  type: z.literal('webhook.added.v1'),
  data: z.strictObject({
    webhookId: WebhookIdSchema,
    /** Scheme, host and port only: paths of chat webhooks (Slack, Discord) are secrets. */
    origin: z.string(),
    /** The whole URL, encrypted like the secret. */
    url: EncryptedSchema,
    events: z.array(WebhookEventFilterSchema).min(1),
    format: WebhookFormatSchema,
    secret: EncryptedSchema,
    source: z.enum(['config', 'admin']),
    /** For endpoints from the config file: changes when the entry changes. */
    configFingerprint: z.string().optional(),
    addedAt: TimestampSchema,
  }),
});

/** A new signing secret; the previous one still signs until `previousValidUntil`. */
export const WebhookSecretRotatedV1 = z.strictObject({
  type: z.literal('webhook.secret-rotated.v1'),
  data: z.strictObject({
    webhookId: WebhookIdSchema,
    secret: EncryptedSchema,
    previousValidUntil: TimestampSchema,
    rotatedAt: TimestampSchema,
  }),
});

export const WebhookRemovedV1 = z.strictObject({
  type: z.literal('webhook.removed.v1'),
  data: z.strictObject({ webhookId: WebhookIdSchema, removedAt: TimestampSchema }),
});

export const AlertingEventSchema = z.discriminatedUnion('type', [
  PoolUsageRecordedV1,
  AlertFiredV1,
  AlertResolvedV1,
  WebhookAddedV1,
  WebhookSecretRotatedV1,
  WebhookRemovedV1,
]);
export type AlertingEvent = z.infer<typeof AlertingEventSchema>;
export type AlertingEventOf<T extends AlertingEvent['type']> = Extract<AlertingEvent, { type: T }>;

export const poolStreamId = (provider: string, pool: string): string => `pool-${provider}/${pool}`;
export const alertStreamId = (key: string): string => `alert-${key}`;
export const webhookStreamId = (webhookId: string): string => `webhook-${webhookId}`;
