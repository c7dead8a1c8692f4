export * from './broker-client.module.js';
