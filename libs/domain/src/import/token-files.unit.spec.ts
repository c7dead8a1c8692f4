import { brokerErrorFrom } from '../testing/fixtures.js';
import { importTokenFile } from './token-files.js';

/** `~/.gemini/oauth_creds.json` as Gemini CLI writes it (values made up, shapes real). */
const geminiCreds = {
  access_token:
    'ya29.a0AfB_byDxq3Xh1kQ9mZpR7tVwYc2nLsE4uG8oJ6iHbKfN0aT5dWrM1yPeCvZ-Sx_QlUjOgIBnA0171',
  refresh_token:
    '1//0gLx7Qe2Ht9KcCgYIARAAGBASNwF-L9IrWm3yZs4Nb8TpVd1oXfA6uJhGq5RkEcPnYt0MiSzOwLvBaD2',
  scope:
    'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile openid',
  token_type: 'Bearer',
  id_token:
    'eyJhbGciOiJSUzI1NiIsImtpZCI6IjFmNDAwZTZmIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2FjY291bnRzLmdvb2dsZS5jb20ifQ.c2lnbmF0dXJl',
  expiry_date: 1767229200000,
};

/** The Gemini file with one field left out. */
const geminiCredsWithout = (field: keyof typeof geminiCreds): Record<string, unknown> =>
  Object.fromEntries(Object.entries(geminiCreds).filter(([key]) => key !== field));

const expectedGemini = {
  format: 'gemini-cli/oauth_creds.json',
  provider: 'gemini-cli',
  accessToken: geminiCreds.access_token,
  refreshToken: geminiCreds.refresh_token,
  tokenType: 'Bearer',
  expiresAt: 1767229200000,
  scopes: [
    'https://www.googleapis.com/auth/cloud-platform',
    'https://www.googleapis.com/auth/userinfo.email',
    'https://www.googleapis.com/auth/userinfo.profile',
    'openid',
  ],
};

describe('importTokenFile', () => {
  describe('given a Gemini CLI oauth_creds.json', () => {
    it('imports the file given as a JSON object', () => {
      expect(importTokenFile(geminiCreds)).toEqual(expectedGemini);
    });

    it('imports the same file given as its text', () => {
      expect(importTokenFile(JSON.stringify(geminiCreds, null, 2))).toEqual(expectedGemini);
    });

    it('splits the scope string on any whitespace and drops empty pieces', () => {
      const imported = importTokenFile({ ...geminiCreds, scope: '  openid\temail \n profile  ' });

      expect(imported.scopes).toEqual(['openid', 'email', 'profile']);
    });

    it('gives no scopes when the file has none', () => {
      expect(importTokenFile(geminiCredsWithout('scope')).scopes).toEqual([]);
    });

    it('assumes a Bearer token and no refresh token when the file says neither', () => {
      const imported = importTokenFile({
        access_token: geminiCreds.access_token,
        expiry_date: geminiCreds.expiry_date,
      });

      expect(imported.tokenType).toBe('Bearer');
      expect(imported).not.toHaveProperty('refreshToken');
    });
  });

  describe('given a Qwen Code oauth_creds.json', () => {
    it('recognises it by its resource_url', () => {
      const imported = importTokenFile({
        access_token: 'qwen-access-token-value',
        refresh_token: 'qwen-refresh-token-value',
        token_type: 'Bearer',
        resource_url: 'portal.qwen.ai',
        expiry_date: 1767229200000,
      });

      expect(imported).toMatchObject({
        format: 'qwen-code/oauth_creds.json',
        provider: 'qwen-code',
        accessToken: 'qwen-access-token-value',
        refreshToken: 'qwen-refresh-token-value',
      });
    });
  });

  describe('given something that is not a token file', () => {
    it('refuses a file without expiry_date with INVALID_REQUEST naming the field', () => {
      const error = brokerErrorFrom(() => importTokenFile(geminiCredsWithout('expiry_date')));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('expiry_date');
    });

    it('refuses an expiry_date that is not epoch milliseconds, naming the field', () => {
      const error = brokerErrorFrom(() =>
        importTokenFile({ ...geminiCreds, expiry_date: '2026-01-01T01:00:00Z' }),
      );

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('expiry_date');
    });

    it('refuses a file without access_token, naming the field', () => {
      const error = brokerErrorFrom(() => importTokenFile(geminiCredsWithout('access_token')));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('access_token');
    });

    it('refuses text that is not valid JSON with INVALID_REQUEST', () => {
      const error = brokerErrorFrom(() => importTokenFile('{"access_token": "ya29.'));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('JSON');
    });

    it('refuses JSON that is not an object with INVALID_REQUEST', () => {
      expect(brokerErrorFrom(() => importTokenFile('[]')).code).toBe('INVALID_REQUEST');
      expect(brokerErrorFrom(() => importTokenFile(null)).code).toBe('INVALID_REQUEST');
      expect(brokerErrorFrom(() => importTokenFile(42)).code).toBe('INVALID_REQUEST');
    });
  });
});
