export * from './key-ring.js';
export * from './load-key-ring.js';
