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

/** When a credential's status changed; absent in events written before it was recorded. */
const StatusChangedAtSchema = TimestampSchema.optional();

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
      /** Absent for files that hold only a refresh token (gcloud authorized_user). */
      accessToken: EncryptedSchema.optional(),
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
  data: z.strictObject({ ...credential, reason: z.string(), at: StatusChangedAtSchema }),
});

export const RefreshReasonSchema = z.enum([
  'admin',
  'on-demand',
  'unauthorized',
  'scheduled',
  'recovery',
]);
export type RefreshReason = z.infer<typeof RefreshReasonSchema>;

/** A replica took the refresh lock and is about to present the refresh token. */
export const CredentialRefreshStartedV1 = z.strictObject({
  type: z.literal('credential.refresh-started.v1'),
  data: z.strictObject({
    ...credential,
    refreshId: z.uuid(),
    reason: RefreshReasonSchema,
    replica: z.string(),
    startedAt: TimestampSchema,
  }),
});

export const CredentialRefreshedV1 = z.strictObject({
  type: z.literal('credential.refreshed.v1'),
  data: z.strictObject({
    ...credential,
    refreshId: z.uuid(),
    secrets: z.strictObject({
      accessToken: EncryptedSchema,
      /** Only when the provider returned a new one; otherwise the stored one stays. */
      refreshToken: EncryptedSchema.optional(),
    }),
    tokenType: z.string(),
    expiresAt: TimestampSchema,
    scopes: ScopesSchema.optional(),
    rotated: z.boolean(),
    fingerprint: z.string(),
    refreshedAt: TimestampSchema,
    durationMs: z.number().nonnegative(),
  }),
});

export const RefreshFailureKindSchema = z.enum(['transient', 'permanent', 'superseded']);

export const CredentialRefreshFailedV1 = z.strictObject({
  type: z.literal('credential.refresh-failed.v1'),
  data: z.strictObject({
    ...credential,
    refreshId: z.uuid(),
    kind: RefreshFailureKindSchema,
    /** The provider's OAuth error code, or network / timeout / http_<status>. */
    error: z.string(),
    description: z.string().optional(),
    status: z.number().int().optional(),
    retryAfterMs: z.number().int().nonnegative().optional(),
    consecutiveFailures: z.number().int().nonnegative(),
    /** No refresh of this credential before this time (backoff, or the provider's Retry-After). */
    nextAttemptAt: TimestampSchema.optional(),
    durationMs: z.number().nonnegative(),
  }),
});

export const CredentialReauthRequiredV1 = z.strictObject({
  type: z.literal('credential.reauth-required.v1'),
  data: z.strictObject({
    ...credential,
    refreshId: z.uuid().optional(),
    error: z.string(),
    reason: z.string(),
    at: StatusChangedAtSchema,
  }),
});

/** A refresh began and its outcome never reached the log (the process died in between). */
export const CredentialRefreshOutcomeUnknownV1 = z.strictObject({
  type: z.literal('credential.refresh-outcome-unknown.v1'),
  data: z.strictObject({ ...credential, refreshId: z.uuid(), detectedBy: z.string() }),
});

/** The credential is older than its pool's rotation interval: time to add a successor. */
export const CredentialRotationDueV1 = z.strictObject({
  type: z.literal('credential.rotation-due.v1'),
  data: z.strictObject({
    ...credential,
    intervalDays: z.number().positive(),
    dueAt: TimestampSchema,
  }),
});

/** A successor was added; both serve until the grace period ends. */
export const CredentialRotatedV1 = z.strictObject({
  type: z.literal('credential.rotated.v1'),
  data: z.strictObject({
    ...credential,
    successorId: CredentialIdSchema,
    graceUntil: TimestampSchema,
  }),
});

/** Out of rotation for good: no lease returns it again. */
export const CredentialDecommissionedV1 = z.strictObject({
  type: z.literal('credential.decommissioned.v1'),
  data: z.strictObject({ ...credential, reason: z.string(), at: StatusChangedAtSchema }),
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
  CredentialRefreshStartedV1,
  CredentialRefreshedV1,
  CredentialRefreshFailedV1,
  CredentialReauthRequiredV1,
  CredentialRefreshOutcomeUnknownV1,
  CredentialRotationDueV1,
  CredentialRotatedV1,
  CredentialDecommissionedV1,
]);
export type CredentialEvent = z.infer<typeof CredentialEventSchema>;
export type CredentialEventType = CredentialEvent['type'];
export type CredentialEventOf<T extends CredentialEventType> = Extract<
  CredentialEvent,
  { type: T }
>;
