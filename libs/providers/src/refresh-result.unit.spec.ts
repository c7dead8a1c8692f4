import { isPermanent, oauthErrorOf, parseRetryAfter } from './refresh-result.js';

describe('refresh result classification', () => {
  it('reads RFC 6749 error bodies and OpenAI’s nested ones', () => {
    expect(oauthErrorOf({ error: 'invalid_grant', error_description: 'expired' })).toEqual({
      error: 'invalid_grant',
      description: 'expired',
    });
    expect(
      oauthErrorOf({ error: { code: 'refresh_token_reused', message: 'already used' } }),
    ).toEqual({
      error: 'refresh_token_reused',
      description: 'already used',
    });
    expect(oauthErrorOf('<html>')).toBeUndefined();
    expect(oauthErrorOf({ message: 'no code' })).toBeUndefined();
  });

  it('treats dead-grant codes as permanent and everything else as transient', () => {
    for (const code of [
      'invalid_grant',
      'refresh_token_reused',
      'invalid_client',
      'unauthorized_client',
    ]) {
      expect(isPermanent(code)).toBe(true);
    }
    expect(isPermanent('temporarily_unavailable')).toBe(false);
    expect(isPermanent('invalid_request', 'Invalid refresh token or client_id')).toBe(true);
    expect(isPermanent('invalid_request', 'missing grant_type')).toBe(false);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
