import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

export { SpanKind, type Attributes, type Context, type Span };

/** W3C trace context as plain fields: what event metadata, commands and webhook rows carry. */
export interface TraceFields {
  traceparent?: string;
  tracestate?: string;
}

/** Span attribute names of the broker's own (never a token or secret among their values). */
export const SpanAttributes = {
  provider: 'broker.provider',
  pool: 'broker.pool',
  client: 'broker.client',
  credentialId: 'broker.credential_id',
  leaseId: 'broker.lease_id',
  commandId: 'broker.command_id',
  outcome: 'broker.outcome',
  reason: 'broker.reason',
  eventType: 'broker.event_type',
  streamId: 'broker.stream_id',
} as const;

const tracer = () => trace.getTracer('oauth-token-broker');

/** Headers as nats.js (`MsgHdrs`) and node:http carry them. */
export interface HeaderReader {
  get(name: string): string | string[] | undefined | null;
}
export interface HeaderWriter {
  set(name: string, value: string): void;
}

const readHeader = (headers: HeaderReader, name: string): string | undefined => {
  const value = headers.get(name);
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === null || first === '' ? undefined : first;
};

/** The trace context in a carrier, or undefined when it holds no valid one. */
const extracted = (read: (name: string) => string | undefined): Context | undefined => {
  if (read('traceparent') === undefined) return undefined;
  const found = propagation.extract(ROOT_CONTEXT, null, {
    keys: () => ['traceparent', 'tracestate'],
    get: (_carrier, key) => read(key),
  });
  return trace.getSpanContext(found) === undefined ? undefined : found;
};

/** The context a message's `traceparent`/`tracestate` headers name, if any. */
export const contextFromHeaders = (headers: HeaderReader | undefined): Context | undefined =>
  headers === undefined ? undefined : extracted((name) => readHeader(headers, name));

/** The context stored in event metadata, a command body or a delivery row, if any. */
export const contextFromFields = (
  fields: Readonly<Record<string, unknown>> | undefined | null,
): Context | undefined => {
  if (fields === undefined || fields === null) return undefined;
  return extracted((name) => {
    const value = fields[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  });
};

/**
 * The active trace as fields to store with what this work produces (event
 * metadata, a command, a delivery row); `{}` outside any trace.
 */
export const traceMetadata = (from: Context = context.active()): TraceFields => {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return {
    ...(carrier['traceparent'] === undefined ? {} : { traceparent: carrier['traceparent'] }),
    ...(carrier['tracestate'] === undefined ? {} : { tracestate: carrier['tracestate'] }),
  };
};

/** Writes the active trace into outgoing headers (NATS or HTTP). */
export const injectTraceHeaders = (headers: HeaderWriter, from: Context = context.active()): void =>
  propagation.inject(from, headers, { set: (carrier, key, value) => carrier.set(key, value) });

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** The parent; default the active context. */
  readonly parent?: Context;
}

/**
 * Runs `work` in a new active span, which ends when the work settles; a throw
 * marks it as an error (the message only: messages here never carry secrets).
 */
export const withSpan = <T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => T | Promise<T>,
): Promise<T> => {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
    },
    parent,
  );
  // Without an SDK and without a trace to continue the span is a placeholder with no
  // context to carry: making it active would only cost AsyncLocalStorage hooks per promise.
  if (!trace.isSpanContextValid(span.spanContext())) return runSpanless(span, work);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      span.end();
    }
  });
};

const runSpanless = async <T>(span: Span, work: (span: Span) => T | Promise<T>): Promise<T> => {
  try {
    return await work(span);
  } finally {
    span.end();
  }
};

/**
 * Continues the trace stored in `fields` (event metadata, a command, a delivery
 * row) with a span around `work`. With no trace stored, `work` runs without a
 * span: consumers continue traces, they do not start one per message.
 */
export const withTraceFrom = <T>(
  fields: Readonly<Record<string, unknown>> | undefined | null,
  name: string,
  options: Omit<SpanOptions, 'parent'>,
  work: (span: Span | undefined) => T | Promise<T>,
): Promise<T> => {
  const parent = contextFromFields(fields);
  if (parent === undefined) return (async () => work(undefined))();
  return withSpan(name, { ...options, parent }, work);
};

/** The trace id of the work in progress, or null outside any trace (for audit rows and logs). */
export const activeTraceId = (): string | null => {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext !== undefined && trace.isSpanContextValid(spanContext)
    ? spanContext.traceId
    : null;
};

/** Names and annotates the span the current work runs in (a handler refining its transport's span). */
export const annotateActiveSpan = (attributes: Attributes, name?: string): void => {
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  if (name !== undefined) span.updateName(name);
  span.setAttributes(attributes);
};

/** Marks a span (default the active one) as failed, with a message that names no secret. */
export const markSpanFailed = (message: string, span = trace.getActiveSpan()): void => {
  span?.setStatus({ code: SpanStatusCode.ERROR, message });
};
