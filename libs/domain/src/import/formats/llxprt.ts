import { z } from 'zod';
import {
  epochSeconds,
  has,
  importedTokens,
  optionalText,
  optionalToken,
  parseAs,
  requiredToken,
  secondsToMilliseconds,
  splitScopes,
  type TokenFileFormat,
} from './shared.js';

/**
 * llxprt-code `~/.llxprt/oauth/<provider>[-<bucket>].json` (`OAuthToken`):
 * `access_token`, optional `refresh_token`, `expiry` in epoch SECONDS,
 * `token_type: 'Bearer'`, `scope` (string, null or absent), and per provider
 * `resource_url` (Qwen), `account_id` and `id_token` (Codex). The provider is in
 * the file name, not the file, so it is inferred from what only one provider
 * writes.
 *
 * Sources: vybestack/llxprt-code packages/core/src/auth/types.ts
 * (`OAuthTokenSchema`), packages/core/src/auth/token-store.ts
 * (`MultiProviderTokenStore`, path and passthrough of extra fields),
 * packages/core/src/auth/qwen-device-flow.ts and
 * packages/core/src/auth/anthropic-device-flow.ts (`expiry = now/1000 +
 * expires_in`), packages/core/src/auth/codex-device-flow.ts ("Unix timestamp in
 * SECONDS", `account_id`), packages/cli/src/auth/gemini-oauth-provider.ts
 * (`expiry: Math.floor(expiry_date / 1000)`).
 */
const LlxprtTokenSchema = z.looseObject({
  access_token: requiredToken,
  refresh_token: optionalToken,
  expiry: epochSeconds,
  token_type: optionalText,
  scope: optionalText,
  resource_url: optionalText,
  account_id: optionalText,
  id_token: optionalText,
});

type LlxprtToken = z.infer<typeof LlxprtTokenSchema>;

/**
 * The provider only one of llxprt's four OAuth providers would write: Qwen adds
 * `resource_url`, Codex `account_id`; Anthropic's tokens start 'sk-ant-' and
 * Google's (llxprt's Gemini login, the Gemini CLI client) 'ya29.'.
 */
const inferProvider = (token: LlxprtToken): string | undefined => {
  if (token.resource_url !== undefined) return 'qwen-code';
  if (token.account_id !== undefined) return 'openai-codex';
  if (token.access_token.startsWith('sk-ant-')) return 'anthropic';
  if (token.access_token.startsWith('ya29.')) return 'gemini-cli';
  return undefined;
};

export const llxprt: TokenFileFormat = {
  format: 'llxprt/oauth/<provider>.json',
  label: 'llxprt oauth/<provider>.json',
  identifiedBy: 'expiry, epoch seconds',
  detect: (document) => has(document, 'expiry') && !has(document, 'expiry_date'),
  parse: (document) => {
    const token = parseAs(llxprt.label, LlxprtTokenSchema, document);
    const provider = inferProvider(token);
    return importedTokens({
      format: llxprt.format,
      provider,
      accessToken: token.access_token,
      refreshToken: token.refresh_token,
      tokenType: token.token_type ?? 'Bearer',
      expiresAt: secondsToMilliseconds(token.expiry),
      scopes: splitScopes(token.scope),
      accountId: token.account_id === '' ? undefined : token.account_id,
      warnings:
        provider === undefined
          ? [
              'provider unknown: llxprt names the provider in the file name, not in the file; name it when importing',
            ]
          : [],
    });
  },
};
