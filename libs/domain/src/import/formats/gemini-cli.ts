import { z } from 'zod';
import {
  epochMilliseconds,
  has,
  importedTokens,
  optionalText,
  optionalToken,
  parseAs,
  requiredToken,
  splitScopes,
  type TokenFileFormat,
} from './shared.js';
import type { ImportedTokens } from '../token-files.js';

/**
 * Gemini CLI `~/.gemini/oauth_creds.json`: google-auth-library's `Credentials`
 * written with `JSON.stringify` — `access_token`, `refresh_token`, `scope` (space
 * separated), `token_type`, `id_token`, `expiry_date` in epoch milliseconds.
 *
 * Sources: google-gemini/gemini-cli packages/core/src/code_assist/oauth2.ts
 * (`cacheCredentials`), googleapis/google-auth-library-nodejs
 * src/auth/credentials.ts (`Credentials`: "The time in ms at which this token is
 * thought to expire"; scope "space-delimited").
 */
export const OAuthCredsSchema = z.looseObject({
  access_token: requiredToken,
  refresh_token: optionalToken,
  token_type: optionalText,
  id_token: optionalText,
  scope: optionalText,
  expiry_date: epochMilliseconds,
});

export const geminiCli: TokenFileFormat = {
  format: 'gemini-cli/oauth_creds.json',
  label: 'Gemini CLI oauth_creds.json',
  identifiedBy: 'expiry_date, epoch ms',
  detect: (document) => has(document, 'expiry_date') && !has(document, 'resource_url'),
  parse: (document) => {
    const file = parseAs(geminiCli.label, OAuthCredsSchema, document);
    return fromOAuthCreds(file, geminiCli.format, 'gemini-cli');
  },
};

/** The tokens of an `oauth_creds.json` (Gemini CLI's shape, which Qwen Code shares). */
export const fromOAuthCreds = (
  file: z.infer<typeof OAuthCredsSchema>,
  format: string,
  provider: string,
): ImportedTokens =>
  importedTokens({
    format,
    provider,
    accessToken: file.access_token,
    refreshToken: file.refresh_token,
    tokenType: file.token_type ?? 'Bearer',
    expiresAt: Math.round(file.expiry_date),
    scopes: splitScopes(file.scope),
    warnings: [],
  });
