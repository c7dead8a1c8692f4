import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The webhook delivery queue. Rows are inserted in the transaction that appends
 * the alert event (nothing is lost between the two) and worked off by the
 * alerting service; `id` is the `webhook-id` every attempt carries.
 */
export class CreateWebhookDeliveries1731000000005 implements MigrationInterface {
  name = 'CreateWebhookDeliveries1731000000005';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE webhook_deliveries (
        id text PRIMARY KEY,
        webhook_id text NOT NULL,
        type text NOT NULL,
        alert_id uuid,
        body text NOT NULL,
        traceparent text,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        locked_until timestamptz,
        locked_by text,
        last_status int,
        last_error text,
        dead_reason text,
        created_at timestamptz NOT NULL,
        delivered_at timestamptz,
        UNIQUE (webhook_id, alert_id, type)
      )`);
    await db.query(
      `CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending'`,
    );
    await db.query(
      `CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE webhook_deliveries`);
  }
}
