export * from './provider-definition.js';
export * from './builtin-providers.js';
export * from './provider-registry.js';
export * from './refresh-result.js';
export * from './oauth-client.js';
