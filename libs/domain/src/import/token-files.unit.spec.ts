import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError } from '@broker/contracts';
import { brokerErrorFrom } from '../testing/fixtures.js';
import {
  importTokenFile,
  NO_ACCESS_TOKEN_WARNING,
  NO_REFRESH_TOKEN_WARNING,
  type ImportedTokens,
} from './token-files.js';

/**
 * The fixtures are token files shaped like the real ones (fake values); each
 * format's parser cites where its shape comes from. `*.broken.json` files match
 * a format but have a field missing or wrong.
 */
const FIXTURES_DIR = join(__dirname, 'fixtures');
const FIXTURES = readdirSync(FIXTURES_DIR).filter((name) => name.endsWith('.json'));

const fixtureText = (name: string): string => readFileSync(join(FIXTURES_DIR, name), 'utf8');
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fixtureText(name)) as Record<string, unknown>;
const importFixture = (name: string): ImportedTokens => importTokenFile(fixture(name));
const errorFor = (document: unknown) => brokerErrorFrom(() => importTokenFile(document));

/** An object with some of its fields left out. */
const without = (object: Record<string, unknown>, ...keys: string[]): Record<string, unknown> =>
  Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)));

/** 2026-01-01T01:00:00.000Z, the expiry most fixtures carry. */
const ONE_AM = 1767229200000;

/** Every value in a fixture that is a token, a secret or a key. */
const SECRET_KEYS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'accessToken',
  'refreshToken',
  'client_secret',
  'token',
  'OPENAI_API_KEY',
  'private_key',
  'private_key_id',
]);
const secretsIn = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.flatMap(secretsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    SECRET_KEYS.has(key) && typeof inner === 'string' ? [inner] : secretsIn(inner),
  );
};

/** What an import of a fixture tells the operator: the error message, or the warnings. */
const textsOf = (name: string): string[] => {
  try {
    return importTokenFile(fixtureText(name)).warnings;
  } catch (error) {
    if (error instanceof BrokerError) return [error.message];
    throw error;
  }
};

