import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The append-only event log: the source of truth, with a per-stream hash chain. */
export class CreateEvents1731000000000 implements MigrationInterface {
  name = 'CreateEvents1731000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        recorded_at timestamptz NOT NULL,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        hash text NOT NULL,
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    await db.query(`CREATE INDEX events_commit_order ON events (transaction_id, global_position)`);
    await db.query(`
      CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION events_refuse_change()`);
    await db.query(`
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE events`);
    await db.query(`DROP FUNCTION events_refuse_change()`);
  }
}
