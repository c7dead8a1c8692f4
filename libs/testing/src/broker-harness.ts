import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection, type Subscription } from 'nats';
import { KeyRing } from '@broker/secrets';
import { ensureNats, NATS_URL, uniqueName } from './infrastructure.js';
import { ServiceProcess } from './service-process.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface Reply {
  readonly ok: boolean;
  readonly error?: { code: string; message: string; retryAfterMs?: number };
  readonly [key: string]: unknown;
}

export interface HarnessOptions {
  /** Database URL to use instead of a fresh one on the local Postgres. */
  readonly databaseUrl?: string;
  readonly env?: Record<string, string>;
  /** Written to a temporary file and passed as `BROKER_CONFIG`. */
  readonly config?: Record<string, unknown>;
  /** A NATS server of the test's own instead of the machine's; a cluster's as a comma-separated list. */
  readonly natsUrl?: string;
  /** The harness's own NATS user (a server with permissions); services get theirs through `env`. */
  readonly natsUser?: { readonly user: string; readonly pass: string };
  /** The subject root instead of a unique one: only on a NATS server of the test's own. */
  readonly subjectRoot?: string;
}

/**
 * A broker of the test's own: a fresh database, a unique subject root on the
 * shared NATS, its own key ring, and real token-service processes.
 */
export class BrokerHarness {
  readonly services: ServiceProcess[] = [];
  private constructor(
    readonly root: string,
    readonly databaseUrl: string,
    readonly keys: string,
    readonly nats: NatsConnection,
    private readonly database: TestDatabase | undefined,
    private readonly env: Record<string, string>,
  ) {}

  static async create(options: HarnessOptions = {}): Promise<BrokerHarness> {
    if (options.natsUrl === undefined) await ensureNats();
    if (options.subjectRoot !== undefined && options.natsUrl === undefined)
      throw new Error('a fixed subject root needs a NATS server of the test’s own (natsUrl)');
    const natsUrl = options.natsUrl ?? NATS_URL;
    const database =
      options.databaseUrl === undefined ? await createTestDatabase('broker_e2e') : undefined;
    const nats = await connect({
      servers: natsUrl.split(','),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...(options.natsUser === undefined
        ? {}
        : { user: options.natsUser.user, pass: options.natsUser.pass }),
    });
    return new BrokerHarness(
      options.subjectRoot ?? uniqueName('e2e').replace(/_/g, '-'),
      options.databaseUrl ?? (database as TestDatabase).url,
      KeyRing.generateSpec('test'),
      nats,
      database,
      {
        NATS_URL: natsUrl,
        ...(options.config === undefined ? {} : { BROKER_CONFIG: writeConfig(options.config) }),
        ...options.env,
      },
    );
  }

  get serviceEnv(): Record<string, string> {
    return {
      NATS_URL,
      DATABASE_URL: this.databaseUrl,
      BROKER_SUBJECT_ROOT: this.root,
      BROKER_KEYS: this.keys,
      LOG_LEVEL: 'info',
      // Several services run at once: each binds an ephemeral ops port and logs it (`service.opsPort`).
      TOKEN_SERVICE_PORT: '0',
      REFRESH_SCHEDULER_PORT: '0',
      ALERTING_PORT: '0',
      ...this.env,
    };
  }

  /** Starts one more real process of the app and waits until it says it is ready. */
  async start(app = 'token-service', env: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = ServiceProcess.start(app, {
      ...this.serviceEnv,
      BROKER_REPLICA_ID: `${app}-${this.services.length + 1}`,
      ...env,
    });
    this.services.push(service);
    await service.waitUntilReady();
    return service;
  }

  /** GET on a service's ops port (`/metrics`, `/healthz`, `/readyz`): status and body. */
  async ops(service: ServiceProcess, path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(service.opsUrl(path), { signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.text() };
  }

  subject(suffix: string): string {
    return `${this.root}.v1.${suffix}`;
  }

  /** A request with a JSON body (or raw bytes/text), decoded reply. */
  async request(suffix: string, body: unknown = {}, timeoutMs = 5000): Promise<Reply> {
    const data =
      body instanceof Uint8Array ? body : typeof body === 'string' ? body : JSON.stringify(body);
    const msg = await this.nats.request(this.subject(suffix), data, { timeout: timeoutMs });
    return msg.json<Reply>();
  }

  admin(verb: string, body: unknown = {}): Promise<Reply> {
    return this.request(`admin.${verb}`, body);
  }

  lease(provider: string, pool: string, client: string, body: unknown = {}): Promise<Reply> {
    return this.request(`lease.${provider}.${pool}.${client}`, body);
  }

  report(client: string, body: unknown): Promise<Reply> {
    return this.request(`report.${client}`, body);
  }

  subscribe(suffix: string): {
    subscription: Subscription;
    next: (timeoutMs?: number) => Promise<Msg>;
  } {
    const subscription = this.nats.subscribe(this.subject(suffix));
    const iterator = subscription[Symbol.asyncIterator]();
    return {
      subscription,
      next: (timeoutMs = 5000) =>
        Promise.race([
          iterator.next().then((r) => r.value as Msg),
          new Promise<Msg>((_, reject) =>
            setTimeout(
              () => reject(new Error(`no message on ${suffix} within ${timeoutMs} ms`)),
              timeoutMs,
            ),
          ),
        ]),
    };
  }

  /** Moves the clock of every service started with `BROKER_TEST_CLOCK=1` to `at` (epoch ms). */
  async setClock(at: number): Promise<void> {
    this.nats.publish(`${this.root}.test.clock.set`, JSON.stringify({ offsetMs: at - Date.now() }));
    await this.nats.flush();
  }

  /** JetStream streams this broker's services created, so that runs leave nothing behind. */
  private async deleteStreams(): Promise<void> {
    const prefix = `${this.root.replace(/\./g, '_').toUpperCase()}_`;
    const jsm = await this.nats.jetstreamManager();
    for (const stream of await jsm.streams.list().next()) {
      if (stream.config.name.startsWith(prefix)) await jsm.streams.delete(stream.config.name);
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
    this.services.length = 0;
  }

  async destroy(): Promise<void> {
    await this.stopAll();
    await this.deleteStreams();
    await this.nats.close();
    await this.database?.drop();
  }
}

export const addCredential = (
  broker: BrokerHarness,
  id: string,
  overrides: Record<string, unknown> = {},
): Promise<Reply> =>
  broker.admin('credentials.add', {
    provider: 'gemini-cli',
    id,
    accessToken: `access-${id}`,
    refreshToken: `refresh-${id}`,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    ...overrides,
  });

/** Writes a BROKER_CONFIG file of the test's own and returns its path. */
export const writeConfig = (config: Record<string, unknown>): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'broker-config-')), 'broker.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
};

/**
 * A broker whose `gemini-cli` provider is the local OAuth server, with the
 * test's own config sections and environment on top.
 */
export const brokerWithOAuthServer = (
  server: { readonly tokenUrl: string },
  config: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<BrokerHarness> =>
  BrokerHarness.create({
    config: {
      providers: {
        'gemini-cli': {
          tokenUrl: server.tokenUrl,
          clientId: 'test-client',
          clientSecret: 'test-secret',
          clientAuth: 'body',
        },
      },
      ...config,
    },
    env,
  });
