import { z } from 'zod';
import {
  CredentialIdSchema,
  LeaseIdSchema,
  ModelSchema,
  PoolNameSchema,
  ProviderNameSchema,
  ScopesSchema,
  storedText,
  TimestampSchema,
} from './primitives.js';

export const DEFAULT_MIN_VALIDITY_SECONDS = 60;

/** Body of `<root>.v1.lease.<provider>.<pool>.<client>`. */
export const LeaseRequestSchema = z.strictObject({
  minValiditySeconds: z.number().int().min(0).max(86_400).optional(),
  exclude: z.array(CredentialIdSchema).max(1000).optional(),
  model: ModelSchema.optional(),
});
export type LeaseRequest = z.infer<typeof LeaseRequestSchema>;

export const LeaseSchema = z.strictObject({
  leaseId: LeaseIdSchema,
  provider: ProviderNameSchema,
  pool: PoolNameSchema,
  credentialId: CredentialIdSchema,
  accessToken: z.string(),
  tokenType: z.string(),
  expiresAt: TimestampSchema,
  scopes: ScopesSchema.optional(),
});
export type Lease = z.infer<typeof LeaseSchema>;

export const LeaseReplySchema = z.strictObject({ ok: z.literal(true), lease: LeaseSchema });
export type LeaseReply = z.infer<typeof LeaseReplySchema>;

/** Body of `<root>.v1.report.<client>`: how a call made with a leased token went. */
export const ReportRequestSchema = z.strictObject({
  leaseId: LeaseIdSchema,
  outcome: z.enum(['success', 'failure']),
  status: z.number().int().min(100).max(599).optional(),
  retryAfterMs: z.number().int().nonnegative().optional(),
  model: ModelSchema.optional(),
  scope: z.enum(['model', 'credential']).optional(),
  errorCode: storedText(1, 200).optional(),
  latencyMs: z.number().nonnegative().optional(),
  tokensUsed: z.number().int().nonnegative().optional(),
});
export type ReportRequest = z.infer<typeof ReportRequestSchema>;

export const OkReplySchema = z.strictObject({ ok: z.literal(true) });
export type OkReply = z.infer<typeof OkReplySchema>;

/** Published on `<root>.v1.notice.<client>` when leases the client holds stop being valid. */
export const LeaseNoticeSchema = z.strictObject({
  type: z.literal('lease.revoked'),
  credentialId: CredentialIdSchema,
  leaseIds: z.array(LeaseIdSchema),
  reason: z.string(),
  at: TimestampSchema,
});
export type LeaseNotice = z.infer<typeof LeaseNoticeSchema>;
