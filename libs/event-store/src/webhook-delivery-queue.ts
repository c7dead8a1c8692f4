import type { DataSource } from 'typeorm';
import type { DeliveryState, DeliveryView } from '@broker/contracts';
import type { TransactionQuery } from './types.js';

export interface NewDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly type: string;
  readonly alertId: string | null;
  readonly body: string;
  readonly traceparent: string | null;
  readonly createdAt: number;
}

export interface ClaimedDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly type: string;
  readonly body: string;
  readonly traceparent: string | null;
  readonly attempts: number;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  type: string;
  alert_id: string | null;
  body: string;
  traceparent: string | null;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  dead_reason: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

const toView = (row: DeliveryRow): DeliveryView => ({
  id: row.id,
  webhookId: row.webhook_id,
  type: row.type,
  alertId: row.alert_id,
  state: row.state,
  attempts: row.attempts,
  nextAttemptAt: row.state === 'pending' ? iso(row.next_attempt_at) : null,
  lastStatus: row.last_status,
  lastError: row.last_error,
  deadReason: row.dead_reason,
  createdAt: row.created_at.toISOString(),
  deliveredAt: iso(row.delivered_at),
});

/** Inserts deliveries inside an append's transaction; a delivery already queued is left as it is. */
export const enqueueDeliveries = async (
  query: TransactionQuery,
  deliveries: readonly NewDelivery[],
): Promise<void> => {
  if (deliveries.length === 0) return;
  await query(
    `INSERT INTO webhook_deliveries (id, webhook_id, type, alert_id, body, traceparent, next_attempt_at, created_at)
     SELECT d.id, d.webhook_id, d.type, d.alert_id, d.body, d.traceparent, d.created_at, d.created_at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[])
       AS d(id, webhook_id, type, alert_id, body, traceparent, created_at)
     ON CONFLICT DO NOTHING`,
    [
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.webhookId),
      deliveries.map((d) => d.type),
      deliveries.map((d) => d.alertId),
      deliveries.map((d) => d.body),
      deliveries.map((d) => d.traceparent),
      deliveries.map((d) => new Date(d.createdAt)),
    ],
  );
};

/**
 * The webhook delivery queue in Postgres. Schedule times (`next_attempt_at`)
 * follow the service's clock; claims expire by the database's clock, because
 * they only guard against a worker that died mid-attempt.
 */
export class WebhookDeliveryQueue {
  constructor(private readonly db: DataSource) {}

  async enqueue(delivery: NewDelivery): Promise<void> {
    await enqueueDeliveries((sql, parameters) => this.db.query(sql, parameters), [delivery]);
  }

