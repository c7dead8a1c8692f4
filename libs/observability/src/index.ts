export * from './logger.js';
export * from './nest-logger.js';
export * from './ops-server.js';
export * from './readiness.js';
export * from './metrics/broker-metrics.js';
export * from './tracing/context-manager.js';
export * from './tracing/start-tracing.js';
export * from './tracing/trace-context.js';
