import {
  describeCallError,
  parseRetryAfter,
  ProviderHttpError,
  statusOf,
} from './provider-error.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const response = (status: number, retryAfter: string | null) => ({
  status,
  headers: { get: (name: string) => (name === 'retry-after' ? retryAfter : null) },
});

describe('provider errors', () => {
  it('reads Retry-After in seconds or as an HTTP date, and ignores what it cannot read', () => {
    expect(parseRetryAfter('30', NOW)).toBe(30_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });

  it('builds a ProviderHttpError from a response', () => {
    const error = ProviderHttpError.fromResponse(response(429, '12'), NOW);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 12_000 });
    expect(error.message).toBe('the provider answered 429');
    expect(ProviderHttpError.fromResponse(response(401, null)).retryAfterMs).toBeUndefined();
  });

  it('finds the status where the common HTTP clients put it', () => {
    expect(statusOf(new ProviderHttpError(402))).toBe(402);
    expect(statusOf({ statusCode: 429 })).toBe(429);
    expect(statusOf({ response: { status: 401 } })).toBe(401);
    expect(statusOf({ status: '429' })).toBeUndefined();
    expect(statusOf({ status: 42 })).toBeUndefined();
    expect(statusOf(new Error('no status'))).toBeUndefined();
    expect(statusOf(undefined)).toBeUndefined();
  });

  it('cuts the token out of a call error', () => {
    expect(describeCallError(new TypeError('bad url ?key=tok123&x=tok123'), 'tok123')).toBe(
      'TypeError: bad url ?key=[token]&x=[token]',
    );
    expect(describeCallError('tok123 thrown', 'tok123')).toBe('non-error thrown: [token] thrown');
  });
});
