import { z } from 'zod';
import {
  has,
  importedTokens,
  NO_ACCESS_TOKEN_WARNING,
  optionalText,
  optionalToken,
  parseAs,
  refuse,
  type TokenFileFormat,
} from './shared.js';

/** google-auth writes a naive UTC `datetime.isoformat()` with 'Z' appended. */
const UTC_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

const parseUtcTime = (text: string): number | undefined => {
  const match = UTC_TIME.exec(text);
  if (match === null) return undefined;
  const millis = Date.parse(`${match[1]}.${(match[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`);
  return Number.isNaN(millis) ? undefined : millis;
};

/**
 * The `token.json` Python apps keep (`google.oauth2.credentials.Credentials.to_json()`,
 * as in the agent framework write-up of /work/shared/seeds/004_*.txt): `token`
 * (the access token), `refresh_token`, `token_uri`, `client_id`,
 * `client_secret`, `scopes` (list), `expiry` ('2026-01-01T01:00:00.123456Z'),
 * `universe_domain`, `account`; empty entries are left out. Unlike gcloud's
 * files (authorized_user, service_account) it has no `type`.
 *
 * Source: googleapis/google-auth-library-python google/oauth2/credentials.py
 * (`Credentials.to_json`).
 */
const GoogleAuthTokenSchema = z.looseObject({
  token: optionalToken,
  refresh_token: optionalToken,
  token_uri: optionalText,
  client_id: optionalText,
  client_secret: optionalText,
  scopes: z.array(z.string()).nullish(),
  expiry: z
    .string()
    .refine((text) => parseUtcTime(text) !== undefined, 'expected an ISO 8601 UTC time')
    .nullish(),
  account: optionalText,
});

export const googleAuthToken: TokenFileFormat = {
  format: 'google-auth/token.json',
  label: 'google-auth token.json',
  identifiedBy: 'token or token_uri, without access_token or type',
  detect: (document) =>
    !has(document, 'access_token') &&
    !has(document, 'type') &&
    (has(document, 'token') || has(document, 'token_uri')),
  parse: (document) => {
    const file = parseAs(googleAuthToken.label, GoogleAuthTokenSchema, document);
    if (file.token === undefined && file.refresh_token === undefined) {
      refuse(googleAuthToken.label, 'token', 'missing, and there is no refresh_token either');
    }
    const expiresAt =
      file.expiry === null || file.expiry === undefined ? undefined : parseUtcTime(file.expiry);
    const warnings: string[] = [];
    if (file.token === undefined) {
      warnings.push(NO_ACCESS_TOKEN_WARNING);
    } else if (expiresAt === undefined) {
      warnings.push('no expiry: expiry is missing, so when the access token expires is unknown');
    }
    return importedTokens({
      format: googleAuthToken.format,
      provider: undefined,
      accessToken: file.token,
      refreshToken: file.refresh_token,
      tokenType: 'Bearer',
      expiresAt,
      scopes: file.scopes ?? [],
      clientId: file.client_id === '' ? undefined : file.client_id,
      clientSecret: file.client_secret === '' ? undefined : file.client_secret,
      accountId: file.account === '' ? undefined : file.account,
      warnings,
    });
  },
};
