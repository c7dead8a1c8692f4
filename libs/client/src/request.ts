import type { Context } from '@opentelemetry/api';
import { ErrorCode as NatsErrorCode, NatsError, type NatsConnection } from 'nats';
import { describeIssues, ErrorReplySchema } from '@broker/contracts';
import type { z } from 'zod';
import {
  BadReplyError,
  BrokerNoRespondersError,
  BrokerTimeoutError,
  BrokerTransportError,
  replyError,
  UnauthorizedError,
  type BrokerClientError,
} from './errors.js';
import { traceHeaders } from './tracing.js';

/** The part of a NATS connection the client uses. */
export type NatsRequester = Pick<NatsConnection, 'request'>;

const transportError = (subject: string, timeoutMs: number, error: unknown): BrokerClientError => {
  if (error instanceof NatsError) {
    const code: string = error.code;
    if (code === String(NatsErrorCode.Timeout)) return new BrokerTimeoutError(subject, timeoutMs);
    if (code === String(NatsErrorCode.NoResponders)) return new BrokerNoRespondersError(subject);
    if (error.isPermissionError())
      return new UnauthorizedError(`this NATS user may not publish to '${subject}'`);
    return new BrokerTransportError(
      `request on '${subject}' failed: ${error.code} ${error.message}`,
      error,
    );
  }
  const problem = error instanceof Error ? error.message : String(error);
  return new BrokerTransportError(`request on '${subject}' failed: ${problem}`, error);
};

/**
 * One request-reply with the trace context in the headers. The reply is checked
 * against `schema` on success and against the error contract otherwise; a broker
 * error becomes its typed error.
 */
export const requestReply = async <S extends z.ZodType>(
  nats: NatsRequester,
  subject: string,
  body: unknown,
  schema: S,
  options: { readonly timeoutMs: number; readonly trace: Context },
): Promise<z.infer<S>> => {
  const headers = traceHeaders(options.trace);
  let data: Uint8Array;
  try {
    const reply = await nats.request(subject, JSON.stringify(body), {
      timeout: options.timeoutMs,
      ...(headers === undefined ? {} : { headers }),
    });
    data = reply.data;
  } catch (error) {
    throw transportError(subject, options.timeoutMs, error);
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new BadReplyError(subject, 'not JSON');
  }
  if (typeof decoded === 'object' && decoded !== null && 'ok' in decoded && decoded.ok === false) {
    const failed = ErrorReplySchema.safeParse(decoded);
    if (!failed.success) throw new BadReplyError(subject, describeIssues(failed.error));
    const { code, message, retryAfterMs } = failed.data.error;
    throw replyError(code, message, retryAfterMs);
  }
  const parsed = schema.safeParse(decoded);
  if (!parsed.success) throw new BadReplyError(subject, describeIssues(parsed.error));
  return parsed.data;
};
