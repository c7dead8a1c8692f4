export * from './strategy.js';
export * from './usage-signals.js';
export * from './due-time.js';
export * from './concurrency-cap.js';
export * from './format.js';
