export * from './nats-json.context.js';
export * from './nats-json.transport.js';
export * from './connect.js';
export * from './pass-through.filter.js';
export * from './jetstream.js';
export * from './jetstream-event-feed.js';
export * from './relayed-event.js';
export * from './set-aside.js';
