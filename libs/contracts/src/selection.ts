import { z } from 'zod';
import { CredentialIdSchema } from './primitives.js';

/** Why a credential could not be chosen for one lease request. */
export const SkipReasonSchema = z.enum([
  'excluded',
  'revoked',
  'decommissioned',
  'reauth-required',
  'refresh-required',
  'refreshing',
  'cooling',
  'model-cooling',
  'backing-off',
  'trial-in-flight',
  'expiring',
]);
export type SkipReason = z.infer<typeof SkipReasonSchema>;

export const SelectionPolicySchema = z.enum(['round-robin', 'priority']);
export type SelectionPolicy = z.infer<typeof SelectionPolicySchema>;

/** Recorded with every lease: why this credential, and why not the others. */
export const SelectionReasonSchema = z.strictObject({
  policy: SelectionPolicySchema,
  position: z.number().int().nonnegative(),
  candidates: z.number().int().nonnegative(),
  halfOpenTrial: z.boolean(),
  skipped: z.array(z.strictObject({ credentialId: CredentialIdSchema, reason: SkipReasonSchema })),
});
export type SelectionReason = z.infer<typeof SelectionReasonSchema>;
