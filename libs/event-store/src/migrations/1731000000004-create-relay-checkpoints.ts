import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Where the JetStream relay stands in the log, in commit order. */
export class CreateRelayCheckpoints1731000000004 implements MigrationInterface {
  name = 'CreateRelayCheckpoints1731000000004';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE relay_checkpoints (
        name text PRIMARY KEY,
        transaction_id xid8 NOT NULL,
        global_position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE relay_checkpoints`);
  }
}
