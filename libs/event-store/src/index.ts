export * from './database.js';
export * from './errors.js';
export * from './event-store.js';
export * from './hash-chain.js';
export * from './lease-audit.js';
export * from './log-follower.js';
export * from './types.js';
export * from './verify-chain.js';
export { migrations } from './migrations/index.js';
