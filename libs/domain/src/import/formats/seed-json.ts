import { z } from 'zod';
import {
  has,
  importedTokens,
  MILLISECONDS_FROM,
  optionalText,
  optionalToken,
  parseAs,
  requiredToken,
  secondsToMilliseconds,
  splitScopes,
  type TokenFileFormat,
} from './shared.js';

/**
 * The plain OAuth token JSON users hand-assemble or keep from other tools:
 * `access_token`, `refresh_token`, `token_type`, and `expires_at` in epoch
 * SECONDS, possibly fractional (`1645123456.1234`), or only the token response's
 * `expires_in` (a lifetime in seconds, which without the issue time gives no
 * absolute expiry).
 *
 * Source: the credential files of the Discord bot write-up in
 * /work/shared/seeds/000_*.txt ("Prepare OAuth Credentials"; `expires_at` checked
 * with a buffer), also accepted as an inline JSON string.
 */
const SeedTokenSchema = z.looseObject({
  access_token: requiredToken,
  refresh_token: optionalToken,
  token_type: optionalText,
  expires_at: z.union([z.number().positive(), z.iso.datetime({ offset: true })]).nullish(),
  expires_in: z.number().nonnegative().nullish(),
  scope: z.union([z.string(), z.array(z.string())]).nullish(),
});

const readExpiry = (
  expiresAt: number | string | null | undefined,
  expiresIn: number | null | undefined,
): { expiresAt?: number; warning?: string } => {
  if (typeof expiresAt === 'string') return { expiresAt: Date.parse(expiresAt) };
  if (typeof expiresAt === 'number') {
    return expiresAt < MILLISECONDS_FROM
      ? { expiresAt: secondsToMilliseconds(expiresAt) }
      : {
          expiresAt: Math.round(expiresAt),
          warning: 'expires_at is in epoch milliseconds, not seconds: read as milliseconds',
        };
  }
  if (expiresIn !== null && expiresIn !== undefined) {
    return {
      warning:
        'no expiry: expires_in gives the lifetime but the file does not say when the token was issued, so when it expires is unknown',
    };
  }
  return { warning: 'no expiry: expires_at is empty, so when the access token expires is unknown' };
};

export const seedJson: TokenFileFormat = {
  format: 'oauth-token.json',
  label: 'OAuth token JSON',
  identifiedBy: 'expires_at or expires_in',
  detect: (document) => has(document, 'expires_at') || has(document, 'expires_in'),
  parse: (document) => {
    const file = parseAs(seedJson.label, SeedTokenSchema, document);
    const expiry = readExpiry(file.expires_at, file.expires_in);
    const scope = file.scope ?? undefined;
    return importedTokens({
      format: seedJson.format,
      provider: undefined,
      accessToken: file.access_token,
      refreshToken: file.refresh_token,
      tokenType: file.token_type ?? 'Bearer',
      expiresAt: expiry.expiresAt,
      scopes: Array.isArray(scope) ? scope : splitScopes(scope),
      warnings: expiry.warning === undefined ? [] : [expiry.warning],
    });
  },
};
