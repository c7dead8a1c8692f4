import { z } from 'zod';
import { CredentialStatusSchema, describeIssues, EncryptedSchema } from '@broker/contracts';
import {
  HEALTHY,
  NO_REFRESH,
  NO_USAGE,
  NOT_ROTATING,
  type CredentialSecrets,
  type CredentialState,
} from '../credential/state.js';
import { addCounts } from '../credential/counts.js';
import type { CredentialRegistry } from './credential-registry.js';

/**
 * The shape of snapshot text. Bump it whenever `CredentialState` changes: a
 * snapshot of another version is ignored and the log is folded from its start.
 */
export const REGISTRY_SNAPSHOT_SCHEMA_VERSION = 1;

const Millis = z.number().int();
const counts = z.record(z.string(), z.number());

const CredentialStateSchema = z.strictObject({
  id: z.string().min(1),
  version: z.number().int().positive(),
  provider: z.string().min(1),
  pool: z.string().min(1),
  label: z.string().optional(),
  priority: z.number().int(),
  scopes: z.array(z.string()),
  metadata: z.record(z.string(), z.string()),
  clientId: z.string().optional(),
  tokenType: z.string(),
  status: CredentialStatusSchema,
  statusReason: z.string().optional(),
  statusChangedAt: Millis.nullable(),
  addedAt: Millis,
  expiresAt: Millis,
  // Token material only as the log holds it: a snapshot with a clear token does not load.
  secrets: z.strictObject({
    accessToken: EncryptedSchema.optional(),
    refreshToken: EncryptedSchema.optional(),
    clientSecret: EncryptedSchema.optional(),
  }),
  fingerprint: z.string(),
  lastRefreshAt: Millis.nullable(),
  refreshCount: z.number().int().nonnegative(),
  health: z.strictObject({
    consecutiveFailures: z.number().int().nonnegative(),
    backoffUntil: Millis.nullable(),
    coolingUntil: Millis.nullable(),
    coolingStatus: z.number().int().nullable(),
    modelCooldowns: z.record(z.string(), Millis),
    refreshRequired: z.boolean(),
  }),
  refresh: z.strictObject({
    inFlight: z
      .strictObject({
        refreshId: z.string(),
        startedAt: Millis,
        reason: z.string(),
        replica: z.string(),
      })
      .nullable(),
    consecutiveFailures: z.number().int().nonnegative(),
    nextAttemptAt: Millis.nullable(),
    lastError: z.string().nullable(),
    outcomeUnknown: z.boolean(),
    recentDurationsMs: z.array(z.number()),
  }),
  rotation: z.strictObject({
    dueAt: Millis.nullable(),
    successorId: z.string().nullable(),
    graceUntil: Millis.nullable(),
  }),
  usage: z.strictObject({
    leases: z.number(),
    requests: z.number(),
    successes: z.number(),
    failures: z.number(),
    byStatus: counts,
    tokensUsed: z.number(),
    latencyMsTotal: z.number(),
    latencySamples: z.number(),
    lastUsedAt: Millis.nullable(),
  }),
}) satisfies z.ZodType<CredentialState>;

const RegistrySnapshotSchema = z.strictObject({ credentials: z.array(CredentialStateSchema) });

/** Snapshot text that cannot be read back: the caller folds the log from its start instead. */
export class SnapshotUnreadableError extends Error {
  override readonly name = 'SnapshotUnreadableError';
}

const SECRET_FIELDS: readonly (keyof CredentialSecrets)[] = [
  'accessToken',
  'refreshToken',
  'clientSecret',
];

/** Refuses state holding token material in clear; names the field, never the value. */
const assertSealed = (credential: CredentialState): void => {
  for (const field of SECRET_FIELDS) {
    const value = credential.secrets[field];
    if (value !== undefined && !EncryptedSchema.safeParse(value).success) {
      throw new Error(
        `snapshot refused: credential '${credential.id}' holds ${field} that is not encrypted`,
      );
    }
  }
};

/** Every credential's state as snapshot text (JSON). Token material stays encrypted. */
export const encodeRegistrySnapshot = (registry: CredentialRegistry): string => {
  const credentials = registry.all();
  for (const credential of credentials) assertSealed(credential);
  return JSON.stringify({ credentials });
};

const isEmpty = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && Object.keys(value).length === 0;

/** Whether `value` holds what `shared` holds, empty objects and arrays compared as empty. */
const sameAs = <T extends object>(value: T, shared: T): boolean =>
  Object.entries(shared).every(([key, expected]) => {
    const actual = (value as Record<string, unknown>)[key];
    return actual === expected || (isEmpty(actual) && isEmpty(expected));
  });

/**
 * A folded credential shares the default health, refresh, rotation and usage
 * objects until an event changes them; a restored one does the same, so that a
 * replica started from a snapshot holds no more memory than one that folded.
 */
const shareDefaults = (state: CredentialState): CredentialState => ({
  ...state,
  health: sameAs(state.health, HEALTHY) ? HEALTHY : state.health,
  refresh: sameAs(state.refresh, NO_REFRESH) ? NO_REFRESH : state.refresh,
  rotation: sameAs(state.rotation, NOT_ROTATING) ? NOT_ROTATING : state.rotation,
  usage: sameAs(state.usage, NO_USAGE)
    ? NO_USAGE
    : // Counts by status as the fold builds them: see `emptyCounts`.
      { ...state.usage, byStatus: addCounts(state.usage.byStatus) },
});

/** Reads snapshot text back into credential states, or throws `SnapshotUnreadableError`. */
export const decodeRegistrySnapshot = (text: string): CredentialState[] => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // The parser's message quotes the text: say only that it is not JSON.
    throw new SnapshotUnreadableError('snapshot is not JSON');
  }
  const parsed = RegistrySnapshotSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SnapshotUnreadableError(
      `snapshot does not match schema version ${REGISTRY_SNAPSHOT_SCHEMA_VERSION}: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data.credentials.map(shareDefaults);
};