describe('importTokenFile', () => {
  describe('given a Gemini CLI oauth_creds.json', () => {
    const expected: ImportedTokens = {
      format: 'gemini-cli/oauth_creds.json',
      provider: 'gemini-cli',
      accessToken: fixture('gemini-cli.oauth_creds.json')['access_token'] as string,
      refreshToken: fixture('gemini-cli.oauth_creds.json')['refresh_token'] as string,
      tokenType: 'Bearer',
      expiresAt: ONE_AM,
      scopes: [
        'https://www.googleapis.com/auth/cloud-platform',
        'https://www.googleapis.com/auth/userinfo.email',
        'https://www.googleapis.com/auth/userinfo.profile',
        'openid',
      ],
      warnings: [],
    };

    it('imports the file given as a JSON object', () => {
      expect(importFixture('gemini-cli.oauth_creds.json')).toEqual(expected);
    });

    it('imports the same file given as its text', () => {
      expect(importTokenFile(fixtureText('gemini-cli.oauth_creds.json'))).toEqual(expected);
    });

    it('imports text that starts with a byte order mark', () => {
      expect(importTokenFile(`\uFEFF${fixtureText('gemini-cli.oauth_creds.json')}`)).toEqual(
        expected,
      );
    });

    it('splits the scope string on any whitespace and drops empty pieces', () => {
      const imported = importTokenFile({
        ...fixture('gemini-cli.oauth_creds.json'),
        scope: '  openid\temail \n profile  ',
      });

      expect(imported.scopes).toEqual(['openid', 'email', 'profile']);
    });

    it('assumes a Bearer token and no scopes when the file says neither', () => {
      const rest = without(fixture('gemini-cli.oauth_creds.json'), 'token_type', 'scope');

      expect(importTokenFile(rest)).toMatchObject({ tokenType: 'Bearer', scopes: [] });
    });

    it('imports a file without a refresh token, warning that it cannot be refreshed', () => {
      const imported = importFixture('gemini-cli.no-refresh-token.json');

      expect(imported).not.toHaveProperty('refreshToken');
      expect(imported.accessToken).toBe(expected.accessToken);
      expect(imported.warnings).toEqual([NO_REFRESH_TOKEN_WARNING]);
    });

    it('refuses an expiry_date in epoch seconds, naming the format and the field', () => {
      const error = errorFor(fixture('gemini-cli.expiry-in-seconds.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('Gemini CLI oauth_creds.json: expiry_date');
      expect(error.message).toContain('epoch milliseconds');
    });

    it('refuses a file without access_token, naming the format and the field', () => {
      const error = errorFor(fixture('gemini-cli.no-access-token.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('Gemini CLI oauth_creds.json: access_token');
    });

    it('does not recognise a file without expiry_date, and says expiry_date is what it lacks', () => {
      const error = errorFor(fixture('gemini-cli.no-expiry-date.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('not a recognised token file');
      expect(error.message).toContain('Gemini CLI oauth_creds.json (expiry_date');
    });
  });

  describe('given a gcloud authorized_user JSON', () => {
    it('imports the refresh token and the OAuth client, with no access token', () => {
      const file = fixture('gcloud.authorized_user.json');

      expect(importFixture('gcloud.authorized_user.json')).toEqual({
        format: 'gcloud/authorized_user.json',
        provider: 'gemini-cli',
        refreshToken: file['refresh_token'],
        tokenType: 'Bearer',
        scopes: [],
        clientId: file['client_id'],
        clientSecret: file['client_secret'],
        warnings: [NO_ACCESS_TOKEN_WARNING],
      });
    });

    it('names the account when the file does', () => {
      const imported = importTokenFile({
        ...fixture('gcloud.authorized_user.json'),
        account: 'dev@example.com',
      });

      expect(imported.accountId).toBe('dev@example.com');
    });

    it('refuses a file without client_secret, naming the format and the field', () => {
      const error = errorFor(fixture('gcloud.no-client-secret.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('gcloud authorized_user JSON: client_secret');
    });
  });

  describe('given a Qwen Code oauth_creds.json', () => {
    it('recognises it by its resource_url', () => {
      const file = fixture('qwen-code.oauth_creds.json');

      expect(importFixture('qwen-code.oauth_creds.json')).toEqual({
        format: 'qwen-code/oauth_creds.json',
        provider: 'qwen-code',
        accessToken: file['access_token'],
        refreshToken: file['refresh_token'],
        tokenType: 'Bearer',
        expiresAt: ONE_AM,
        scopes: [],
        warnings: [],
      });
    });

    it('refuses an expiry_date given as text, naming the format and the field', () => {
      const error = errorFor(fixture('qwen-code.expiry-as-text.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('Qwen Code oauth_creds.json: expiry_date');
    });
  });

  describe('given a Claude Code .credentials.json', () => {
    it('imports claudeAiOauth', () => {
      const oauth = fixture('claude-code.credentials.json')['claudeAiOauth'] as Record<
        string,
        unknown
      >;

      expect(importFixture('claude-code.credentials.json')).toEqual({
        format: 'claude-code/.credentials.json',
        provider: 'anthropic',
        accessToken: oauth['accessToken'],
        refreshToken: oauth['refreshToken'],
        tokenType: 'Bearer',
        expiresAt: ONE_AM,
        scopes: ['user:inference', 'user:profile', 'user:sessions:claude_code'],
        warnings: [],
      });
    });

    it('imports it without a refresh token, warning that it cannot be refreshed', () => {
      const imported = importFixture('claude-code.no-refresh-token.json');

      expect(imported).not.toHaveProperty('refreshToken');
      expect(imported.warnings).toEqual([NO_REFRESH_TOKEN_WARNING]);
    });

    it('imports it without expiresAt, leaving the expiry unknown and saying so', () => {
      const { claudeAiOauth } = fixture('claude-code.credentials.json') as {
        claudeAiOauth: Record<string, unknown>;
      };
      const imported = importTokenFile({ claudeAiOauth: without(claudeAiOauth, 'expiresAt') });

      expect(imported).not.toHaveProperty('expiresAt');
      expect(imported.warnings).toEqual([expect.stringContaining('claudeAiOauth.expiresAt')]);
    });

    it('refuses it without accessToken, naming the format and the field', () => {
      const error = errorFor(fixture('claude-code.no-access-token.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('Claude Code .credentials.json: claudeAiOauth.accessToken');
    });

    it('refuses an expiresAt in epoch seconds, naming the field', () => {
      const error = errorFor(fixture('claude-code.expires-at-in-seconds.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('Claude Code .credentials.json: claudeAiOauth.expiresAt');
    });

    it('refuses a claudeAiOauth that is not an object', () => {
      const error = errorFor({ claudeAiOauth: null });

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('Claude Code .credentials.json: claudeAiOauth');
    });
  });

  describe('given a Codex auth.json', () => {
    it('imports the ChatGPT tokens, taking the expiry and scopes from the access token JWT', () => {
      const { tokens } = fixture('codex.auth.json') as { tokens: Record<string, unknown> };

      expect(importFixture('codex.auth.json')).toEqual({
        format: 'codex/auth.json',
        provider: 'openai-codex',
        accessToken: tokens['access_token'],
        refreshToken: tokens['refresh_token'],
        tokenType: 'Bearer',
        expiresAt: Date.parse('2026-01-11T00:00:00.000Z'),
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        accountId: 'a1b2c3d4-e5f6-4789-8abc-def012345678',
        warnings: [],
      });
    });

    it('takes the account from the id_token when tokens.account_id is missing', () => {
      const file = fixture('codex.auth.json') as { tokens: Record<string, unknown> };
      const tokens = without(file.tokens, 'account_id');

      expect(importTokenFile({ ...file, tokens }).accountId).toBe(
        'a1b2c3d4-e5f6-4789-8abc-def012345678',
      );
    });

    it('leaves the expiry unknown when the access token is not a JWT, and warns', () => {
      const imported = importFixture('codex.opaque-access-token.json');

      expect(imported).not.toHaveProperty('expiresAt');
      expect(imported.warnings).toContain(
        'no expiry: tokens.access_token is not a JWT with an exp claim, so when it expires is unknown',
      );
    });

    it('warns that an API key beside the tokens is not imported', () => {
      expect(importFixture('codex.opaque-access-token.json').warnings).toContain(
        'OPENAI_API_KEY is not imported: only the ChatGPT login tokens are',
      );
    });

    it('refuses an auth.json that holds only an API key, naming tokens', () => {
      const error = errorFor(fixture('codex.api-key-only.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('Codex auth.json: tokens: missing');
    });

    it('refuses tokens without refresh_token, naming the field', () => {
      const error = errorFor(fixture('codex.no-refresh-token.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('Codex auth.json: tokens.refresh_token');
    });
  });

  describe('given an llxprt oauth/<provider>.json', () => {
    it('imports an Anthropic token, reading expiry as epoch seconds', () => {
      const file = fixture('llxprt.anthropic.json');

      expect(importFixture('llxprt.anthropic.json')).toEqual({
        format: 'llxprt/oauth/<provider>.json',
        provider: 'anthropic',
        accessToken: file['access_token'],
        refreshToken: file['refresh_token'],
        tokenType: 'Bearer',
        expiresAt: ONE_AM,
        scopes: ['org:create_api_key', 'user:profile', 'user:inference'],
        warnings: [],
      });
    });

    it('knows Qwen by resource_url', () => {
      expect(importFixture('llxprt.qwen.json')).toMatchObject({
        provider: 'qwen-code',
        expiresAt: ONE_AM - 30_000,
      });
    });

    it('knows Codex by account_id, and names the account', () => {
      expect(importFixture('llxprt.codex.json')).toMatchObject({
        provider: 'openai-codex',
        accountId: 'a1b2c3d4-e5f6-4789-8abc-def012345678',
        expiresAt: Date.parse('2026-01-11T00:00:00.000Z'),
      });
    });

    it('knows Gemini by its Google access token', () => {
      expect(importFixture('llxprt.gemini.json')).toMatchObject({
        provider: 'gemini-cli',
        scopes: ['https://www.googleapis.com/auth/cloud-platform', 'openid'],
      });
    });

    it('leaves the provider to the importer when the file does not show it, and says so', () => {
      const imported = importFixture('llxprt.unknown-provider.json');

      expect(imported).not.toHaveProperty('provider');
      expect(imported.scopes).toEqual([]);
      expect(imported.warnings).toEqual([
        NO_REFRESH_TOKEN_WARNING,
        expect.stringContaining('provider unknown'),
      ]);
    });

    it('refuses an expiry in epoch milliseconds, naming the format and the field', () => {
      const error = errorFor(fixture('llxprt.expiry-in-ms.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('llxprt oauth/<provider>.json: expiry');
      expect(error.message).toContain('epoch seconds');
    });
  });

  describe('given a plain OAuth token JSON (access_token with expires_at or expires_in)', () => {
    it('reads a fractional expires_at as epoch seconds', () => {
      const file = fixture('seed.expires-at.json');

      expect(importFixture('seed.expires-at.json')).toEqual({
        format: 'oauth-token.json',
        accessToken: file['access_token'],
        refreshToken: file['refresh_token'],
        tokenType: 'Bearer',
        expiresAt: ONE_AM + 123,
        scopes: [],
        warnings: [],
      });
    });

    it('reads an expires_at in epoch milliseconds as such, and says so', () => {
      const imported = importTokenFile({ ...fixture('seed.expires-at.json'), expires_at: ONE_AM });

      expect(imported.expiresAt).toBe(ONE_AM);
      expect(imported.warnings).toEqual([expect.stringContaining('epoch milliseconds')]);
    });

    it('reads an ISO 8601 expires_at', () => {
      const imported = importTokenFile({
        ...fixture('seed.expires-at.json'),
        expires_at: '2026-01-01T02:00:00+01:00',
      });

      expect(imported.expiresAt).toBe(ONE_AM);
    });

    it('gives no expiry for expires_in alone, since the file has no issue time, and says so', () => {
      const imported = importFixture('seed.expires-in.json');

      expect(imported).not.toHaveProperty('expiresAt');
      expect(imported.warnings).toEqual([expect.stringContaining('expires_in')]);
    });

    it('refuses it without access_token, naming the format and the field', () => {
      const error = errorFor(fixture('seed.no-access-token.broken.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('OAuth token JSON: access_token');
    });

    it('gives the seed example inline as a JSON string', () => {
      const imported = importTokenFile(
        '{"access_token": "ya29.a0AfH6SMBxxxxx", "refresh_token": "1//0gPxxxxx", "token_type": "Bearer", "expires_at": 1645123456.1234}',
      );

      expect(imported).toMatchObject({ format: 'oauth-token.json', expiresAt: 1645123456123 });
    });
  });

  describe('given a google-auth token.json (Python Credentials.to_json)', () => {
    it('imports the token, the OAuth client and the expiry', () => {
      const file = fixture('google-auth.token.json');

      expect(importFixture('google-auth.token.json')).toEqual({
        format: 'google-auth/token.json',
        accessToken: file['token'],
        refreshToken: file['refresh_token'],
        tokenType: 'Bearer',
        expiresAt: ONE_AM + 123,
        scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
        clientId: file['client_id'],
        clientSecret: file['client_secret'],
        warnings: [],
      });
    });

    it('refuses an expiry that is not a UTC time, naming the field', () => {
      const error = errorFor({ ...fixture('google-auth.token.json'), expiry: 'tomorrow' });

      expect(error.message).toContain('google-auth token.json: expiry');
    });
  });

  describe('recognising the format by content alone', () => {
    it.each([
      ['gemini-cli.oauth_creds.json', 'gemini-cli/oauth_creds.json'],
      ['gcloud.authorized_user.json', 'gcloud/authorized_user.json'],
      ['qwen-code.oauth_creds.json', 'qwen-code/oauth_creds.json'],
      ['claude-code.credentials.json', 'claude-code/.credentials.json'],
      ['codex.auth.json', 'codex/auth.json'],
      ['llxprt.anthropic.json', 'llxprt/oauth/<provider>.json'],
      ['llxprt.qwen.json', 'llxprt/oauth/<provider>.json'],
      ['llxprt.codex.json', 'llxprt/oauth/<provider>.json'],
      ['llxprt.gemini.json', 'llxprt/oauth/<provider>.json'],
      ['seed.expires-at.json', 'oauth-token.json'],
      ['seed.expires-in.json', 'oauth-token.json'],
      ['google-auth.token.json', 'google-auth/token.json'],
    ])('reads %s as %s', (name, format) => {
      expect(importTokenFile(fixtureText(name)).format).toBe(format);
    });

    it('refuses a document matching no format, listing the formats tried', () => {
      const error = errorFor(fixture('not-a-token-file.json'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('not a recognised token file');
      for (const label of [
        'Claude Code .credentials.json',
        'Codex auth.json',
        'gcloud authorized_user JSON',
        'google-auth token.json',
        'llxprt oauth/<provider>.json',
        'Qwen Code oauth_creds.json',
        'Gemini CLI oauth_creds.json',
        'OAuth token JSON',
      ]) {
        expect(error.message).toContain(label);
      }
    });

    it('refuses text that is not valid JSON with INVALID_REQUEST', () => {
      const error = errorFor('{"access_token": "ya29.a0AfB_secretvalue');

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toBe('document: not valid JSON');
    });

    it('refuses JSON that is not an object with INVALID_REQUEST', () => {
      for (const document of ['[]', '"text"', '42', null, 42, ['a'], undefined]) {
        expect(errorFor(document).code).toBe('INVALID_REQUEST');
      }
    });
  });

  describe('keeping secrets out of what it says', () => {
    it.each(FIXTURES)('puts no token from %s in its error or warnings', (name) => {
      const secrets = secretsIn(fixture(name));
      const texts = textsOf(name);

      expect(secrets.length).toBeGreaterThan(0);
      for (const text of texts) {
        for (const secret of secrets) {
          expect(text).not.toContain(secret);
          expect(text).not.toContain(secret.slice(0, 12));
        }
      }
    });

    it('reads no clock', () => {
      const now = jest.spyOn(Date, 'now').mockImplementation(() => {
        throw new Error('the importer read the clock');
      });
      try {
        for (const name of FIXTURES) textsOf(name);
      } finally {
        now.mockRestore();
      }
    });
  });
});
