/** The parts of a fetch `Response` (or any HTTP response) this module reads. */
export interface HttpResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
}

/**
 * What the function given to `withToken` throws when the provider answered with an
 * HTTP error, so that the client can report it and fail over on 429, 402 and 401.
 * Any error with a numeric `status`, `statusCode` or `response.status` (gaxios,
 * axios, @google/genai's ApiError...) is understood too, as gemini-cli does.
 */
export class ProviderHttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs?: number,
    message = `the provider answered ${status}`,
  ) {
    super(message);
    this.name = 'ProviderHttpError';
  }

  /** From a response: its status, and `Retry-After` (seconds or an HTTP date) when present. */
  static fromResponse(response: HttpResponseLike, now: number = Date.now()): ProviderHttpError {
    return new ProviderHttpError(
      response.status,
      parseRetryAfter(response.headers.get('retry-after'), now),
    );
  }
}

/** `Retry-After` as milliseconds from `now`, or undefined when absent or unreadable. */
export const parseRetryAfter = (value: string | null, now: number): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

const isHttpStatus = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599;

const field = (value: unknown, name: string): unknown =>
  typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;

/** The HTTP status an error carries, if any. */
export const statusOf = (error: unknown): number | undefined => {
  for (const candidate of [
    field(error, 'status'),
    field(error, 'statusCode'),
    field(field(error, 'response'), 'status'),
  ]) {
    if (isHttpStatus(candidate)) return candidate;
  }
  return undefined;
};

/** A `retryAfterMs` the error carries, if any. */
export const retryAfterOf = (error: unknown): number | undefined => {
  const value = field(error, 'retryAfterMs');
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
};

/** A string `code` such as ECONNRESET, for the report's `errorCode`. */
export const errorCodeOf = (error: unknown): string | undefined => {
  const code = field(error, 'code');
  return typeof code === 'string' && code.length > 0 && code.length <= 200 ? code : undefined;
};

/** The error's name and message with every occurrence of the token replaced. */
export const describeCallError = (error: unknown, token: string): string => {
  const text =
    error instanceof Error
      ? `${error.name}: ${error.message}`
      : `non-error thrown: ${String(error)}`;
  return token.length === 0 ? text : text.split(token).join('[token]');
};
