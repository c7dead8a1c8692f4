/**
 * What every token-file reader shares: the shape of a format (a detector and a
 * parser), the zod pieces for tokens and times, and the warnings. Pure code: no
 * I/O, no clock. Messages name fields and formats, never a value from the file.
 */
import { z } from 'zod';
import { BrokerError, describeIssues } from '@broker/contracts';
import type { ImportedTokens } from '../token-files.js';

/** A token file's top-level JSON object. */
export type TokenDocument = Readonly<Record<string, unknown>>;

/** One kind of token file: how to recognise it by its content, and how to read it. */
export interface TokenFileFormat {
  /** What an import from it reports as `format`, e.g. 'gemini-cli/oauth_creds.json'. */
  readonly format: string;
  /** How messages name it, e.g. 'Claude Code .credentials.json'. */
  readonly label: string;
  /** The keys that identify it, for the message listing the formats that were tried. */
  readonly identifiedBy: string;
  /** True when the document has this format's distinctive keys (its values are not checked). */
  readonly detect: (document: TokenDocument) => boolean;
  /** Reads the document; throws INVALID_REQUEST naming the format and the field. */
  readonly parse: (document: TokenDocument) => ImportedTokens;
}

export const NO_REFRESH_TOKEN_WARNING =
  'no refresh token: this credential cannot be refreshed and will stop working at expiry';

export const NO_ACCESS_TOKEN_WARNING =
  'no access token: the file holds only a refresh token, so the credential must be refreshed before its first use';

export const has = (document: TokenDocument, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(document, key);

/** Parses with a zod schema, or throws INVALID_REQUEST as `<label>: <field>: <problem>`. */
export const parseAs = <S extends z.ZodType>(
  label: string,
  schema: S,
  document: unknown,
): z.infer<S> => {
  const result = schema.safeParse(document);
  if (!result.success) {
    throw new BrokerError('INVALID_REQUEST', `${label}: ${describeIssues(result.error)}`);
  }
  return result.data;
};

/** Throws INVALID_REQUEST as `<label>: <field>: <problem>` for a check zod cannot express. */
export const refuse = (label: string, field: string, problem: string): never => {
  throw new BrokerError('INVALID_REQUEST', `${label}: ${field}: ${problem}`);
};

/** A token the format requires. */
export const requiredToken = z.string().min(1);

/** A token the format may leave out; `null` and `""` count as absent. */
export const optionalToken = z
  .string()
  .nullish()
  .transform((value) =>
    value === null || value === undefined || value === '' ? undefined : value,
  );

/** An optional text field; `null` counts as absent. */
export const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);

/**
 * Anything below this is seconds, anything above is milliseconds: 1e11 seconds is
 * the year 5138, 1e11 milliseconds is March 1973.
 */
export const MILLISECONDS_FROM = 1e11;

/** A time in epoch milliseconds; a value that is plainly seconds is refused. */
export const epochMilliseconds = z
  .number()
  .positive()
  .refine((value) => value >= MILLISECONDS_FROM, 'expected epoch milliseconds, got epoch seconds');

/** A time in epoch seconds; a value that is plainly milliseconds is refused. */
export const epochSeconds = z
  .number()
  .positive()
  .refine((value) => value < MILLISECONDS_FROM, 'expected epoch seconds, got epoch milliseconds');

export const secondsToMilliseconds = (seconds: number): number => Math.round(seconds * 1000);

/** Splits an OAuth `scope` string on any whitespace and drops empty pieces. */
export const splitScopes = (scope: string | undefined): string[] =>
  scope === undefined ? [] : scope.split(/\s+/).filter((s) => s.length > 0);

/**
 * The claims of a JWT, decoded from its base64url payload without verifying the
 * signature; undefined when the text is not a JWT with a JSON object payload.
 */
export const decodeJwtClaims = (token: string): Readonly<Record<string, unknown>> | undefined => {
  const parts = token.split('.');
  const payload = parts[1];
  if (parts.length !== 3 || payload === undefined || !/^[A-Za-z0-9_-]+$/.test(payload)) {
    return undefined;
  }
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/** A JWT's `exp` claim (epoch seconds) in epoch milliseconds, when it has a usable one. */
export const jwtExpiresAt = (token: string): number | undefined => {
  const exp = decodeJwtClaims(token)?.['exp'];
  return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 && exp < MILLISECONDS_FROM
    ? secondsToMilliseconds(exp)
    : undefined;
};

type ImportedFields = { readonly [K in keyof ImportedTokens]: ImportedTokens[K] | undefined };

/**
 * The import result with the fields the file does not have left out, and the
 * no-refresh-token warning added when there is no refresh token.
 */
export const importedTokens = (fields: ImportedFields): ImportedTokens => {
  const warnings =
    fields.refreshToken === undefined
      ? [NO_REFRESH_TOKEN_WARNING, ...(fields.warnings ?? [])]
      : [...(fields.warnings ?? [])];
  const present = Object.entries({ ...fields, warnings }).filter(
    ([, value]) => value !== undefined,
  );
  return Object.fromEntries(present) as unknown as ImportedTokens;
};
