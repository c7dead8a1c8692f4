import pg from 'pg';
import type { DataSource } from 'typeorm';

export interface LeaseAuditRow {
  readonly leaseId: string;
  readonly client: string;
  readonly provider: string;
  readonly pool: string;
  readonly credentialId: string;
  readonly expiresAt: Date;
  readonly model: string | null;
  readonly selection: unknown;
  readonly traceId: string | null;
  readonly replica: string;
}

export interface AuditedLease extends LeaseAuditRow {
  readonly leasedAt: Date;
}

interface Pending {
  readonly row: LeaseAuditRow;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** SQLSTATE class 22: the data of some row was refused, not the connection or the table. */
const isDataError = (error: unknown): boolean =>
  typeof (error as { code?: unknown })?.code === 'string' &&
  (error as { code: string }).code.startsWith('22');

/** What the writer needs of a connection: TypeORM's DataSource and pg's Pool both fit. */
export interface SqlRunner {
  query(text: string, values?: unknown[]): Promise<unknown>;
  /** Present on a pool of the writer's own, which `close` ends. */
  end?(): Promise<void>;
}

/**
 * A connection pool of the audit writer's own, opened with the DataSource's URL
 * and timeouts: audit commits never queue behind the log follower or the relay
 * for a pooled connection, and skip TypeORM's per-query wrapping. pg replaces a
 * connection that broke (a Postgres restart) on the next flush.
 */
export const auditPool = (db: DataSource, onError: (error: Error) => void): pg.Pool => {
  const options = db.options as { url?: string; extra?: Record<string, unknown> };
  const pool = new pg.Pool({ ...options.extra, connectionString: options.url, max: 1 });
  pool.on('error', onError); // an idle connection that died: logged, replaced on the next flush
  return pool;
};

/** One group commit's statement, its rows as one JSON parameter (cheaper to encode than ten arrays); the capacity probe times it too. */
export const insertLeaseAuditRows = async (
  db: Pick<SqlRunner, 'query'>,
  rows: readonly LeaseAuditRow[],
): Promise<void> => {
  const records = rows.map((row) => ({
    lease_id: row.leaseId,
    client: row.client,
    provider: row.provider,
    pool: row.pool,
    credential_id: row.credentialId,
    expires_at: row.expiresAt,
    model: row.model,
    selection: row.selection,
    trace_id: row.traceId,
    replica: row.replica,
  }));
  await db.query(
    `INSERT INTO lease_audit (lease_id, client, provider, pool, credential_id, expires_at, model, selection, trace_id, replica)
     SELECT lease_id, client, provider, pool, credential_id, expires_at, model, selection, trace_id, replica
     FROM jsonb_to_recordset($1::jsonb) AS r(lease_id uuid, client text, provider text, pool text, credential_id text,
                                              expires_at timestamptz, model text, selection jsonb, trace_id text, replica text)`,
    [JSON.stringify(records)],
  );
};

/**
 * Writes lease audit rows in group commits: a flush starts as soon as a row waits
 * and none is running, and takes every row that queued up meanwhile. Each caller
 * learns when its own row is durable, so a lease is never replied unaudited.
 */
export class LeaseAuditWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: SqlRunner,
    private readonly maxBatch = 2000,
  ) {}

  write(row: LeaseAuditRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Ends a pool of the writer's own; call it once nothing can lease any more. */
  async close(): Promise<void> {
    await this.db.end?.();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch =
          this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
        this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
        await this.commit(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commit(batch: readonly Pending[]): Promise<void> {
    try {
      await this.insert(batch);
      for (const p of batch) p.resolve();
    } catch (error) {
      if (batch.length > 1 && isDataError(error)) {
        // One row Postgres refuses must not refuse the other clients' leases in its batch.
        for (const p of batch) await this.commit([p]);
      } else for (const p of batch) p.reject(error);
    }
  }

  private insert(batch: readonly Pending[]): Promise<void> {
    return insertLeaseAuditRows(
      this.db,
      batch.map((p) => p.row),
    );
  }
}

interface AuditRow {
  lease_id: string;
  leased_at: Date;
  client: string;
  provider: string;
  pool: string;
  credential_id: string;
  expires_at: Date;
  model: string | null;
  selection: unknown;
  trace_id: string | null;
  replica: string;
}

const toAudited = (r: AuditRow): AuditedLease => ({
  leaseId: r.lease_id,
  leasedAt: r.leased_at,
  client: r.client,
  provider: r.provider,
  pool: r.pool,
  credentialId: r.credential_id,
  expiresAt: r.expires_at,
  model: r.model,
  selection: r.selection,
  traceId: r.trace_id,
  replica: r.replica,
});

export interface LeaseSearch {
  readonly credentialId?: string;
  readonly client?: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Only leases after this one in (time, lease id) order: the `next` of the previous page. */
  readonly after?: AuditCursor;
  readonly limit: number;
}

/** Where a page of the audit ended: the exact lease time (to the microsecond) and lease id. */
export interface AuditCursor {
  readonly leasedAt: string;
  readonly leaseId: string;
}

const CURSOR =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export const encodeAuditCursor = (cursor: AuditCursor): string =>
  Buffer.from(`${cursor.leasedAt}|${cursor.leaseId}`).toString('base64url');

/** The cursor a page handed out, or null when the text is not one. */
export const decodeAuditCursor = (text: string): AuditCursor | null => {
  const match = CURSOR.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return match === null ? null : { leasedAt: match[1] as string, leaseId: match[2] as string };
};

/** Microseconds kept: the page boundary must be exact, and Date has only milliseconds. */
const EXACT_LEASED_AT = `to_char(leased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS leased_at_exact`;

/** Reads of the lease audit: by id for reports, live leases for notices, searches for operators. */
export class LeaseAuditReader {
  constructor(private readonly db: DataSource) {}

  async find(leaseId: string): Promise<AuditedLease | undefined> {
    const rows = await this.db.query<AuditRow[]>(`SELECT * FROM lease_audit WHERE lease_id = $1`, [
      leaseId,
    ]);
    return rows[0] === undefined ? undefined : toAudited(rows[0]);
  }

  /** Leases on a credential whose end has not passed (by the database clock). */
  async live(credentialId: string): Promise<AuditedLease[]> {
    const rows = await this.db.query<AuditRow[]>(
      `SELECT * FROM lease_audit WHERE credential_id = $1 AND expires_at > now() ORDER BY leased_at`,
      [credentialId],
    );
    return rows.map(toAudited);
  }

  async search(query: LeaseSearch): Promise<AuditedLease[]> {
    return (await this.select(query, query.limit)).map(toAudited);
  }

  /** One page of a search, oldest first, and the cursor of the next page (null on the last). */
  async searchPage(query: LeaseSearch): Promise<{ leases: AuditedLease[]; next: string | null }> {
    const rows = await this.select(query, query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      leases: page.map(toAudited),
      next:
        rows.length > query.limit && last !== undefined
          ? encodeAuditCursor({ leasedAt: last.leased_at_exact, leaseId: last.lease_id })
          : null,
    };
  }

  private select(
    query: LeaseSearch,
    limit: number,
  ): Promise<(AuditRow & { leased_at_exact: string })[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      let text = clause;
      for (const value of values) {
        params.push(value);
        text = text.replace('?', `$${params.length}`);
      }
      where.push(text);
    };
    if (query.credentialId !== undefined) add('credential_id = ?', query.credentialId);
    if (query.client !== undefined) add('client = ?', query.client);
    if (query.from !== undefined) add('leased_at >= ?', query.from);
    if (query.to !== undefined) add('leased_at < ?', query.to);
    if (query.after !== undefined)
      add(
        '(leased_at, lease_id) > (?::timestamptz, ?::uuid)',
        query.after.leasedAt,
        query.after.leaseId,
      );
    params.push(limit);
    return this.db.query(
      `SELECT *, ${EXACT_LEASED_AT} FROM lease_audit ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY leased_at, lease_id LIMIT $${params.length}`,
      params,
    );
  }

  /** Deletes rows older than the retention; returns how many went. */
  async prune(olderThan: Date): Promise<number> {
    const result = await this.db.query<[unknown, number]>(
      `DELETE FROM lease_audit WHERE leased_at < $1`,
      [olderThan],
    );
    return Number(result[1] ?? 0);
  }
}
