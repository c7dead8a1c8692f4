import type { BrokerConfigFile } from '@broker/config';
import { DEFAULT_ALERT_THRESHOLDS, type AlertThresholds } from '@broker/domain';

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
