import { z } from 'zod';
import {
  ClientNameSchema,
  CredentialIdSchema,
  InstantInputSchema,
  MetadataSchema,
  PoolNameSchema,
  ProviderNameSchema,
  ScopesSchema,
  storedText,
  TimestampSchema,
} from './primitives.js';
import { AlertingAdminVerbs } from './admin-alerting.js';
import {
  AuditLeaseSchema,
  CredentialHealthSchema,
  CredentialMetricsSchema,
  CredentialViewSchema,
  PoolStatusSchema,
} from './views.js';

const TokenSchema = z.string().min(1).max(16_384);

export const AddCredentialRequestSchema = z.strictObject({
  provider: ProviderNameSchema,
  pool: PoolNameSchema.optional(),
  id: CredentialIdSchema.optional(),
  label: storedText(1, 200).optional(),
  accessToken: TokenSchema,
  refreshToken: TokenSchema.optional(),
  tokenType: storedText(1, 64).optional(),
  expiresAt: InstantInputSchema,
  scopes: ScopesSchema.optional(),
  clientId: storedText(1, 512).optional(),
  clientSecret: TokenSchema.optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  metadata: MetadataSchema.optional(),
});
export type AddCredentialRequest = z.infer<typeof AddCredentialRequestSchema>;

export const ImportCredentialRequestSchema = z.strictObject({
  provider: ProviderNameSchema.optional(),
  pool: PoolNameSchema.optional(),
  id: CredentialIdSchema.optional(),
  label: storedText(1, 200).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  /** The token file a CLI wrote, as a JSON object or as its text. */
  document: z.union([z.record(z.string(), z.unknown()), z.string().min(2)]),
});
export type ImportCredentialRequest = z.infer<typeof ImportCredentialRequestSchema>;

export const ListCredentialsRequestSchema = z.strictObject({
  provider: ProviderNameSchema.optional(),
  pool: PoolNameSchema.optional(),
});
export const GetCredentialRequestSchema = z.strictObject({ id: CredentialIdSchema });
/** A page of credentials in id order: a reply stays well inside NATS's message size. */
export const CredentialStatusRequestSchema = ListCredentialsRequestSchema.extend({
  /** The `next` of the previous page: credentials whose id sorts after it. */
  after: CredentialIdSchema.optional(),
  /** At most this many (200 by default). */
  limit: z.number().int().min(1).max(1000).optional(),
});
export const RefreshCredentialRequestSchema = z.strictObject({ id: CredentialIdSchema });
export const RotateCredentialRequestSchema = z
  .strictObject({
    id: CredentialIdSchema,
    /** The new account, as `credentials.add` takes it; it joins the old one's provider and pool. */
    successor: AddCredentialRequestSchema.omit({ provider: true, pool: true })
      .extend({ provider: ProviderNameSchema.optional(), pool: PoolNameSchema.optional() })
      .optional(),
    /** Or the new account's token file, as `credentials.import` takes it. */
    successorDocument: ImportCredentialRequestSchema.shape.document.optional(),
    successorId: CredentialIdSchema.optional(),
    /** How long both serve; the pool's `rotation.graceDays` (1) by default. */
    graceDays: z.number().min(0).max(365).optional(),
  })
  .refine((r) => (r.successor === undefined) !== (r.successorDocument === undefined), {
    message: 'give exactly one of successor and successorDocument',
    path: ['successor'],
  });
export const DecommissionCredentialRequestSchema = z.strictObject({
  id: CredentialIdSchema,
  reason: storedText(1, 500).optional(),
});
export const RevokeCredentialRequestSchema = z.strictObject({
  id: CredentialIdSchema,
  reason: storedText(1, 500).optional(),
});
export const PoolsStatusRequestSchema = ListCredentialsRequestSchema;
export const AuditLeasesRequestSchema = z.strictObject({
  credentialId: CredentialIdSchema.optional(),
  client: ClientNameSchema.optional(),
  from: TimestampSchema.optional(),
  to: TimestampSchema.optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
  /** The `next` of the previous page: leases after it, in the same order (time, then lease id). */
  after: z.string().min(1).max(200).optional(),
});
export type AuditLeasesRequest = z.infer<typeof AuditLeasesRequestSchema>;

const ok = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ok: z.literal(true), ...shape });

