import pg from 'pg';
import { ensurePostgres, PG_HOST, PG_PORT, uniqueName } from './infrastructure.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

const adminUrl = (port: number) => `postgres://postgres@${PG_HOST}:${port}/postgres`;

/** A fresh database of its own on the local Postgres, dropped by `drop()`. */
export const createTestDatabase = async (
  prefix = 'broker_test',
  port = PG_PORT,
): Promise<TestDatabase> => {
  if (port === PG_PORT) await ensurePostgres();
  const name = uniqueName(prefix).toLowerCase();
  const admin = new pg.Client({ connectionString: adminUrl(port) });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await admin.end();
  return {
    name,
    url: `postgres://postgres@${PG_HOST}:${port}/${name}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl(port) });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await client.end();
    },
  };
};
