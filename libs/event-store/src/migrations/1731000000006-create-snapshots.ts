import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Folded state at a checkpoint of the log, so that a service starts from the
 * newest snapshot and folds only the tail. One row per name and schema version:
 * replicas of different versions never overwrite each other's snapshots.
 */
export class CreateSnapshots1731000000006 implements MigrationInterface {
  name = 'CreateSnapshots1731000000006';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE snapshots (
        name text NOT NULL,
        schema_version integer NOT NULL,
        transaction_id xid8 NOT NULL,
        global_position bigint NOT NULL,
        state text NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now(),
        taken_by text NOT NULL,
        PRIMARY KEY (name, schema_version)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE snapshots`);
  }
}
