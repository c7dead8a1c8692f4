/** Injection tokens: the shared ones, and what only the token service holds. */
export {
  CLOCK,
  CONFIG,
  DATA_SOURCE,
  LOGGER,
  METRICS,
  NATS,
  systemClock,
  type Clock,
} from '@broker/service-shell';
export const KEY_RING = Symbol('KeyRing');
export const PROVIDERS = Symbol('ProviderRegistry');
