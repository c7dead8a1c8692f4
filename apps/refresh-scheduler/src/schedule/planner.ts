import { createHash } from 'node:crypto';
import type { RefreshCommand, ScheduleEntry } from '@broker/contracts';
import type { BrokerConfigFile } from '@broker/config';
import type { CredentialState } from '@broker/domain';
import { rotationDueAt } from '@broker/domain';
import { dueInputOf, dueTime, resolveStrategy, usageSignals, type Due } from '@broker/scheduling';

export const DEFAULT_MAX_CONCURRENT_REFRESHES = 10;

export interface Planned {
  readonly credential: CredentialState;
  readonly due: Due | null;
  /** When the pool's rotation interval runs out for this credential, if the pool rotates. */
  readonly rotationDueAt: number | null;
}

/** A stable number in [0, 1) per credential and refresh: its jitter, the same on every tick and replica. */
export const jitterUnitOf = (credentialId: string, refreshCount: number): number =>
  createHash('sha256').update(`${credentialId}:${refreshCount}`).digest().readUInt32BE(0) / 2 ** 32;

/** When each credential is due, by its pool's strategy. */
export const plan = (credential: CredentialState, file: BrokerConfigFile, now: number): Planned => {
  const pool = file.pools?.[`${credential.provider}/${credential.pool}`];
  const strategy = resolveStrategy(pool?.refreshStrategy);
  const signals = usageSignals({
    totals: credential.usage,
    windowMs: Math.max(now - credential.addedAt, 60_000),
    refreshLatenciesMs: credential.refresh.recentDurationsMs,
  });
  const interval = pool?.rotation?.intervalDays;
  const rotationDue =
    interval === undefined || credential.status !== 'active'
      ? null
      : rotationDueAt(credential, interval);
  const due = dueTime(
    dueInputOf(credential),
    strategy,
    signals,
    now,
    jitterUnitOf(credential.id, credential.refreshCount),
  );
  return { credential, due, rotationDueAt: rotationDue };
};

/** The cap on refreshes in flight per provider: the smallest any of its pools asks for. */
export const maxConcurrentFor =
  (file: BrokerConfigFile) =>
  (provider: string): number => {
    const caps = Object.entries(file.pools ?? {})
      .filter(([key]) => key.startsWith(`${provider}/`))
      .map(([, pool]) => pool.maxConcurrentRefreshes)
      .filter((cap): cap is number => cap !== undefined);
    return caps.length === 0 ? DEFAULT_MAX_CONCURRENT_REFRESHES : Math.min(...caps);
  };

const REASONS = {
  strategy: 'scheduled',
  'keep-alive': 'idle-keepalive',
  backoff: 'retry',
} as const;

export const commandFor = (
  planned: Planned & { due: Due },
  issuedBy: string,
  commandId: string,
  now: number,
): RefreshCommand => ({
  commandId,
  credentialId: planned.credential.id,
  reason: REASONS[planned.due.trigger],
  knownRefreshCount: planned.credential.refreshCount,
  dueAt: new Date(planned.due.at).toISOString(),
  issuedAt: new Date(now).toISOString(),
  issuedBy,
});

/**
 * The JetStream message id of a command: the same for every scheduler that
 * would send it for this refresh attempt, so a second leader's copy is dropped.
 */
export const commandKey = (credential: CredentialState): string =>
  `${credential.id}:${credential.refreshCount}:${credential.refresh.consecutiveFailures}`;

export const scheduleEntry = ({
  credential,
  due,
  rotationDueAt: rotation,
}: Planned): ScheduleEntry => ({
  credentialId: credential.id,
  provider: credential.provider,
  pool: credential.pool,
  strategy: due?.strategy ?? 'none',
  nextRefreshAt: due === null ? null : new Date(due.at).toISOString(),
  reason:
    due !== null
      ? due.reason
      : credential.refresh.inFlight !== null
        ? 'refreshing now'
        : credential.status !== 'active'
          ? `not refreshed: ${credential.status}`
          : 'not refreshed: no refresh token',
  refreshing: credential.refresh.inFlight !== null,
  lastRefreshAt:
    credential.lastRefreshAt === null ? null : new Date(credential.lastRefreshAt).toISOString(),
  rotationDueAt: rotation === null ? null : new Date(rotation).toISOString(),
});
