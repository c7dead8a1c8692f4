import { z } from 'zod';
import {
  ClientNameSchema,
  CredentialIdSchema,
  LeaseIdSchema,
  ModelSchema,
  PoolNameSchema,
  ProviderNameSchema,
  ScopesSchema,
  TimestampSchema,
} from './primitives.js';
import { SelectionReasonSchema } from './selection.js';

export const CredentialStatusSchema = z.enum([
  'active',
  'reauth-required',
  'revoked',
  'decommissioned',
]);
export type CredentialStatus = z.infer<typeof CredentialStatusSchema>;

/** What an operator sees of a credential's condition right now. */
export const CredentialConditionSchema = z.enum([
  'ok',
  'expired',
  'cooling',
  'backing-off',
  'refresh-required',
  'reauth-required',
  'revoked',
  'decommissioned',
]);
export type CredentialCondition = z.infer<typeof CredentialConditionSchema>;

/** A credential without token material. */
export const CredentialViewSchema = z.strictObject({
  id: CredentialIdSchema,
  provider: ProviderNameSchema,
  pool: PoolNameSchema,
  label: z.string().optional(),
  status: CredentialStatusSchema,
  /** Why the credential is not active, e.g. what the provider said when it refused a refresh. */
  statusReason: z.string().optional(),
  /** When the status last changed (re-authorisation required, revoked, decommissioned), if known. */
  statusChangedAt: TimestampSchema.optional(),
  state: CredentialConditionSchema,
  expiresAt: TimestampSchema,
  lastRefreshAt: TimestampSchema.nullable(),
  refreshCount: z.number().int().nonnegative(),
  priority: z.number().int(),
  fingerprint: z.string(),
  hasRefreshToken: z.boolean(),
  scopes: ScopesSchema,
  addedAt: TimestampSchema,
});
export type CredentialView = z.infer<typeof CredentialViewSchema>;

export const CredentialHealthSchema = z.strictObject({
  consecutiveFailures: z.number().int().nonnegative(),
  backoffUntil: TimestampSchema.nullable(),
  coolingUntil: TimestampSchema.nullable(),
  /** The HTTP status that started the running cooldown (429, 402), while it runs. */
  coolingStatus: z.number().int().nullable(),
  modelCooldowns: z.record(ModelSchema, TimestampSchema),
  refreshRequired: z.boolean(),
  refreshing: z.boolean(),
  refreshFailures: z.number().int().nonnegative(),
  nextRefreshAttemptAt: TimestampSchema.nullable(),
  lastRefreshError: z.string().nullable(),
  refreshOutcomeUnknown: z.boolean(),
});
export type CredentialHealth = z.infer<typeof CredentialHealthSchema>;

export const CredentialMetricsSchema = z.strictObject({
  leases: z.number().int().nonnegative(),
  requests: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  successRate: z.number().min(0).max(1).nullable(),
  byStatus: z.record(z.string(), z.number().int().nonnegative()),
  tokensUsed: z.number().int().nonnegative(),
  averageLatencyMs: z.number().nonnegative().nullable(),
  lastUsedAt: TimestampSchema.nullable(),
});
export type CredentialMetrics = z.infer<typeof CredentialMetricsSchema>;

export const PoolStatusSchema = z.strictObject({
  provider: ProviderNameSchema,
  pool: PoolNameSchema,
  total: z.number().int().nonnegative(),
  usable: z.number().int().nonnegative(),
  cooling: z.number().int().nonnegative(),
  backingOff: z.number().int().nonnegative(),
  refreshRequired: z.number().int().nonnegative(),
  reauthRequired: z.number().int().nonnegative(),
  expired: z.number().int().nonnegative(),
  nextExpiry: TimestampSchema.nullable(),
});
export type PoolStatus = z.infer<typeof PoolStatusSchema>;

export const AuditLeaseSchema = z.strictObject({
  leaseId: LeaseIdSchema,
  client: ClientNameSchema,
  provider: ProviderNameSchema,
  pool: PoolNameSchema,
  credentialId: CredentialIdSchema,
  leasedAt: TimestampSchema,
  expiresAt: TimestampSchema,
  model: ModelSchema.nullable(),
  selection: SelectionReasonSchema,
  /** The token-service replica that handed the lease out. */
  replica: z.string(),
  /** The W3C trace the lease request belonged to, when the client sent one: find it in Jaeger. */
  traceId: z.string().nullable(),
});
export type AuditLease = z.infer<typeof AuditLeaseSchema>;
