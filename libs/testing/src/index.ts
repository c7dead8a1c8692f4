export * from './infrastructure.js';
export * from './test-database.js';
export * from './free-port.js';
export * from './private-postgres.js';
export * from './service-process.js';
export * from './broker-harness.js';
export * from './mock-oauth-server.js';
export * from './private-nats.js';