  /** Takes up to `limit` due deliveries for this worker for `claimMs`; others skip them meanwhile. */
  async claimDue(
    now: number,
    worker: string,
    claimMs: number,
    limit: number,
  ): Promise<ClaimedDelivery[]> {
    const rows = await this.db.query<DeliveryRow[]>(
      `WITH claimed AS (UPDATE webhook_deliveries SET locked_until = now() + make_interval(secs => $3::double precision / 1000), locked_by = $2
       WHERE id IN (
         SELECT id FROM webhook_deliveries
         WHERE state = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until < now())
         ORDER BY next_attempt_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
       RETURNING *) SELECT * FROM claimed`,
      [new Date(now), worker, claimMs, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      webhookId: r.webhook_id,
      type: r.type,
      body: r.body,
      traceparent: r.traceparent,
      attempts: r.attempts,
    }));
  }

  /** Claims one delivery now, whatever its schedule, for `webhooks.test`. */
  async claim(id: string, worker: string, claimMs: number): Promise<ClaimedDelivery | null> {
    const [row] = await this.db.query<DeliveryRow[]>(
      `WITH claimed AS (UPDATE webhook_deliveries SET locked_until = now() + make_interval(secs => $3::double precision / 1000), locked_by = $2
       WHERE id = $1 AND state = 'pending' AND (locked_until IS NULL OR locked_until < now())
       RETURNING *) SELECT * FROM claimed`,
      [id, worker, claimMs],
    );
    return row === undefined
      ? null
      : {
          id: row.id,
          webhookId: row.webhook_id,
          type: row.type,
          body: row.body,
          traceparent: row.traceparent,
          attempts: row.attempts,
        };
  }

  async delivered(id: string, worker: string, status: number, at: number): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = $3,
         last_error = NULL, delivered_at = $4, next_attempt_at = NULL, locked_until = NULL, locked_by = NULL
       WHERE id = $1 AND locked_by = $2`,
      [id, worker, status, new Date(at)],
    );
  }

  async retryAt(
    id: string,
    worker: string,
    status: number | null,
    error: string,
    at: number,
  ): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $3, last_error = $4,
         next_attempt_at = $5, locked_until = NULL, locked_by = NULL
       WHERE id = $1 AND locked_by = $2`,
      [id, worker, status, error, new Date(at)],
    );
  }

  async dead(
    id: string,
    worker: string,
    status: number | null,
    error: string,
    reason: string,
  ): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET state = 'dead', attempts = attempts + 1, last_status = $3, last_error = $4,
         dead_reason = $5, next_attempt_at = NULL, locked_until = NULL, locked_by = NULL
       WHERE id = $1 AND locked_by = $2`,
      [id, worker, status, error, reason],
    );
  }

  /** Gives claims back, e.g. on a graceful stop, so that another worker need not wait them out. */
  async release(worker: string): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET locked_until = NULL, locked_by = NULL WHERE locked_by = $1 AND state = 'pending'`,
      [worker],
    );
  }

  async get(id: string): Promise<DeliveryView | null> {
    const [row] = await this.db.query<DeliveryRow[]>(
      `SELECT * FROM webhook_deliveries WHERE id = $1`,
      [id],
    );
    return row === undefined ? null : toView(row);
  }

  async list(filter: {
    webhookId?: string;
    state?: DeliveryState;
    limit?: number;
  }): Promise<DeliveryView[]> {
    const rows = await this.db.query<DeliveryRow[]>(
      `SELECT * FROM webhook_deliveries
       WHERE ($1::text IS NULL OR webhook_id = $1) AND ($2::text IS NULL OR state = $2)
       ORDER BY created_at DESC, id LIMIT $3`,
      [filter.webhookId ?? null, filter.state ?? null, filter.limit ?? 100],
    );
    return rows.map(toView);
  }

  /** Puts dead deliveries back in the queue with their `webhook-id`, due now, with a fresh schedule. */
  async redeliver(
    target: { deliveryId: string } | { allDead: true; webhookId?: string },
    now: number,
  ): Promise<DeliveryView[]> {
    const rows =
      'deliveryId' in target
        ? await this.db.query<DeliveryRow[]>(
            `WITH again AS (UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2,
               dead_reason = NULL, delivered_at = NULL, locked_until = NULL, locked_by = NULL
             WHERE id = $1 RETURNING *) SELECT * FROM again`,
            [target.deliveryId, new Date(now)],
          )
        : await this.db.query<DeliveryRow[]>(
            `WITH again AS (UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2,
               dead_reason = NULL, locked_until = NULL, locked_by = NULL
             WHERE state = 'dead' AND ($1::text IS NULL OR webhook_id = $1) RETURNING *)
             SELECT * FROM again ORDER BY created_at`,
            [target.webhookId ?? null, new Date(now)],
          );
    return rows.map(toView);
  }

  async countByState(): Promise<Record<DeliveryState, number>> {
    const rows = await this.db.query<{ state: DeliveryState; n: string }[]>(
      `SELECT state, count(*) AS n FROM webhook_deliveries GROUP BY state`,
    );
    const counts: Record<DeliveryState, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const row of rows) counts[row.state] = Number(row.n);
    return counts;
  }
}
