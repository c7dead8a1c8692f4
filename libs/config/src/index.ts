export * from './broker-config.js';
export * from './runtime-config.js';
export * from './pool-policy.js';
