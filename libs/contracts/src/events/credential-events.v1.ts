import { z } from 'zod';
import {
  CredentialIdSchema,
  LeaseIdSchema,
  MetadataSchema,
  ModelSchema,
  PoolNameSchema,
  ProviderNameSchema,
  ScopesSchema,
  TimestampSchema,
} from '../primitives.js';

/** Token material as it is stored: `enc:v1:<key id>:<iv>:<ciphertext+tag>`, never clear text. */
export const EncryptedSchema = z
  .string()
  .regex(/^enc:v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);

const credential = { credentialId: CredentialIdSchema };

export const CredentialAddedV1 = z.strictObject({
  type: z.literal('credential.added.v1'),
  data: z.strictObject({
    ...credential,
    provider: ProviderNameSchema,
    pool: PoolNameSchema,
    label: z.string().optional(),
    priority: z.number().int(),
    scopes: ScopesSchema,
    metadata: MetadataSchema,
    clientId: z.string().optional(),
    tokenType: z.string(),
    addedAt: TimestampSchema,
    expiresAt: TimestampSchema,
    secrets: z.strictObject({
      accessToken: EncryptedSchema,
      refreshToken: EncryptedSchema.optional(),
      clientSecret: EncryptedSchema.optional(),
    }),
    fingerprint: z.string(),
    source: z.enum(['add', 'import']),
    importFormat: z.string().optional(),
  }),
});

export const CredentialFailureRecordedV1 = z.strictObject({
  type: z.literal('credential.failure-recorded.v1'),
  data: z.strictObject({
    ...credential,
    leaseId: LeaseIdSchema,
    status: z.number().int().optional(),
    errorCode: z.string().optional(),
    consecutiveFailures: z.number().int().positive(),
  }),
});

export const CredentialBackedOffV1 = z.strictObject({
  type: z.literal('credential.backed-off.v1'),
  data: z.strictObject({
    ...credential,
    leaseId: LeaseIdSchema,
    status: z.number().int().optional(),
    errorCode: z.string().optional(),
    consecutiveFailures: z.number().int().positive(),
    backoffMs: z.number().int().positive(),
    until: TimestampSchema,
  }),
});

export const CredentialCooledDownV1 = z.strictObject({
  type: z.literal('credential.cooled-down.v1'),
  data: z.strictObject({
    ...credential,
    leaseId: LeaseIdSchema,
    status: z.number().int(),
    /** Present when only this model's quota is exhausted. */
    model: ModelSchema.optional(),
    requestedMs: z.number().int().nonnegative().optional(),
    cooldownMs: z.number().int().nonnegative(),
    capped: z.boolean(),
    until: TimestampSchema,
  }),
});

export const CredentialRefreshRequiredV1 = z.strictObject({
  type: z.literal('credential.refresh-required.v1'),
  data: z.strictObject({ ...credential, leaseId: LeaseIdSchema, status: z.number().int() }),
});

export const CredentialRecoveredV1 = z.strictObject({
  type: z.literal('credential.recovered.v1'),
  data: z.strictObject({
    ...credential,
    leaseId: LeaseIdSchema,
    previousFailures: z.number().int().positive(),
  }),
});

export const CredentialUsageRecordedV1 = z.strictObject({
  type: z.literal('credential.usage-recorded.v1'),
  data: z.strictObject({
    ...credential,
    replica: z.string(),
    windowStart: TimestampSchema,
    windowEnd: TimestampSchema,
    leases: z.number().int().nonnegative(),
    requests: z.number().int().nonnegative(),
    successes: z.number().int().nonnegative(),
    failures: z.number().int().nonnegative(),
    byStatus: z.record(z.string(), z.number().int().nonnegative()),
    tokensUsed: z.number().int().nonnegative(),
    latencyMsTotal: z.number().nonnegative(),
    latencySamples: z.number().int().nonnegative(),
    lastUsedAt: TimestampSchema.nullable(),
  }),
});

export const CredentialRevokedV1 = z.strictObject({
  type: z.literal('credential.revoked.v1'),
  data: z.strictObject({ ...credential, reason: z.string() }),
});

export const CredentialEventSchema = z.discriminatedUnion('type', [
  CredentialAddedV1,
  CredentialFailureRecordedV1,
  CredentialBackedOffV1,
  CredentialCooledDownV1,
  CredentialRefreshRequiredV1,
  CredentialRecoveredV1,
  CredentialUsageRecordedV1,
  CredentialRevokedV1,
]);
export type CredentialEvent = z.infer<typeof CredentialEventSchema>;
export type CredentialEventType = CredentialEvent['type'];
export type CredentialEventOf<T extends CredentialEventType> = Extract<
  CredentialEvent,
  { type: T }
>;
