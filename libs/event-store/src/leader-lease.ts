import type { DataSource } from 'typeorm';

export interface Leadership {
  readonly leading: boolean;
  /** Increases every time the lease changes hands: a fencing token for what the leader emits. */
  readonly term: number;
  readonly holder: string;
  readonly expiresAt: Date;
}

/**
 * A lease in Postgres for a role that runs in one place at a time. The holder
 * renews it well inside its life; anyone may take it once it has expired, by
 * the database clock, so replicas with skewed clocks still agree.
 */
export class LeaderLease {
  constructor(
    private readonly db: DataSource,
    private readonly name: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease if it is free or expired, renews it if ours; says who leads either way. */
  async acquireOrRenew(): Promise<Leadership> {
    const rows = await this.db.query<{ holder: string; term: string; expires_at: Date }[]>(
      `INSERT INTO leader_leases (name, holder, term, expires_at)
       VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE
         SET holder = EXCLUDED.holder,
             term = CASE WHEN leader_leases.holder = EXCLUDED.holder THEN leader_leases.term ELSE leader_leases.term + 1 END,
             acquired_at = CASE WHEN leader_leases.holder = EXCLUDED.holder THEN leader_leases.acquired_at ELSE now() END,
             expires_at = EXCLUDED.expires_at
         WHERE leader_leases.holder = EXCLUDED.holder OR leader_leases.expires_at < now()
       RETURNING holder, term, expires_at`,
      [this.name, this.holder, this.ttlMs],
    );
    const mine = rows[0];
    if (mine !== undefined)
      return {
        leading: true,
        term: Number(mine.term),
        holder: mine.holder,
        expiresAt: mine.expires_at,
      };
    const [current] = await this.db.query<{ holder: string; term: string; expires_at: Date }[]>(
      `SELECT holder, term, expires_at FROM leader_leases WHERE name = $1`,
      [this.name],
    );
    return {
      leading: false,
      term: Number(current?.term ?? 0),
      holder: current?.holder ?? 'nobody',
      expiresAt: current?.expires_at ?? new Date(0),
    };
  }

  /** Gives the lease up at once (a clean stop), so that a standby need not wait for it to expire. */
  async release(): Promise<void> {
    await this.db.query(`DELETE FROM leader_leases WHERE name = $1 AND holder = $2`, [
      this.name,
      this.holder,
    ]);
  }
}
