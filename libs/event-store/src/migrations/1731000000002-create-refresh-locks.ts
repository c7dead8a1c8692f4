import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per credential being refreshed, across all replicas. A lock past its
 * `expires_at` may be taken over: its holder died or stalled.
 */
export class CreateRefreshLocks1731000000002 implements MigrationInterface {
  name = 'CreateRefreshLocks1731000000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE refresh_locks (
        credential_id text PRIMARY KEY,
        refresh_id uuid NOT NULL,
        holder text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE refresh_locks`);
  }
}
