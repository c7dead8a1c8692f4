import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { AsyncLocalContextManager } from './context-manager.js';
import { tracesRequested } from './start-tracing.js';
import {
  contextFromFields,
  contextFromHeaders,
  traceMetadata,
  withSpan,
  withTraceFrom,
} from './trace-context.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context helpers', () => {
  const exporter = new InMemorySpanExporter();
  const manager = new AsyncLocalContextManager();

  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });

  afterAll(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });

  beforeEach(() => exporter.reset());

  it('gives no trace fields outside a trace, and none from headers without traceparent', () => {
    expect(traceMetadata()).toEqual({});
    expect(contextFromHeaders({ get: () => undefined })).toBeUndefined();
    expect(contextFromFields({ traceparent: 'garbage' })).toBeUndefined();
    expect(contextFromFields(null)).toBeUndefined();
  });

  it('continues a trace from headers: the span is a child, and what it stores names that span', async () => {
    const headers = new Map([['traceparent', PARENT]]);
    const stored = await withSpan(
      'handle',
      { parent: contextFromHeaders({ get: (k: string) => headers.get(k) }) },
      // across an await, as handlers do
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        return traceMetadata();
      },
    );
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(stored.traceparent).toBe(
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${span?.spanContext().spanId}-01`,
    );
  });

  it('withTraceFrom runs without a span when the fields carry no trace, and marks a failure', async () => {
    expect(
      await withTraceFrom({ actor: 'x' }, 'relay', {}, (span: unknown) => span),
    ).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(0);

    await expect(
      withTraceFrom({ traceparent: PARENT }, 'deliver', {}, () => {
        throw new Error('receiver down');
      }),
    ).rejects.toThrow('receiver down');
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('deliver');
    expect(span?.status).toEqual({ code: 2, message: 'receiver down' });
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });
});

describe('tracesRequested', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }, false],
  ])('%j -> %s', (env, expected) => {
    expect(tracesRequested(env as NodeJS.ProcessEnv)).toBe(expected);
  });
});
