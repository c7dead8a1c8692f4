/**
 * Refresh strategies: the pool's `refreshStrategy` configuration turned into one
 * normalized shape that `dueTime` reads. Pure code: no clock, no randomness, no I/O.
 *
 * The config input is declared structurally here (it mirrors `PoolConfig['refreshStrategy']`
 * of `@broker/config`) because a domain library may not import an infrastructure one.
 */

export const REFRESH_STRATEGY_NAMES = [
  'default',
  'conservative',
  'adaptive',
  'lifetime-fraction',
] as const;
export type RefreshStrategyName = (typeof REFRESH_STRATEGY_NAMES)[number];

/** The object form of `refreshStrategy`: every field optional. */
export interface RefreshStrategyObject {
  readonly bufferSeconds?: number;
  readonly minBufferSeconds?: number;
  readonly maxBufferSeconds?: number;
  readonly preemptive?: boolean;
  readonly highTrafficPerHour?: number;
  readonly lifetimeFraction?: number;
  readonly jitterSeconds?: number;
}

/** What a pool's configuration may say: a preset's name or a custom object. */
export type RefreshStrategyConfig = RefreshStrategyName | RefreshStrategyObject;

export type RefreshStrategyKind = RefreshStrategyName | 'custom';

/** A strategy with every value decided. Durations in seconds. */
export interface RefreshStrategy {
  readonly kind: RefreshStrategyKind;
  /** How long before expiry to refresh, before adaptation. */
  readonly bufferSeconds: number;
  /** Bounds of the effective buffer after adaptation and the high-traffic doubling. */
  readonly minBufferSeconds: number;
  readonly maxBufferSeconds: number;
  /** The buffer grows with refresh latency, request rate and error rate. */
  readonly adaptive: boolean;
  /** Credentials above `highTrafficPerHour` requests per hour refresh with twice the buffer. */
  readonly preemptive: boolean;
  readonly highTrafficPerHour: number;
  /** Present: refresh at this fraction of the token's lifetime instead of a buffer before expiry. */
  readonly lifetimeFraction?: number;
  /** Due times are moved earlier (never later) by up to this much. */
  readonly jitterSeconds: number;
}

export const DEFAULT_BUFFER_SECONDS = 5 * 60;
export const CONSERVATIVE_BUFFER_SECONDS = 15 * 60;
export const ADAPTIVE_MIN_BUFFER_SECONDS = 2 * 60;
export const ADAPTIVE_MAX_BUFFER_SECONDS = 30 * 60;
export const DEFAULT_HIGH_TRAFFIC_PER_HOUR = 100;
export const DEFAULT_LIFETIME_FRACTION = 0.8;
/**
 * Default jitter: 10 % of the base buffer (30 s for `default`, `adaptive` and
 * `lifetime-fraction`, 90 s for `conservative`). Enough to spread a batch of tokens
 * issued together over many scheduler ticks, while taking at most a tenth off the
 * safety margin; jitter only ever moves a refresh earlier.
 */
export const DEFAULT_JITTER_FRACTION = 0.1;

const defaultJitter = (bufferSeconds: number): number =>
  Math.round(bufferSeconds * DEFAULT_JITTER_FRACTION);

const fixed = (kind: RefreshStrategyKind, bufferSeconds: number): RefreshStrategy => ({
  kind,
  bufferSeconds,
  minBufferSeconds: bufferSeconds,
  maxBufferSeconds: bufferSeconds,
  adaptive: false,
  preemptive: false,
  highTrafficPerHour: DEFAULT_HIGH_TRAFFIC_PER_HOUR,
  jitterSeconds: defaultJitter(bufferSeconds),
});

export const PRESET_STRATEGIES: Readonly<Record<RefreshStrategyName, RefreshStrategy>> = {
  default: fixed('default', DEFAULT_BUFFER_SECONDS),
  conservative: fixed('conservative', CONSERVATIVE_BUFFER_SECONDS),
  adaptive: {
    kind: 'adaptive',
    bufferSeconds: DEFAULT_BUFFER_SECONDS,
    minBufferSeconds: ADAPTIVE_MIN_BUFFER_SECONDS,
    maxBufferSeconds: ADAPTIVE_MAX_BUFFER_SECONDS,
    adaptive: true,
    preemptive: true,
    highTrafficPerHour: DEFAULT_HIGH_TRAFFIC_PER_HOUR,
    jitterSeconds: defaultJitter(DEFAULT_BUFFER_SECONDS),
  },
  'lifetime-fraction': {
    ...fixed('lifetime-fraction', DEFAULT_BUFFER_SECONDS),
    lifetimeFraction: DEFAULT_LIFETIME_FRACTION,
  },
};

