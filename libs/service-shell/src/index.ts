export * from './shutdown.js';
export * from './microservice.js';
export * from './tokens.js';
export * from './controlled-clock.js';
export * from './readiness.js';
export * from './startup.js';
export * from './clock-correction.js';
export * from './database-clock.js';
