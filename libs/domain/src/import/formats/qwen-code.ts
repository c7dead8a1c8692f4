import { z } from 'zod';
import { fromOAuthCreds, OAuthCredsSchema } from './gemini-cli.js';
import { has, parseAs, type TokenFileFormat } from './shared.js';

/**
 * Qwen Code `~/.qwen/oauth_creds.json`: Gemini CLI's shape plus `resource_url`
 * (the API host the token is for, e.g. 'portal.qwen.ai'); `expiry_date` is epoch
 * milliseconds (`Date.now() + expires_in * 1000`), no `scope` is stored.
 *
 * Source: QwenLM/qwen-code packages/core/src/qwen/qwenOAuth2.ts (`QwenCredentials`,
 * `refreshAccessToken`).
 */
const QwenCredsSchema = OAuthCredsSchema.extend({ resource_url: z.string().min(1) });

export const qwenCode: TokenFileFormat = {
  format: 'qwen-code/oauth_creds.json',
  label: 'Qwen Code oauth_creds.json',
  identifiedBy: 'expiry_date and resource_url',
  detect: (document) => has(document, 'expiry_date') && has(document, 'resource_url'),
  parse: (document) => {
    return fromOAuthCreds(
      parseAs(qwenCode.label, QwenCredsSchema, document),
      qwenCode.format,
      'qwen-code',
    );
  },
};
