import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_SUBJECT_ROOT, describeIssues } from '@broker/contracts';
import { BrokerConfigFileSchema, type BrokerConfigFile } from './broker-config.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Everything a service needs to start, from the environment and the optional config file. */
export interface RuntimeConfig {
  readonly natsUrl: string;
  readonly natsUser?: string;
  readonly natsPass?: string;
  readonly natsCreds?: string;
  readonly databaseUrl: string;
  readonly subjectRoot: string;
  readonly keys?: string;
  readonly dataDir: string;
  readonly production: boolean;
  readonly replicaId: string;
  readonly ports: {
    readonly tokenService: number;
    readonly refreshScheduler: number;
    readonly alerting: number;
  };
  readonly file: BrokerConfigFile;
}

const SUBJECT_ROOT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const port = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new ConfigError(`${name} must be a port number, got '${raw}'`);
  return value;
};

export const loadConfigFile = (path: string): BrokerConfigFile => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`BROKER_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) as unknown;
  } catch (error) {
    throw new ConfigError(
      `BROKER_CONFIG: ${path} is neither JSON nor YAML: ${(error as Error).message}`,
    );
  }
  const parsed = BrokerConfigFileSchema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new ConfigError(`BROKER_CONFIG: ${path}: ${describeIssues(parsed.error)}`);
  return parsed.data;
};

export const loadRuntimeConfig = (env: NodeJS.ProcessEnv = process.env): RuntimeConfig => {
  const subjectRoot = env['BROKER_SUBJECT_ROOT'] || DEFAULT_SUBJECT_ROOT;
  if (!SUBJECT_ROOT.test(subjectRoot)) {
    throw new ConfigError(
      `BROKER_SUBJECT_ROOT must be NATS subject tokens without wildcards, got '${subjectRoot}'`,
    );
  }
  const configPath = env['BROKER_CONFIG'];
  return {
    natsUrl: env['NATS_URL'] || 'nats://127.0.0.1:4222',
    ...(env['NATS_USER'] ? { natsUser: env['NATS_USER'] } : {}),
    ...(env['NATS_PASS'] ? { natsPass: env['NATS_PASS'] } : {}),
    ...(env['NATS_CREDS'] ? { natsCreds: env['NATS_CREDS'] } : {}),
    databaseUrl: env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/oauth_broker',
    subjectRoot,
    ...(env['BROKER_KEYS'] ? { keys: env['BROKER_KEYS'] } : {}),
    dataDir: env['BROKER_DATA_DIR'] || '.data',
    production: env['NODE_ENV'] === 'production',
    replicaId: env['BROKER_REPLICA_ID'] || `${hostname()}-${process.pid}`,
    ports: {
      tokenService: port(env, 'TOKEN_SERVICE_PORT', 8081),
      refreshScheduler: port(env, 'REFRESH_SCHEDULER_PORT', 8082),
      alerting: port(env, 'ALERTING_PORT', 8083),
    },
    file: configPath ? loadConfigFile(configPath) : {},
  };
};
