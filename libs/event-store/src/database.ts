import pg from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from './migrations/index.js';

export interface DatabaseOptions {
  readonly url: string;
  readonly poolSize?: number;
  /** Upper bound on any one statement, so that a stuck database fails requests instead of hanging them. */
  readonly statementTimeoutMs?: number;
}

/** Creates the database named in the URL if it does not exist yet. */
export const ensureDatabase = async (url: string): Promise<void> => {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (name === '') throw new Error(`DATABASE_URL names no database: ${target.host}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client
        .query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
        .catch((error: { code?: string }) => {
          if (error.code !== '42P04') throw error; // created by a sibling meanwhile
        });
    }
  } finally {
    await client.end();
  }
};

export const createDataSource = (options: DatabaseOptions): DataSource =>
  new DataSource({
    type: 'postgres',
    url: options.url,
    synchronize: false,
    migrationsRun: false,
    migrations,
    migrationsTableName: 'schema_migrations',
    logging: false,
    extra: {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 3000,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      query_timeout: (options.statementTimeoutMs ?? 10_000) + 1000,
      application_name: 'oauth-broker',
    },
  });

const MIGRATION_LOCK = 7_311_000; // advisory lock id: one migrator at a time across replicas

/** Applies pending migrations under an advisory lock, so that replicas starting together do not race. */
export const migrate = async (dataSource: DataSource): Promise<string[]> => {
  const { url } = dataSource.options as { url?: string };
  // The lock lives on a connection of its own, so that a pool of one can still migrate.
  const lock = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await lock.end().catch(() => undefined); // ending the session releases the lock
  }
};
