import type { ErrorCode } from '@broker/contracts';

/** Every code a client error can carry: the broker's closed set plus what can go wrong on the way. */
export type ClientErrorCode =
  ErrorCode | 'TIMEOUT' | 'NO_RESPONDERS' | 'BAD_REPLY' | 'TRANSPORT' | 'FAILOVER_EXHAUSTED';

/** Base of every error the client throws. Messages never contain a token. */
export class BrokerClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The broker answered `{"ok": false, "error": {...}}`; `code` is one of the contract's codes. */
export class BrokerReplyError extends BrokerClientError {
  declare readonly code: ErrorCode;
}

export class InvalidRequestError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('INVALID_REQUEST', message, retryAfterMs);
  }
}
export class UnknownProviderError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('UNKNOWN_PROVIDER', message, retryAfterMs);
  }
}
export class UnknownCredentialError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('UNKNOWN_CREDENTIAL', message, retryAfterMs);
  }
}
export class CredentialExistsError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('CREDENTIAL_EXISTS', message, retryAfterMs);
  }
}
export class UnknownWebhookError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('UNKNOWN_WEBHOOK', message, retryAfterMs);
  }
}
export class UnknownDeliveryError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('UNKNOWN_DELIVERY', message, retryAfterMs);
  }
}
export class NoCredentialsError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('NO_CREDENTIALS', message, retryAfterMs);
  }
}
export class AllCredentialsUnavailableError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('ALL_CREDENTIALS_UNAVAILABLE', message, retryAfterMs);
  }
}
export class UnknownLeaseError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('UNKNOWN_LEASE', message, retryAfterMs);
  }
}
export class RefreshFailedError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('REFRESH_FAILED', message, retryAfterMs);
  }
}
export class ReauthRequiredError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('REAUTH_REQUIRED', message, retryAfterMs);
  }
}
export class UnauthorizedError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('UNAUTHORIZED', message, retryAfterMs);
  }
}
export class InternalBrokerError extends BrokerReplyError {
  constructor(message: string, retryAfterMs?: number) {
    super('INTERNAL', message, retryAfterMs);
  }
}

/** One class per contract code; the mapped type makes a new code a compile error until it has one. */
const replyErrors: {
  readonly [C in ErrorCode]: new (message: string, retryAfterMs?: number) => BrokerReplyError;
} = {
  INVALID_REQUEST: InvalidRequestError,
  UNKNOWN_PROVIDER: UnknownProviderError,
  UNKNOWN_CREDENTIAL: UnknownCredentialError,
  CREDENTIAL_EXISTS: CredentialExistsError,
  UNKNOWN_WEBHOOK: UnknownWebhookError,
  UNKNOWN_DELIVERY: UnknownDeliveryError,
  NO_CREDENTIALS: NoCredentialsError,
  ALL_CREDENTIALS_UNAVAILABLE: AllCredentialsUnavailableError,
  UNKNOWN_LEASE: UnknownLeaseError,
  REFRESH_FAILED: RefreshFailedError,
  REAUTH_REQUIRED: ReauthRequiredError,
  UNAUTHORIZED: UnauthorizedError,
  INTERNAL: InternalBrokerError,
};

/** The typed error for an error reply of the broker. */
export const replyError = (code: ErrorCode, message: string, retryAfterMs?: number) =>
  new replyErrors[code](message, retryAfterMs);

/** No reply within the request timeout. */
export class BrokerTimeoutError extends BrokerClientError {
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super('TIMEOUT', `no reply on '${subject}' within ${timeoutMs} ms`);
  }
}

/** Nothing listens on the subject: no token service runs for this subject root. */
export class BrokerNoRespondersError extends BrokerClientError {
  constructor(readonly subject: string) {
    super('NO_RESPONDERS', `no token service is listening on '${subject}'`);
  }
}

/** The reply was not JSON or does not match the contract. */
export class BadReplyError extends BrokerClientError {
  constructor(subject: string, problem: string) {
    super('BAD_REPLY', `the reply on '${subject}' does not match the contract: ${problem}`);
  }
}

/** Any other failure of the NATS connection (closed, draining, ...). */
export class BrokerTransportError extends BrokerClientError {
  constructor(message: string, cause?: unknown) {
    super('TRANSPORT', message, undefined, cause === undefined ? undefined : { cause });
  }
}

/** What one attempt of `withToken` did: which account, and how the provider answered. */
export interface FailedAttempt {
  readonly attempt: number;
  readonly leaseId: string;
  readonly credentialId: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  /** The call's error, name and message, with the token cut out. */
  readonly error: string;
}

/**
 * `withToken` gave up: every attempt failed over (429/402/401), or the broker had no
 * further account to offer (`cause` is then the broker's error, e.g. ALL_CREDENTIALS_UNAVAILABLE).
 */
export class FailoverExhaustedError extends BrokerClientError {
  constructor(
    readonly provider: string,
    readonly pool: string,
    readonly attempts: readonly FailedAttempt[],
    leaseError?: BrokerClientError,
  ) {
    const tried = attempts.map((a) => `${a.credentialId} ${a.status ?? 'error'}`).join(', ');
    const end = leaseError === undefined ? '' : `; then ${leaseError.code}: ${leaseError.message}`;
    super(
      'FAILOVER_EXHAUSTED',
      `${provider}/${pool}: ${attempts.length} attempt${attempts.length === 1 ? '' : 's'} failed (${tried})${end}`,
      leaseError?.retryAfterMs,
      leaseError === undefined ? undefined : { cause: leaseError },
    );
  }
}
