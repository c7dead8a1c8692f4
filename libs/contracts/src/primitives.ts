import { z } from 'zod';

/** One NATS subject token: no dots, no wildcards, no whitespace. */
export const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const subjectToken = (what: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(SUBJECT_TOKEN, `${what} may contain only letters, digits, '_' and '-'`);

/**
 * Free text a client sends that is stored (audit rows, events): no control
 * characters, because Postgres refuses NUL in text and JSON, and one such row
 * would fail the whole group commit it is part of.
 */
export const storedText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

export const ProviderNameSchema = subjectToken('a provider name');
export const PoolNameSchema = subjectToken('a pool name');
export const ClientNameSchema = subjectToken('a client name');

export const CredentialIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.@:-]*$/,
    "a credential id starts with a letter or digit and may contain letters, digits, '_', '.', '@', ':' and '-'",
  );

export const LeaseIdSchema = z.uuid();

/** A point in time on the wire: ISO 8601 with an offset, always UTC when the broker writes it. */
export const TimestampSchema = z.iso.datetime({ offset: true });

/** Epoch milliseconds below this are 1973 or earlier: almost surely seconds sent by mistake. */
const EARLIEST_PLAUSIBLE_MS = 100_000_000_000;

/** Accepts ISO 8601 or epoch milliseconds and yields epoch milliseconds. */
export const InstantInputSchema = z
  .union([
    TimestampSchema,
    z
      .number()
      .int()
      .min(EARLIEST_PLAUSIBLE_MS, 'looks like epoch seconds; send epoch milliseconds or ISO 8601'),
  ])
  .transform((value) => (typeof value === 'number' ? value : Date.parse(value)));

export const ModelSchema = storedText(1, 200);
export const ScopesSchema = z.array(storedText(1, 512)).max(100);
export const MetadataSchema = z.record(storedText(0, 128), storedText(0, 1024));
