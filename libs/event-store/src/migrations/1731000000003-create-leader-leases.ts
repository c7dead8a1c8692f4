import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Leases for roles that must run in one place at a time (the active scheduler). */
export class CreateLeaderLeases1731000000003 implements MigrationInterface {
  name = 'CreateLeaderLeases1731000000003';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE leader_leases (
        name text PRIMARY KEY,
        holder text NOT NULL,
        term bigint NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE leader_leases`);
  }
}
