/** What the rules compare against; the `alerting` section of the config file overrides each. */
export interface AlertThresholds {
  /** Failure rate over the window above which a credential is failing (0.25 = 25 %). */
  readonly failureRateThreshold: number;
  /** Requests in the window below which the failure rate is not judged. */
  readonly minRequests: number;
  readonly windowSeconds: number;
  /** A token or credential ending within this, with no refresh in sight, is warned about. */
  readonly expiryWarningSeconds: number;
  /** Transient refresh failures in a row before they are an incident; a permanent one is at once. */
  readonly refreshFailuresToAlert: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  failureRateThreshold: 0.25,
  minRequests: 20,
  windowSeconds: 300,
  expiryWarningSeconds: 86_400,
  refreshFailuresToAlert: 3,
};
