import type { TransactionQuery } from './types.js';

/** Another replica holds the credential's refresh lock. */
export class RefreshLockHeldError extends Error {
  override readonly name = 'RefreshLockHeldError';

  constructor(
    readonly credentialId: string,
    readonly holder: string,
    readonly expiresAt: Date,
  ) {
    super(
      `credential '${credentialId}' is being refreshed by ${holder} until ${expiresAt.toISOString()}`,
    );
  }
}

/** The lock this refresh held was taken over (it outlived its life); its result must not be stored. */
export class RefreshLockLostError extends Error {
  override readonly name = 'RefreshLockLostError';

  constructor(
    readonly credentialId: string,
    readonly refreshId: string,
  ) {
    super(`refresh ${refreshId} of credential '${credentialId}' no longer holds the refresh lock`);
  }
}

/**
 * At most one refresh per credential across replicas. Both halves run inside an
 * event append's transaction: the lock is taken with the `refresh started` event
 * and released with the outcome, so the lock and the log never disagree.
 */
export const RefreshLocks = {
  acquire:
    (credentialId: string, refreshId: string, holder: string, ttlMs: number) =>
    async (query: TransactionQuery): Promise<void> => {
      const taken = (await query(
        `INSERT INTO refresh_locks (credential_id, refresh_id, holder, expires_at)
         VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
         ON CONFLICT (credential_id) DO UPDATE
           SET refresh_id = EXCLUDED.refresh_id, holder = EXCLUDED.holder,
               acquired_at = now(), expires_at = EXCLUDED.expires_at
           WHERE refresh_locks.expires_at < now()
         RETURNING refresh_id`,
        [credentialId, refreshId, holder, ttlMs],
      )) as { refresh_id: string }[];
      if (taken.length === 1) return;
      const [held] = (await query(
        `SELECT holder, expires_at FROM refresh_locks WHERE credential_id = $1`,
        [credentialId],
      )) as { holder: string; expires_at: Date }[];
      throw new RefreshLockHeldError(
        credentialId,
        held?.holder ?? 'another replica',
        held?.expires_at ?? new Date(),
      );
    },

  release:
    (credentialId: string, refreshId: string) =>
    async (query: TransactionQuery): Promise<void> => {
      const released = await query(
        `DELETE FROM refresh_locks WHERE credential_id = $1 AND refresh_id = $2 RETURNING refresh_id`,
        [credentialId, refreshId],
      );
      if (released.length !== 1) throw new RefreshLockLostError(credentialId, refreshId);
    },
};

export const describeLock = async (
  query: TransactionQuery,
  credentialId: string,
): Promise<{ holder: string; expiresAt: Date; expired: boolean } | undefined> => {
  const [row] = (await query(
    `SELECT holder, expires_at, expires_at < now() AS expired FROM refresh_locks WHERE credential_id = $1`,
    [credentialId],
  )) as { holder: string; expires_at: Date; expired: boolean }[];
  return row === undefined
    ? undefined
    : { holder: row.holder, expiresAt: row.expires_at, expired: row.expired };
};
