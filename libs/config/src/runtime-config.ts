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
  /** `NATS_URL` as given: one URL or a comma-separated list of a cluster's servers. */
  readonly natsUrl: string;
  /** The servers of `NATS_URL`, split and trimmed. */
  readonly natsServers: readonly string[];
  readonly natsUser?: string;
  readonly natsPass?: string;
  readonly natsCreds?: string;
  /** JetStream replicas of every stream and consumer the broker creates: 1 on one server, 3 on a cluster. */
  readonly jetStreamReplicas: number;
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

/** JetStream allows at most five replicas of a stream. */
const MAX_JETSTREAM_REPLICAS = 5;

const jetStreamReplicas = (env: NodeJS.ProcessEnv): number => {
  const raw = env['BROKER_JETSTREAM_REPLICAS'];
  if (raw === undefined || raw.trim() === '') return 1;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value < 1 || value > MAX_JETSTREAM_REPLICAS)
    throw new ConfigError(
      `BROKER_JETSTREAM_REPLICAS must be a whole number from 1 to ${MAX_JETSTREAM_REPLICAS} (1 on one NATS server, 3 on a cluster), got '${raw}'`,
    );
  return value;
};

/** The value is not quoted back: a URL may carry a password. */
const natsServers = (url: string): string[] => {
  const servers = url.split(',').map((server) => server.trim());
  const empty = servers.findIndex((server) => server === '');
  if (empty >= 0)
    throw new ConfigError(
      `NATS_URL must be one URL or a comma-separated list of URLs; entry ${empty + 1} of ${servers.length} is empty`,
    );
  return servers;
};

/** User and password go together; a creds file is the other way to authenticate, not both. */
const natsAuth = (
  env: NodeJS.ProcessEnv,
): Pick<RuntimeConfig, 'natsUser' | 'natsPass' | 'natsCreds'> => {
  const user = env['NATS_USER'] || undefined;
  const pass = env['NATS_PASS'] || undefined;
  const creds = env['NATS_CREDS'] || undefined;
  if ((user === undefined) !== (pass === undefined))
    throw new ConfigError(
      user === undefined
        ? 'NATS_PASS is set without NATS_USER'
        : 'NATS_USER is set without NATS_PASS',
    );
  if (creds !== undefined && user !== undefined)
    throw new ConfigError('set either NATS_USER/NATS_PASS or NATS_CREDS, not both');
  return {
    ...(user === undefined ? {} : { natsUser: user }),
    ...(pass === undefined ? {} : { natsPass: pass }),
    ...(creds === undefined ? {} : { natsCreds: creds }),
  };
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
  const natsUrl = env['NATS_URL'] || 'nats://127.0.0.1:4222';
  return {
    natsUrl,
    natsServers: natsServers(natsUrl),
    ...natsAuth(env),
    jetStreamReplicas: jetStreamReplicas(env),
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
