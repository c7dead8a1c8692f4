import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from 'nats';
import type { RuntimeConfig } from '@broker/config';
import type { AdminReply, AdminVerb } from '@broker/contracts';
import { AdminError, UnreachableError } from './exit-codes.js';

export { AdminError };

export interface AdminReplyBody {
  readonly ok: boolean;
  readonly error?: { code: string; message: string; retryAfterMs?: number };
  readonly [key: string]: unknown;
}

/** Who answers a verb, for messages that say what to start. */
const answeredBy = (verb: string): string =>
  verb.startsWith('schedule.')
    ? 'refresh scheduler'
    : verb.startsWith('alerts.') || verb.startsWith('webhooks.')
      ? 'alerting service'
      : 'token service';

/** The admin side of the protocol, as any NATS client speaks it. */
export class BrokerClient {
  private constructor(
    private readonly nats: NatsConnection,
    private readonly root: string,
  ) {}

  static async connect(config: RuntimeConfig): Promise<BrokerClient> {
    try {
      // nats.js directly, as any client: the services' transport library would load Nest
      // for nothing. The same servers and credentials as natsConnectOptions; replies come
      // to the usual `_INBOX`, where the services' NATS users may answer an operator.
      const nats = await connect({
        servers: [...config.natsServers],
        name: `oauthctl@${config.replicaId}`,
        inboxPrefix: '_INBOX',
        ...(config.natsUser === undefined ? {} : { user: config.natsUser }),
        ...(config.natsPass === undefined ? {} : { pass: config.natsPass }),
        ...(config.natsCreds === undefined
          ? {}
          : { authenticator: credsAuthenticator(readFileSync(config.natsCreds)) }),
        timeout: 5000,
      });
      return new BrokerClient(nats, config.subjectRoot);
    } catch (error) {
      throw new UnreachableError(
        `cannot reach NATS at ${config.natsUrl}: ${(error as Error).message}`,
      );
    }
  }

  /** Sends a verb and returns its reply, typed by the contract. */
  async call<V extends AdminVerb>(verb: V, body: unknown, timeoutMs = 30_000) {
    return (await this.admin(verb, body, timeoutMs)) as unknown as AdminReply<V>;
  }

  /** Every credential with its health and usage, page after page (`credentials.status`). */
  async credentialStatus(filter: { provider?: string; pool?: string } = {}) {
    const all: AdminReply<'credentials.status'>['credentials'] = [];
    let after: string | null = null;
    do {
      const page: AdminReply<'credentials.status'> = await this.call('credentials.status', {
        ...filter,
        limit: 500,
        ...(after === null ? {} : { after }),
      });
      all.push(...page.credentials);
      after = page.next;
    } while (after !== null);
    return all;
  }

  async admin(verb: string, body: unknown, timeoutMs = 30_000): Promise<AdminReplyBody> {
    const subject = `${this.root}.v1.admin.${verb}`;
    let reply: AdminReplyBody;
    try {
      const msg = await this.nats.request(subject, JSON.stringify(body), { timeout: timeoutMs });
      reply = msg.json<AdminReplyBody>();
    } catch (error) {
      const code = (error as { code?: string }).code;
      const who = answeredBy(verb);
      if (code === '503')
        throw new UnreachableError(
          who === 'token service'
            ? `no ${who} answers ${subject}: nothing is running on subject root '${this.root}' (BROKER_SUBJECT_ROOT)`
            : `no ${who} answers ${subject}: is it running on subject root '${this.root}' (BROKER_SUBJECT_ROOT)?`,
        );
      if (code === 'TIMEOUT')
        throw new UnreachableError(
          `no answer to ${verb} from a ${who} on '${this.root}' within ${timeoutMs / 1000} s`,
        );
      throw new UnreachableError(`${verb} could not be sent: ${(error as Error).message}`);
    }
    if (!reply.ok)
      throw new AdminError(
        reply.error?.code ?? 'INTERNAL',
        reply.error?.message ?? 'unknown error',
      );
    return reply;
  }

  close(): Promise<void> {
    return this.nats.close();
  }
}
