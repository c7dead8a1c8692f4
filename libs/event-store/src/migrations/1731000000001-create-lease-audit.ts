import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One row per lease handed out, written in group-committed batches before the reply. */
export class CreateLeaseAudit1731000000001 implements MigrationInterface {
  name = 'CreateLeaseAudit1731000000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE lease_audit (
        lease_id uuid PRIMARY KEY,
        leased_at timestamptz NOT NULL DEFAULT now(),
        client text NOT NULL,
        provider text NOT NULL,
        pool text NOT NULL,
        credential_id text NOT NULL,
        expires_at timestamptz NOT NULL,
        model text,
        selection jsonb NOT NULL,
        trace_id text,
        replica text NOT NULL
      )`);
    await db.query(
      `CREATE INDEX lease_audit_by_credential ON lease_audit (credential_id, leased_at)`,
    );
    await db.query(`CREATE INDEX lease_audit_by_client ON lease_audit (client, leased_at)`);
    await db.query(`CREATE INDEX lease_audit_by_time ON lease_audit (leased_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE lease_audit`);
  }
}
