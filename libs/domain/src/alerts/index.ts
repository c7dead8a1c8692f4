export * from './thresholds.js';
export * from './alert-facts.js';
export * from './rules.js';
export * from './alert-book.js';
export * from './webhook-registry.js';
export * from './webhook-payload.js';
export * from './delivery-policy.js';
