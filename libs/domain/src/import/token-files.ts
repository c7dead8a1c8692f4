import { z } from 'zod';
import { BrokerError, describeIssues } from '@broker/contracts';

/** What a CLI's token file says about one account, in the broker's terms. */
export interface ImportedTokens {
  readonly format: string;
  readonly provider?: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly tokenType: string;
  readonly expiresAt: number;
  readonly scopes: string[];
}

/**
 * `~/.gemini/oauth_creds.json` as Gemini CLI writes it (google-auth-library's
 * Credentials: `expiry_date` in epoch ms, `scope` space separated). Qwen Code's
 * `~/.qwen/oauth_creds.json` has the same shape plus `resource_url`.
 */
const OAuthCredsFileSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  token_type: z.string().min(1).optional(),
  expiry_date: z.number().int().positive(),
  scope: z.string().optional(),
  resource_url: z.string().optional(),
});

const parseDocument = (document: unknown): unknown => {
  if (typeof document !== 'string') return document;
  try {
    return JSON.parse(document) as unknown;
  } catch {
    throw new BrokerError('INVALID_REQUEST', 'document: not valid JSON');
  }
};

/** Reads a token file's JSON; throws INVALID_REQUEST naming what is missing. */
export const importTokenFile = (document: unknown): ImportedTokens => {
  const parsed = OAuthCredsFileSchema.safeParse(parseDocument(document));
  if (!parsed.success) {
    throw new BrokerError(
      'INVALID_REQUEST',
      `document is not a recognised token file (expected Gemini CLI or Qwen Code oauth_creds.json): ${describeIssues(parsed.error)}`,
    );
  }
  const file = parsed.data;
  return {
    format:
      file.resource_url === undefined
        ? 'gemini-cli/oauth_creds.json'
        : 'qwen-code/oauth_creds.json',
    provider: file.resource_url === undefined ? 'gemini-cli' : 'qwen-code',
    accessToken: file.access_token,
    ...(file.refresh_token === undefined ? {} : { refreshToken: file.refresh_token }),
    tokenType: file.token_type ?? 'Bearer',
    expiresAt: file.expiry_date,
    scopes: file.scope === undefined ? [] : file.scope.split(/\s+/).filter((s) => s.length > 0),
  };
};
