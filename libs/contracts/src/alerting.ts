import { z } from 'zod';
import {
  CredentialIdSchema,
  PoolNameSchema,
  ProviderNameSchema,
  TimestampSchema,
} from './primitives.js';

/** What an alert is about; also the `type` of the webhook body it is sent as. */
export const AlertTypeSchema = z.enum([
  'failure',
  'refresh',
  'reauth_required',
  'expiry_warning',
  'rotation',
  'pool_exhausted',
  'message_set_aside',
]);
export type AlertType = z.infer<typeof AlertTypeSchema>;

/** What a webhook endpoint subscribes to: an alert type, `resolved`, or `all`. */
export const WebhookEventFilterSchema = z.enum([...AlertTypeSchema.options, 'resolved', 'all']);
export type WebhookEventFilter = z.infer<typeof WebhookEventFilterSchema>;

export const WebhookFormatSchema = z.enum(['standard', 'slack', 'discord']);
export type WebhookFormat = z.infer<typeof WebhookFormatSchema>;

export const WebhookIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "a webhook id may contain only letters, digits, '_' and '-'");

/** `whsec_` and the base64 of 24 to 64 random bytes, as Standard Webhooks defines it. */
export const WebhookSecretSchema = z
  .string()
  .regex(
    /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/,
    "a webhook secret is 'whsec_' followed by the base64 of 24 to 64 random bytes",
  );

/** What an alert is about: a credential, a pool for `pool_exhausted`, a message for `message_set_aside`. */
export const AlertSubjectSchema = z.strictObject({
  credentialId: CredentialIdSchema.optional(),
  provider: ProviderNameSchema.optional(),
  pool: PoolNameSchema.optional(),
  /** `<consumer>#seq<stream sequence>` (or `#pos<global position>`): see `setAsideKey`. */
  setAside: z.string().min(1).max(250).optional(),
});
export type AlertSubject = z.infer<typeof AlertSubjectSchema>;

export const AlertDetailsSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
);
export type AlertDetails = z.infer<typeof AlertDetailsSchema>;

/** The JSON body of a webhook in the standard format (DESIGN "Alerting"). */
export const WebhookPayloadSchema = z.strictObject({
  type: z.union([AlertTypeSchema, z.literal('resolved'), z.literal('test')]),
  credential_id: CredentialIdSchema.nullable(),
  timestamp: TimestampSchema,
  message: z.string(),
  details: AlertDetailsSchema,
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;
