import { BrokerError } from '@broker/contracts';
import { claudeCode } from './formats/claude-code.js';
import { codex } from './formats/codex.js';
import { gcloudAuthorizedUser } from './formats/gcloud-authorized-user.js';
import { geminiCli } from './formats/gemini-cli.js';
import { googleAuthToken } from './formats/google-auth-token.js';
import { llxprt } from './formats/llxprt.js';
import { qwenCode } from './formats/qwen-code.js';
import { seedJson } from './formats/seed-json.js';
import type { TokenDocument, TokenFileFormat } from './formats/shared.js';

export { NO_ACCESS_TOKEN_WARNING, NO_REFRESH_TOKEN_WARNING } from './formats/shared.js';

/** What a CLI's token file says about one account, in the broker's terms. */
export interface ImportedTokens {
  /** Which file it was, e.g. 'gemini-cli/oauth_creds.json'. */
  readonly format: string;
  /** 'gemini-cli', 'antigravity', 'qwen-code', 'anthropic', 'openai-codex' or 'iflow', when the file says. */
  readonly provider?: string;
  /** Absent when the file has none (gcloud authorized_user). */
  readonly accessToken?: string;
  readonly refreshToken?: string;
  /** 'Bearer' unless the file says otherwise. */
  readonly tokenType: string;
  /** Epoch ms; absent when the file does not say. */
  readonly expiresAt?: number;
  readonly scopes: string[];
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The account the tokens belong to where the file names it (Codex account_id, gcloud account). */
  readonly accountId?: string;
  /** What the importer should know, e.g. that there is no refresh token. Never holds a secret. */
  readonly warnings: string[];
}

/**
 * The formats, most distinctive first: each is recognised by keys the ones after
 * it do not look at, so a document matches the first whose keys it has.
 */
const FORMATS: readonly TokenFileFormat[] = [
  claudeCode, // claudeAiOauth
  codex, // tokens / OPENAI_API_KEY
  gcloudAuthorizedUser, // type: 'authorized_user'
  googleAuthToken, // token / token_uri without access_token
  llxprt, // expiry (seconds) without expiry_date
  qwenCode, // expiry_date + resource_url
  geminiCli, // expiry_date
  seedJson, // expires_at / expires_in
];

const BYTE_ORDER_MARK = '\uFEFF';

/** The document as JSON: an object as it is, text parsed (never quoted back in an error). */
const parseDocument = (document: unknown): unknown => {
  if (typeof document !== 'string') return document;
  const text = document.startsWith(BYTE_ORDER_MARK) ? document.slice(1) : document;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BrokerError('INVALID_REQUEST', 'document: not valid JSON');
  }
};

const isObject = (value: unknown): value is TokenDocument =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a token file (its JSON object, or its text), recognising the format by
 * its content. Throws INVALID_REQUEST naming the format and the field that is
 * missing or wrong, or listing the formats tried when none matches; messages
 * never contain a value from the file.
 */
export const importTokenFile = (document: unknown): ImportedTokens => {
  const parsed = parseDocument(document);
  if (!isObject(parsed)) {
    throw new BrokerError('INVALID_REQUEST', 'document: expected a JSON object (a token file)');
  }
  const format = FORMATS.find((candidate) => candidate.detect(parsed));
  if (format === undefined) {
    const tried = FORMATS.map((f) => `${f.label} (${f.identifiedBy})`).join(', ');
    throw new BrokerError(
      'INVALID_REQUEST',
      `document is not a recognised token file; tried: ${tried}`,
    );
  }
  return format.parse(parsed);
};
