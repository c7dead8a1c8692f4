/** Injection tokens for what the composition root builds before Nest starts. */
export const CONFIG = Symbol('RuntimeConfig');
export const LOGGER = Symbol('Logger');
export const CLOCK = Symbol('Clock');
export const KEY_RING = Symbol('KeyRing');
export const DATA_SOURCE = Symbol('DataSource');
export const NATS = Symbol('NatsConnection');
export const PROVIDERS = Symbol('ProviderRegistry');

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
