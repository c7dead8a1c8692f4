import { z } from 'zod';
import {
  AlertDetailsSchema,
  AlertSubjectSchema,
  AlertTypeSchema,
  WebhookEventFilterSchema,
  WebhookFormatSchema,
  WebhookIdSchema,
  WebhookSecretSchema,
} from './alerting.js';
import { TimestampSchema } from './primitives.js';

const ok = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ok: z.literal(true), ...shape });

export const WebhookViewSchema = z.strictObject({
  id: WebhookIdSchema,
  /** Scheme, host and port; the path is not shown, it may hold a secret. */
  origin: z.string(),
  events: z.array(WebhookEventFilterSchema),
  format: WebhookFormatSchema,
  source: z.enum(['config', 'admin']),
  addedAt: TimestampSchema,
  /** Set while an older secret still signs beside the current one. */
  previousSecretValidUntil: TimestampSchema.nullable(),
  /** The version of the endpoint's stream this view was folded to (`replay --verify` compares at it). */
  version: z.number().int().positive(),
});
export type WebhookView = z.infer<typeof WebhookViewSchema>;

export const DeliveryStateSchema = z.enum(['pending', 'delivered', 'dead']);
export type DeliveryState = z.infer<typeof DeliveryStateSchema>;

export const DeliveryViewSchema = z.strictObject({
  /** The `webhook-id` header: the same on every attempt, for the receiver to deduplicate. */
  id: z.string(),
  webhookId: WebhookIdSchema,
  type: z.string(),
  alertId: z.uuid().nullable(),
  state: DeliveryStateSchema,
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: TimestampSchema.nullable(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  /** Why a dead delivery stopped: the schedule ran out, or the receiver refused it for good. */
  deadReason: z.string().nullable(),
  createdAt: TimestampSchema,
  deliveredAt: TimestampSchema.nullable(),
});
export type DeliveryView = z.infer<typeof DeliveryViewSchema>;

export const AlertViewSchema = z.strictObject({
  alertId: z.uuid(),
  key: z.string(),
  type: AlertTypeSchema,
  subject: AlertSubjectSchema,
  state: z.enum(['firing', 'resolved']),
  message: z.string(),
  details: AlertDetailsSchema,
  firedAt: TimestampSchema,
  resolvedAt: TimestampSchema.nullable(),
  /** The version of the alert key's stream this view was folded to (`replay --verify` compares at it). */
  version: z.number().int().positive(),
});
export type AlertView = z.infer<typeof AlertViewSchema>;

export const AddWebhookRequestSchema = z.strictObject({
  url: z.url({
    protocol: /^https?$/,
    error: 'a webhook URL must be an absolute http or https URL',
  }),
  id: WebhookIdSchema.optional(),
  /** `all` when absent. */
  events: z.array(WebhookEventFilterSchema).min(1).optional(),
  format: WebhookFormatSchema.optional(),
  /** Generated when absent; shown once in the reply, never again. */
  secret: WebhookSecretSchema.optional(),
});
export type AddWebhookRequest = z.infer<typeof AddWebhookRequestSchema>;

const byId = z.strictObject({ id: WebhookIdSchema });

export const RotateWebhookSecretRequestSchema = z.strictObject({
  id: WebhookIdSchema,
  /** How long the old secret keeps signing beside the new one (24 by default). */
  graceHours: z.number().min(0).max(720).optional(),
});

export const ListDeliveriesRequestSchema = z.strictObject({
  webhookId: WebhookIdSchema.optional(),
  state: DeliveryStateSchema.optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});

export const RedeliverRequestSchema = z
  .strictObject({
    /** One delivery, by its `webhook-id`. */
    deliveryId: z.string().min(1).max(100).optional(),
    /** Or every dead delivery, optionally of one endpoint. */
    allDead: z.literal(true).optional(),
    webhookId: WebhookIdSchema.optional(),
  })
  .refine((r) => (r.deliveryId === undefined) !== (r.allDead === undefined), {
    message: 'give a deliveryId, or allDead: true',
    path: ['deliveryId'],
  });

export const ListAlertsRequestSchema = z.strictObject({
  state: z.enum(['firing', 'resolved']).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});

export const WebhookSecretReplySchema = ok({
  webhook: WebhookViewSchema,
  secret: WebhookSecretSchema,
});
export const WebhookReplySchema = ok({ webhook: WebhookViewSchema });
export const WebhookListReplySchema = ok({ webhooks: z.array(WebhookViewSchema) });
export const DeliveryReplySchema = ok({ delivery: DeliveryViewSchema });
export const DeliveryListReplySchema = ok({ deliveries: z.array(DeliveryViewSchema) });
export const AlertListReplySchema = ok({ alerts: z.array(AlertViewSchema) });

/** Admin verbs answered by the alerting service. */
export const AlertingAdminVerbs = {
  'webhooks.add': { request: AddWebhookRequestSchema, reply: WebhookSecretReplySchema },
  'webhooks.list': { request: z.strictObject({}), reply: WebhookListReplySchema },
  'webhooks.remove': { request: byId, reply: WebhookReplySchema },
  'webhooks.rotate-secret': {
    request: RotateWebhookSecretRequestSchema,
    reply: WebhookSecretReplySchema,
  },
  /** Sends a signed `test` event now and answers with the first attempt's outcome. */
  'webhooks.test': { request: byId, reply: DeliveryReplySchema },
  'webhooks.deliveries': { request: ListDeliveriesRequestSchema, reply: DeliveryListReplySchema },
  'webhooks.redeliver': { request: RedeliverRequestSchema, reply: DeliveryListReplySchema },
  'alerts.list': { request: ListAlertsRequestSchema, reply: AlertListReplySchema },
} as const;
