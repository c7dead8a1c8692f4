import { z } from 'zod';
import {
  SelectionPolicySchema,
  WebhookEventFilterSchema,
  WebhookFormatSchema,
  WebhookIdSchema,
  WebhookSecretSchema,
} from '@broker/contracts';

const ProviderOverrideSchema = z.strictObject({
  tokenUrl: z.url().optional(),
  redirectPath: z.string().startsWith('/').optional(),
  authorizeUrl: z.url().optional(),
  deviceAuthorizationUrl: z.url().optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  clientAuth: z.enum(['body', 'basic', 'none']).optional(),
  bodyFormat: z.enum(['form', 'json']).optional(),
  rotatesRefreshToken: z.boolean().optional(),
  scopes: z.array(z.string()).optional(),
  extraParams: z.record(z.string(), z.string()).optional(),
});

const StrategyObjectSchema = z.strictObject({
  bufferSeconds: z.number().int().nonnegative().optional(),
  minBufferSeconds: z.number().int().nonnegative().optional(),
  maxBufferSeconds: z.number().int().nonnegative().optional(),
  preemptive: z.boolean().optional(),
  highTrafficPerHour: z.number().int().positive().optional(),
  lifetimeFraction: z.number().gt(0).lt(1).optional(),
  jitterSeconds: z.number().int().nonnegative().optional(),
});

const HealthSchema = z.strictObject({
  failuresToUnhealthy: z.number().int().min(1).max(100).optional(),
  backoffBaseMs: z.number().int().min(1).optional(),
  backoffMaxMs: z.number().int().min(1).optional(),
  defaultCooldownMs: z.number().int().min(0).optional(),
  maxCooldownMs: z.number().int().min(1).optional(),
});

const PoolConfigSchema = z.strictObject({
  selection: SelectionPolicySchema.optional(),
  refreshStrategy: z
    .union([
      z.enum(['default', 'conservative', 'adaptive', 'lifetime-fraction']),
      StrategyObjectSchema,
    ])
    .optional(),
  maxConcurrentRefreshes: z.number().int().min(1).optional(),
  rotation: z
    .strictObject({
      intervalDays: z.number().positive().optional(),
      graceDays: z.number().nonnegative().optional(),
      autoDecommission: z.boolean().optional(),
    })
    .optional(),
  health: HealthSchema.optional(),
});

const WebhookConfigSchema = z
  .strictObject({
    url: z.url({
      protocol: /^https?$/,
      error: 'a webhook URL must be an absolute http or https URL',
    }),
    id: WebhookIdSchema.optional(),
    events: z.array(WebhookEventFilterSchema).min(1).optional(),
    secret: WebhookSecretSchema.optional(),
    format: WebhookFormatSchema.optional(),
  })
  .refine((w) => w.secret !== undefined || (w.format !== undefined && w.format !== 'standard'), {
    message:
      "a standard-format webhook needs its signing secret ('whsec_' and base64 of 24-64 random bytes) so that the receiver can verify it",
    path: ['secret'],
  });

/** The optional `BROKER_CONFIG` file. Every section and field is optional. */
export const BrokerConfigFileSchema = z.strictObject({
  providers: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), ProviderOverrideSchema).optional(),
  pools: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/, "keys are '<provider>/<pool>'"),
      PoolConfigSchema,
    )
    .optional(),
  alerting: z
    .strictObject({
      failureRateThreshold: z.number().min(0).max(1).optional(),
      minRequests: z.number().int().min(1).optional(),
      windowSeconds: z.number().int().min(1).optional(),
      expiryWarningSeconds: z.number().int().min(1).optional(),
      allowPrivateWebhookTargets: z.boolean().optional(),
      /** Transient refresh failures in a row that make an incident (a permanent one is at once). */
      refreshFailuresToAlert: z.number().int().min(1).max(100).optional(),
      /** Upper bound on one webhook attempt, connect to last byte. */
      deliveryTimeoutMs: z.number().int().min(100).max(120_000).optional(),
      webhooks: z.array(WebhookConfigSchema).optional(),
    })
    .optional(),
  audit: z.strictObject({ leaseRetentionDays: z.number().int().min(1).optional() }).optional(),
  usage: z.strictObject({ windowSeconds: z.number().min(0.1).max(3600).optional() }).optional(),
  snapshots: z
    .strictObject({
      /** Write a snapshot of the folded state once this many events were folded since the last one. */
      everyEvents: z.number().int().min(1).optional(),
      /** ...but no more often than this. */
      minIntervalSeconds: z.number().min(0).max(86_400).optional(),
      /** Write one on a clean stop (default true). */
      onStop: z.boolean().optional(),
      /** Start from the newest snapshot (default true); false folds the whole log. */
      load: z.boolean().optional(),
    })
    .optional(),
  refresh: z
    .strictObject({
      /** Upper bound on one call to a token endpoint. */
      timeoutMs: z.number().int().min(100).max(120_000).optional(),
      /** Life of the per-credential refresh lock; longer than the worst refresh. */
      lockTtlMs: z.number().int().min(500).max(600_000).optional(),
      /** Consecutive transient failures across a provider that pause its refreshes. */
      breakerThreshold: z.number().int().min(1).max(100).optional(),
      breakerPauseMs: z.number().int().min(100).max(3_600_000).optional(),
    })
    .optional(),
});
export type BrokerConfigFile = z.infer<typeof BrokerConfigFileSchema>;
export type PoolConfig = z.infer<typeof PoolConfigSchema>;
