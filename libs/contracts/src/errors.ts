import { z } from 'zod';

/** The closed set of error codes a reply can carry. Clients switch on these. */
export const ErrorCodeSchema = z.enum([
  'INVALID_REQUEST',
  'UNKNOWN_PROVIDER',
  'UNKNOWN_CREDENTIAL',
  'CREDENTIAL_EXISTS',
  'NO_CREDENTIALS',
  'ALL_CREDENTIALS_UNAVAILABLE',
  'UNKNOWN_LEASE',
  'UNKNOWN_WEBHOOK',
  'UNKNOWN_DELIVERY',
  'REFRESH_FAILED',
  'REAUTH_REQUIRED',
  'UNAUTHORIZED',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ErrorBodySchema = z.strictObject({
  code: ErrorCodeSchema,
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const ErrorReplySchema = z.strictObject({ ok: z.literal(false), error: ErrorBodySchema });
export type ErrorReply = z.infer<typeof ErrorReplySchema>;

/** An error meant for the caller: its code and message go on the wire as they are. */
export class BrokerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'BrokerError';
  }

  toReply(): ErrorReply {
    const error: ErrorBody = { code: this.code, message: this.message };
    if (this.retryAfterMs !== undefined) error.retryAfterMs = this.retryAfterMs;
    return { ok: false, error };
  }
}

export const errorReply = (code: ErrorCode, message: string, retryAfterMs?: number): ErrorReply =>
  new BrokerError(code, message, retryAfterMs).toReply();
