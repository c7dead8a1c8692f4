export {
  CLOCK,
  CONFIG,
  DATA_SOURCE,
  LOGGER,
  METRICS,
  NATS,
  type Clock,
} from '@broker/service-shell';
export const KEY_RING = Symbol('KEY_RING');
