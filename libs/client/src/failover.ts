import type { ReportRequest } from '@broker/contracts';
import { BrokerClientError, FailoverExhaustedError, type FailedAttempt } from './errors.js';
import { describeCallError, errorCodeOf, retryAfterOf, statusOf } from './provider-error.js';

/** A report without its lease id: what the client sends after a call. */
export type CallOutcome = Omit<ReportRequest, 'leaseId'>;

/** HTTP statuses after which the next account is tried, as the desktop clients and proxies do. */
export const DEFAULT_FAILOVER_STATUSES: readonly number[] = [429, 402, 401];
export const DEFAULT_MAX_ATTEMPTS = 3;

export interface FailoverPolicy {
  /** Calls at most, each on its own account. */
  readonly maxAttempts: number;
  readonly failoverStatuses: ReadonlySet<number>;
}

export interface FailoverLease {
  readonly leaseId: string;
  readonly credentialId: string;
  readonly accessToken: string;
}

/** The I/O of one `withToken`, injected so that the loop itself is pure. */
export interface FailoverSteps<L extends FailoverLease, T> {
  /** A lease on any account but the excluded ones. */
  lease(exclude: ReadonlySet<string>): Promise<L>;
  /** Must not throw: a report that cannot be sent is the client's to warn about. */
  report(lease: L, outcome: CallOutcome): Promise<void>;
  call(lease: L): Promise<T>;
  now(): number;
}

export const checkPolicy = (policy: FailoverPolicy): FailoverPolicy => {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1)
    throw new RangeError(`maxAttempts must be an integer of at least 1, got ${policy.maxAttempts}`);
  return policy;
};

/** How a call that threw went, for the report. */
export const failureOutcome = (error: unknown, latencyMs: number): CallOutcome => {
  const status = statusOf(error);
  const retryAfterMs = retryAfterOf(error);
  const errorCode = errorCodeOf(error);
  return {
    outcome: 'failure',
    latencyMs,
    ...(status === undefined ? {} : { status }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(errorCode === undefined ? {} : { errorCode }),
  };
};

/**
 * Lease, call, report. A call that fails with a failover status is reported (the
 * broker cools the account down, or marks it for refresh on 401) and the next
 * account is leased, excluding those already tried, up to `maxAttempts` calls.
 * Any other failure is reported and rethrown as it is.
 */
export const runWithFailover = async <L extends FailoverLease, T>(
  target: { readonly provider: string; readonly pool: string },
  steps: FailoverSteps<L, T>,
  policy: FailoverPolicy,
  exclude: ReadonlySet<string> = new Set(),
): Promise<T> => {
  checkPolicy(policy);
  const tried = new Set(exclude);
  const attempts: FailedAttempt[] = [];
  while (attempts.length < policy.maxAttempts) {
    let lease: L;
    try {
      lease = await steps.lease(tried);
    } catch (error) {
      if (attempts.length > 0 && error instanceof BrokerClientError)
        throw new FailoverExhaustedError(target.provider, target.pool, attempts, error);
      throw error;
    }
    const started = steps.now();
    let result: T;
    try {
      result = await steps.call(lease);
    } catch (error) {
      const outcome = failureOutcome(error, Math.max(0, steps.now() - started));
      await steps.report(lease, outcome);
      if (outcome.status === undefined || !policy.failoverStatuses.has(outcome.status)) throw error;
      attempts.push({
        attempt: attempts.length + 1,
        leaseId: lease.leaseId,
        credentialId: lease.credentialId,
        status: outcome.status,
        ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
        error: describeCallError(error, lease.accessToken),
      });
      tried.add(lease.credentialId);
      continue;
    }
    await steps.report(lease, {
      outcome: 'success',
      latencyMs: Math.max(0, steps.now() - started),
    });
    return result;
  }
  throw new FailoverExhaustedError(target.provider, target.pool, attempts);
};
