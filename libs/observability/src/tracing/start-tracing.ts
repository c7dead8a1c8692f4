import { context, propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { AsyncLocalContextManager } from './context-manager.js';

export interface Tracing {
  /** True when spans are exported (an OTLP endpoint or `OTEL_TRACES_EXPORTER` is set). */
  readonly exporting: boolean;
  /** Exports what is still buffered; part of the service's stop. */
  shutdown(): Promise<void>;
}

/** Loads a package the way the calling app resolves it: `createRequire(import.meta.url)`. */
export type PackageLoader = (id: string) => unknown;

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

/**
 * Whether the standard `OTEL_*` variables ask for exported traces: an exporter
 * named in `OTEL_TRACES_EXPORTER` (other than `none`) or an OTLP endpoint, and
 * the SDK not disabled. Unset, the services stay quiet.
 */
export const tracesRequested = (env: NodeJS.ProcessEnv): boolean => {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporters = list(env['OTEL_TRACES_EXPORTER']);
  if (exporters.includes('none')) return false;
  return (
    exporters.length > 0 ||
    (env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? '') !== '' ||
    (env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? '') !== ''
  );
};

const QUIET: Tracing = { exporting: false, shutdown: () => Promise.resolve() };

/**
 * Starts tracing for a service; call it before anything else is imported (the
 * app's `instrument.ts`, imported first by its main). With exported traces it runs
 * `@opentelemetry/sdk-node` configured by the `OTEL_*` variables, with the `pg` and
 * `undici` (fetch) instrumentations and no metrics or logs exporters. Without, it only
 * keeps W3C trace context flowing (a context manager and the propagator), so that a
 * trace a client started still reaches the events, commands and audit rows, and the
 * SDK is not even loaded.
 */
export const startTracing = (
  service: string,
  load: PackageLoader,
  env: NodeJS.ProcessEnv = process.env,
): Tracing => {
  if (!tracesRequested(env)) {
    context.setGlobalContextManager(new AsyncLocalContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    return QUIET;
  }
  const sdkNode = load('@opentelemetry/sdk-node') as { NodeSDK: typeof NodeSDK };
  const pg = load('@opentelemetry/instrumentation-pg') as {
    PgInstrumentation: typeof PgInstrumentation;
  };
  const undici = load('@opentelemetry/instrumentation-undici') as {
    UndiciInstrumentation: typeof UndiciInstrumentation;
  };
  const named =
    (env['OTEL_SERVICE_NAME'] ?? '') !== '' ||
    /(^|,)\s*service\.name=/.test(env['OTEL_RESOURCE_ATTRIBUTES'] ?? '');
  const sdk = new sdkNode.NodeSDK({
    ...(named ? {} : { serviceName: service }),
    instrumentations: [
      // Statements only inside a trace (the log followers poll all the time), never parameter values.
      new pg.PgInstrumentation({
        requireParentSpan: true,
        enhancedDatabaseReporting: false,
        ignoreConnectSpans: true,
      }),
      // Provider token calls and webhook deliveries; no headers are recorded.
      new undici.UndiciInstrumentation({ requireParentforSpans: true }),
    ],
    // Traces only: metrics are Prometheus on the ops port, logs are pino on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { exporting: true, shutdown: () => sdk.shutdown() };
};
