import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { createDataSource, migrate } from '@broker/event-store';
import { KeyRing } from '@broker/secrets';

export const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const PG_ADMIN = process.env['BENCH_PG_ADMIN'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * What one benchmark run owns on the shared NATS and Postgres: a subject root,
 * databases named after the run, and a key ring. `cleanup` removes all of it.
 */
export class BenchEnvironment {
  readonly run = randomBytes(4).toString('hex');
  readonly keys = KeyRing.generateSpec('bench');
  private readonly databases: string[] = [];
  private readonly roots: string[] = [];

  private constructor(
    readonly nats: NatsConnection,
    private readonly admin: pg.Client,
  ) {}

  static async create(): Promise<BenchEnvironment> {
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    return new BenchEnvironment(await connect({ servers: NATS_URL }), admin);
  }

  /** A fresh, migrated database of this run. */
  async database(purpose: string): Promise<string> {
    const name = `broker_bench_${this.run}_${purpose}`;
    await this.admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    this.databases.push(name);
    const url = PG_ADMIN.replace(/\/[^/]*$/, `/${name}`);
    const source = await createDataSource({ url, poolSize: 2 }).initialize();
    try {
      await migrate(source);
    } finally {
      await source.destroy();
    }
    return url;
  }

  /** A subject root of this run; its JetStream streams go at cleanup. */
  root(purpose: string): string {
    const root = `bench-${this.run}-${purpose}`;
    this.roots.push(root);
    return root;
  }

  /** The environment a service of this run needs. */
  serviceEnv(databaseUrl: string, root: string, extra: Record<string, string> = {}) {
    return {
      NATS_URL,
      DATABASE_URL: databaseUrl,
      BROKER_SUBJECT_ROOT: root,
      BROKER_KEYS: this.keys,
      // Ops ports of their own: several services of the bench (and other runs) share the machine.
      TOKEN_SERVICE_PORT: '0',
      REFRESH_SCHEDULER_PORT: '0',
      ALERTING_PORT: '0',
      ...extra,
    };
  }

  async cleanup(): Promise<void> {
    const jsm = await this.nats.jetstreamManager();
    const prefixes = this.roots.map((r) => `${r.replace(/\./g, '_').toUpperCase()}_`);
    for (const stream of await jsm.streams.list().next()) {
      if (prefixes.some((p) => stream.config.name.startsWith(p)))
        await jsm.streams.delete(stream.config.name);
    }
    await this.nats.close();
    for (const name of this.databases)
      await this.admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await this.admin.end();
  }
}
