import type { SelectionPolicy } from '@broker/contracts';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '@broker/domain';
import type { BrokerConfigFile } from './broker-config.js';

export interface PoolPolicy {
  readonly selection: SelectionPolicy;
  readonly health: HealthPolicy;
}

const resolved = new WeakMap<BrokerConfigFile, Map<string, PoolPolicy>>();

/**
 * The selection and health rules of one pool: its config entry over the defaults.
 * Worked out once per pool (the file does not change while a service runs),
 * because every lease asks.
 */
export const poolPolicy = (file: BrokerConfigFile, provider: string, pool: string): PoolPolicy => {
  const key = `${provider}/${pool}`;
  let byPool = resolved.get(file);
  if (byPool === undefined) {
    byPool = new Map();
    resolved.set(file, byPool);
  }
  let policy = byPool.get(key);
  if (policy === undefined) {
    const entry = file.pools?.[key];
    policy = {
      selection: entry?.selection ?? 'round-robin',
      health: { ...DEFAULT_HEALTH_POLICY, ...entry?.health },
    };
    byPool.set(key, policy);
  }
  return policy;
};
