import {
  context,
  propagation,
  trace,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Span,
  type SpanKind,
  type TextMapSetter,
} from '@opentelemetry/api';
import { headers, type MsgHdrs } from 'nats';
import { BrokerClientError } from './errors.js';

export const TRACER_NAME = '@broker/client';

const natsHeaderSetter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/**
 * W3C `traceparent`/`tracestate` of `ctx` as NATS headers, or undefined when there is
 * nothing to send (no OpenTelemetry SDK registered, or no span in `ctx`).
 */
export const traceHeaders = (ctx: Context): MsgHdrs | undefined => {
  const carrier = headers();
  propagation.inject(ctx, carrier, natsHeaderSetter);
  return carrier.keys().length > 0 ? carrier : undefined;
};

/** What a failed span says: the code and message of our errors (never a token), else only the name. */
const statusMessage = (error: unknown): string =>
  error instanceof BrokerClientError
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.name
      : 'error';

/**
 * Runs `fn` in a span of `@broker/client`, child of `parent`. `fn` gets the span's
 * context explicitly, so that headers and child spans carry it even when no context
 * manager is registered.
 */
export const inSpan = async <T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  parent: Context,
  fn: (span: Span, ctx: Context) => Promise<T>,
): Promise<T> => {
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  try {
    return await context.with(ctx, () => fn(span, ctx));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: statusMessage(error) });
    if (error instanceof BrokerClientError) span.setAttribute('broker.error_code', error.code);
    throw error;
  } finally {
    span.end();
  }
};
