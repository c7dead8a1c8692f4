/** Injection tokens for what a service's composition root builds before Nest starts. */
export const CONFIG = Symbol('RuntimeConfig');
export const LOGGER = Symbol('Logger');
export const CLOCK = Symbol('Clock');
export const DATA_SOURCE = Symbol('DataSource');
export const NATS = Symbol('NatsConnection');
/** The service's prom-client registry, served on its ops port. */
export const METRICS = Symbol('MetricsRegistry');

export interface Clock {
  now(): number;
  /**
   * Test clocks only: how far the test has moved time for every service (not this
   * process's own skew), so that times read from the database can be moved alike.
   */
  sharedShiftMs?(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
