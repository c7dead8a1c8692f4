export * from './shutdown.js';
export * from './microservice.js';
