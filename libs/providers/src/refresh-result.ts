/** What one refresh request came to, classified for the broker's decisions. */
export type RefreshResult =
  | {
      readonly ok: true;
      readonly accessToken: string;
      /** Present only when the provider sent one (rotation, or a re-issue). */
      readonly refreshToken?: string;
      readonly tokenType: string;
      readonly expiresInSeconds?: number;
      readonly scopes?: string[];
    }
  | {
      readonly ok: false;
      /** permanent: the grant is dead (re-authorise); transient: try again later. */
      readonly kind: 'permanent' | 'transient';
      /** OAuth error code, or `network`, `timeout`, `http_<status>`, `invalid_response`. */
      readonly error: string;
      readonly description?: string;
      readonly status?: number;
      readonly retryAfterMs?: number;
    };

/** RFC 6749 / provider error codes after which the same refresh token will never work. */
export const PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  'invalid_grant',
  'refresh_token_reused',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
]);

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export const parseRetryAfter = (header: string | null, now: number): number | undefined => {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/**
 * Whether an error answer means the grant is dead. Besides RFC 6749's codes:
 * Qwen says `invalid_request` about a refresh token it no longer knows.
 */
export const isPermanent = (error: string, description?: string): boolean =>
  PERMANENT_ERRORS.has(error) ||
  (error === 'invalid_request' && /refresh[ _]token/i.test(description ?? ''));

/**
 * The error code of a token endpoint's JSON error body: RFC 6749's `{"error": "..."}`
 * or OpenAI's `{"error": {"code": "...", "message": "..."}}`.
 */
export const oauthErrorOf = (
  body: unknown,
): { error: string; description?: string } | undefined => {
  if (typeof body !== 'object' || body === null) return undefined;
  const { error, error_description: description } = body as {
    error?: unknown;
    error_description?: unknown;
  };
  if (typeof error === 'string') {
    return { error, ...(typeof description === 'string' ? { description } : {}) };
  }
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string')
      return { error: code, ...(typeof message === 'string' ? { description: message } : {}) };
  }
  return undefined;
};
