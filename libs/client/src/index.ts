export * from './errors.js';
export * from './provider-error.js';
export * from './lease.js';
export * from './lease-cache.js';
export * from './failover.js';
export { traceHeaders, TRACER_NAME } from './tracing.js';
export * from './broker-client.js';