const nonNegative = (field: string, value: number | undefined): void => {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`refreshStrategy.${field} must be a non-negative number, got ${value}`);
  }
};

/**
 * A custom object starts from the preset it resembles and overrides what it names:
 * - `lifetimeFraction` set: refresh at that fraction of the token's lifetime;
 * - `minBufferSeconds` or `maxBufferSeconds` set: an adaptive buffer within those bounds
 *   (the other bound defaults to 2 or 30 min, widened to include `bufferSeconds`), and
 *   preemptive doubling unless `preemptive: false`;
 * - otherwise a fixed `bufferSeconds` (5 min by default); `preemptive: true` lets it
 *   double for high traffic (the maximum then defaults to twice the buffer).
 */
const resolveObject = (o: RefreshStrategyObject): RefreshStrategy => {
  for (const field of [
    'bufferSeconds',
    'minBufferSeconds',
    'maxBufferSeconds',
    'jitterSeconds',
  ] as const) {
    nonNegative(field, o[field]);
  }
  if (o.highTrafficPerHour !== undefined && !(o.highTrafficPerHour > 0)) {
    throw new RangeError(
      `refreshStrategy.highTrafficPerHour must be positive, got ${o.highTrafficPerHour}`,
    );
  }
  if (o.lifetimeFraction !== undefined && !(o.lifetimeFraction > 0 && o.lifetimeFraction < 1)) {
    throw new RangeError(
      `refreshStrategy.lifetimeFraction must be between 0 and 1 (exclusive), got ${o.lifetimeFraction}`,
    );
  }
  const adaptive = o.minBufferSeconds !== undefined || o.maxBufferSeconds !== undefined;
  const bufferSeconds = o.bufferSeconds ?? DEFAULT_BUFFER_SECONDS;
  const preemptive = o.preemptive ?? adaptive;
  const minBufferSeconds =
    o.minBufferSeconds ??
    (adaptive ? Math.min(ADAPTIVE_MIN_BUFFER_SECONDS, bufferSeconds) : bufferSeconds);
  const maxBufferSeconds =
    o.maxBufferSeconds ??
    (adaptive
      ? Math.max(ADAPTIVE_MAX_BUFFER_SECONDS, bufferSeconds)
      : preemptive
        ? 2 * bufferSeconds
        : bufferSeconds);
  if (minBufferSeconds > maxBufferSeconds) {
    throw new RangeError(
      `refreshStrategy.minBufferSeconds (${minBufferSeconds}) is above maxBufferSeconds (${maxBufferSeconds})`,
    );
  }
  return {
    kind: 'custom',
    bufferSeconds,
    minBufferSeconds,
    maxBufferSeconds,
    adaptive,
    preemptive,
    highTrafficPerHour: o.highTrafficPerHour ?? DEFAULT_HIGH_TRAFFIC_PER_HOUR,
    ...(o.lifetimeFraction !== undefined ? { lifetimeFraction: o.lifetimeFraction } : {}),
    jitterSeconds: o.jitterSeconds ?? defaultJitter(bufferSeconds),
  };
};

/**
 * The strategy a pool's configuration names; no configuration means `default`.
 * Throws a `RangeError` naming the field for values the config schema lets through
 * but that make no sense together (a minimum above the maximum, say).
 */
export const resolveStrategy = (config: RefreshStrategyConfig | undefined): RefreshStrategy => {
  if (config === undefined) return PRESET_STRATEGIES.default;
  if (typeof config === 'string') {
    if (!Object.hasOwn(PRESET_STRATEGIES, config)) {
      throw new RangeError(
        `unknown refreshStrategy '${String(config)}'; expected one of ${REFRESH_STRATEGY_NAMES.join(', ')} or an object`,
      );
    }
    return PRESET_STRATEGIES[config];
  }
  return resolveObject(config);
};
