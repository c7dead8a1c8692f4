import type { SelectionPolicy } from '@broker/contracts';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '@broker/domain';
import type { BrokerConfigFile } from './broker-config.js';

export interface PoolPolicy {
  readonly selection: SelectionPolicy;
  readonly health: HealthPolicy;
}

/** The selection and health rules of one pool: its config entry over the defaults. */
export const poolPolicy = (file: BrokerConfigFile, provider: string, pool: string): PoolPolicy => {
  const entry = file.pools?.[`${provider}/${pool}`];
  return {
    selection: entry?.selection ?? 'round-robin',
    health: { ...DEFAULT_HEALTH_POLICY, ...entry?.health },
  };
};
