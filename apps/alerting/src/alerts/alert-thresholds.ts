import type { BrokerConfigFile } from '@broker/config';
import { DEFAULT_ALERT_THRESHOLDS, type AlertThresholds, type RulePolicy } from '@broker/domain';

/** The `alerting` section of the config file over the defaults. */
export const alertThresholds = (file: BrokerConfigFile): AlertThresholds => {
  const a = file.alerting ?? {};
  return {
    failureRateThreshold: a.failureRateThreshold ?? DEFAULT_ALERT_THRESHOLDS.failureRateThreshold,
    minRequests: a.minRequests ?? DEFAULT_ALERT_THRESHOLDS.minRequests,
    windowSeconds: a.windowSeconds ?? DEFAULT_ALERT_THRESHOLDS.windowSeconds,
    expiryWarningSeconds: a.expiryWarningSeconds ?? DEFAULT_ALERT_THRESHOLDS.expiryWarningSeconds,
    refreshFailuresToAlert:
      a.refreshFailuresToAlert ?? DEFAULT_ALERT_THRESHOLDS.refreshFailuresToAlert,
  };
};

/** What the rules read of the pools' settings: whether rotated credentials are decommissioned (the default). */
export const rulePolicy = (file: BrokerConfigFile): RulePolicy => ({
  autoDecommissions: (provider, pool) =>
    file.pools?.[`${provider}/${pool}`]?.rotation?.autoDecommission ?? true,
});