export const CredentialReplySchema = ok({ credential: CredentialViewSchema });
export const CredentialImportReplySchema = ok({
  credential: CredentialViewSchema,
  /** What the file could not give, e.g. no refresh token: the account stops working at expiry. */
  warnings: z.array(z.string()),
});
export const RotateReplySchema = ok({
  credential: CredentialViewSchema,
  successor: CredentialViewSchema,
});
export const CredentialListReplySchema = ok({ credentials: z.array(CredentialViewSchema) });
const CredentialDetailShape = {
  credential: CredentialViewSchema,
  health: CredentialHealthSchema,
  metrics: CredentialMetricsSchema,
  /** Stream version of the last event the answering replica folded into this credential. */
  version: z.number().int().positive(),
};
export const CredentialDetailReplySchema = ok(CredentialDetailShape);
export const CredentialDetailSchema = z.strictObject(CredentialDetailShape);
export type CredentialDetail = z.infer<typeof CredentialDetailSchema>;
/** Every credential with its health and usage, as `credentials.get` gives one. */
export const CredentialStatusReplySchema = ok({
  credentials: z.array(CredentialDetailSchema),
  /** Pass as `after` for the next page; null when this page is the last. */
  next: CredentialIdSchema.nullable(),
});
export const PoolsStatusReplySchema = ok({ pools: z.array(PoolStatusSchema) });
export const ScheduleListRequestSchema = z.strictObject({
  provider: ProviderNameSchema.optional(),
  pool: PoolNameSchema.optional(),
});
export const ScheduleEntrySchema = z.strictObject({
  credentialId: CredentialIdSchema,
  provider: ProviderNameSchema,
  pool: PoolNameSchema,
  strategy: z.string(),
  /** Null when the credential is not refreshed (no refresh token, not active). */
  nextRefreshAt: TimestampSchema.nullable(),
  reason: z.string(),
  refreshing: z.boolean(),
  lastRefreshAt: TimestampSchema.nullable(),
  /** When the pool's rotation interval makes the credential due for replacement, if it has one. */
  rotationDueAt: TimestampSchema.nullable(),
});
export const ScheduleListReplySchema = ok({
  leader: z.strictObject({ holder: z.string(), term: z.number().int(), self: z.boolean() }),
  schedule: z.array(ScheduleEntrySchema),
});
export type ScheduleEntry = z.infer<typeof ScheduleEntrySchema>;

export const AuditLeasesReplySchema = ok({
  leases: z.array(AuditLeaseSchema),
  /** Pass as `after` for the next page; null when this page is the last. */
  next: z.string().nullable(),
});

/** Every admin verb: `<root>.v1.admin.<verb>`, its request body and its reply. */
export const AdminVerbs = {
  'credentials.add': { request: AddCredentialRequestSchema, reply: CredentialReplySchema },
  'credentials.import': {
    request: ImportCredentialRequestSchema,
    reply: CredentialImportReplySchema,
  },
  'credentials.list': { request: ListCredentialsRequestSchema, reply: CredentialListReplySchema },
  'credentials.get': { request: GetCredentialRequestSchema, reply: CredentialDetailReplySchema },
  'credentials.status': {
    request: CredentialStatusRequestSchema,
    reply: CredentialStatusReplySchema,
  },
  'credentials.refresh': { request: RefreshCredentialRequestSchema, reply: CredentialReplySchema },
  'credentials.rotate': { request: RotateCredentialRequestSchema, reply: RotateReplySchema },
  'credentials.decommission': {
    request: DecommissionCredentialRequestSchema,
    reply: CredentialReplySchema,
  },
  'credentials.revoke': { request: RevokeCredentialRequestSchema, reply: CredentialReplySchema },
  'pools.status': { request: PoolsStatusRequestSchema, reply: PoolsStatusReplySchema },
  'audit.leases': { request: AuditLeasesRequestSchema, reply: AuditLeasesReplySchema },
  /** Answered by the refresh scheduler. */
  'schedule.list': { request: ScheduleListRequestSchema, reply: ScheduleListReplySchema },
  ...AlertingAdminVerbs,
} as const;
export type AdminVerb = keyof typeof AdminVerbs;
export type AdminRequest<V extends AdminVerb> = z.infer<(typeof AdminVerbs)[V]['request']>;
export type AdminReply<V extends AdminVerb> = z.infer<(typeof AdminVerbs)[V]['reply']>;
