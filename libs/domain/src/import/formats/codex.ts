import { z } from 'zod';
import {
  decodeJwtClaims,
  has,
  importedTokens,
  jwtExpiresAt,
  optionalText,
  parseAs,
  refuse,
  requiredToken,
  type TokenFileFormat,
} from './shared.js';

/**
 * Codex CLI `~/.codex/auth.json` (`AuthDotJson`): `OPENAI_API_KEY` (string or
 * null), `tokens` (`TokenData`: `id_token` and `access_token`, both JWTs,
 * `refresh_token`, optional `account_id`), `last_refresh` (RFC 3339), optional
 * `auth_mode`. The file has no expiry: Codex reads the access token's JWT `exp`.
 *
 * Sources: openai/codex codex-rs/login/src/auth/storage.rs (`AuthDotJson`),
 * codex-rs/login/src/token_data.rs (`TokenData`, `parse_jwt_expiration`, the
 * `https://api.openai.com/auth` claim with `chatgpt_account_id`).
 */
const CodexAuthSchema = z.looseObject({
  OPENAI_API_KEY: z.string().nullish(),
  auth_mode: optionalText,
  tokens: z.looseObject({
    id_token: requiredToken,
    access_token: requiredToken,
    refresh_token: requiredToken,
    account_id: optionalText,
  }),
  last_refresh: optionalText,
});

const OPENAI_AUTH_CLAIM = 'https://api.openai.com/auth';

/** The ChatGPT account id an OpenAI JWT names, if any. */
const chatgptAccountId = (jwt: string): string | undefined => {
  const auth = decodeJwtClaims(jwt)?.[OPENAI_AUTH_CLAIM];
  if (typeof auth !== 'object' || auth === null) return undefined;
  const id = (auth as Record<string, unknown>)['chatgpt_account_id'];
  return typeof id === 'string' && id !== '' ? id : undefined;
};

/** The scopes an OpenAI access token's `scp` claim grants. */
const jwtScopes = (jwt: string): string[] => {
  const scp = decodeJwtClaims(jwt)?.['scp'];
  return Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string') : [];
};

export const codex: TokenFileFormat = {
  format: 'codex/auth.json',
  label: 'Codex auth.json',
  identifiedBy: 'tokens or OPENAI_API_KEY',
  detect: (document) => has(document, 'tokens') || has(document, 'OPENAI_API_KEY'),
  parse: (document) => {
    const apiKey = document['OPENAI_API_KEY'];
    const hasApiKey = typeof apiKey === 'string' && apiKey !== '';
    if ((document['tokens'] === undefined || document['tokens'] === null) && hasApiKey) {
      refuse(
        codex.label,
        'tokens',
        'missing: this auth.json holds only an API key (OPENAI_API_KEY), not a ChatGPT login',
      );
    }
    const { tokens } = parseAs(codex.label, CodexAuthSchema, document);
    const expiresAt = jwtExpiresAt(tokens.access_token);
    const warnings: string[] = [];
    if (expiresAt === undefined) {
      warnings.push(
        'no expiry: tokens.access_token is not a JWT with an exp claim, so when it expires is unknown',
      );
    }
    if (hasApiKey) {
      warnings.push('OPENAI_API_KEY is not imported: only the ChatGPT login tokens are');
    }
    return importedTokens({
      format: codex.format,
      provider: 'openai-codex',
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      tokenType: 'Bearer',
      expiresAt,
      scopes: jwtScopes(tokens.access_token),
      accountId:
        tokens.account_id === '' || tokens.account_id === undefined
          ? chatgptAccountId(tokens.id_token)
          : tokens.account_id,
      warnings,
    });
  },
};
