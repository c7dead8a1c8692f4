import { z } from 'zod';
import {
  importedTokens,
  NO_ACCESS_TOKEN_WARNING,
  optionalText,
  parseAs,
  requiredToken,
  type TokenDocument,
  type TokenFileFormat,
} from './shared.js';

/**
 * gcloud's `authorized_user` JSON (`~/.config/gcloud/application_default_credentials.json`
 * after `gcloud auth application-default login`): `type: 'authorized_user'`,
 * `client_id`, `client_secret`, `refresh_token`, and optionally
 * `quota_project_id`, `universe_domain`, `account`. It holds no access token.
 *
 * Sources: googleapis/google-auth-library-nodejs src/auth/refreshclient.ts
 * (`UserRefreshClient.fromJSON` requires type, client_id, client_secret and
 * refresh_token), src/auth/credentials.ts (`JWTInput`); Gemini CLI reads it via
 * GOOGLE_APPLICATION_CREDENTIALS (google-gemini/gemini-cli
 * packages/core/src/code_assist/oauth2.ts, `fetchCachedCredentials`).
 */
const AuthorizedUserSchema = z.looseObject({
  type: z.literal('authorized_user'),
  client_id: requiredToken,
  client_secret: requiredToken,
  refresh_token: requiredToken,
  quota_project_id: optionalText,
  universe_domain: optionalText,
  account: optionalText,
});

export const gcloudAuthorizedUser: TokenFileFormat = {
  format: 'gcloud/authorized_user.json',
  label: 'gcloud authorized_user JSON',
  identifiedBy: "type 'authorized_user'",
  detect: (document: TokenDocument) => document['type'] === 'authorized_user',
  parse: (document) => {
    const file = parseAs(gcloudAuthorizedUser.label, AuthorizedUserSchema, document);
    return importedTokens({
      format: gcloudAuthorizedUser.format,
      provider: 'gemini-cli',
      accessToken: undefined,
      refreshToken: file.refresh_token,
      tokenType: 'Bearer',
      expiresAt: undefined,
      scopes: [],
      clientId: file.client_id,
      clientSecret: file.client_secret,
      accountId: file.account === '' ? undefined : file.account,
      warnings: [NO_ACCESS_TOKEN_WARNING],
    });
  },
};
