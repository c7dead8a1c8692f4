import type { NatsConnection } from 'nats';
import type { RuntimeConfig } from '@broker/config';
import { connectNats } from '@broker/nats-transport';

export interface AdminReplyBody {
  readonly ok: boolean;
  readonly error?: { code: string; message: string; retryAfterMs?: number };
  readonly [key: string]: unknown;
}

/** Raised when the broker answers a verb with an error; the CLI prints it and exits non-zero. */
export class AdminError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The admin side of the protocol, as any NATS client speaks it. */
export class BrokerClient {
  private constructor(
    private readonly nats: NatsConnection,
    private readonly root: string,
  ) {}

  static async connect(config: RuntimeConfig): Promise<BrokerClient> {
    try {
      // Replies come to the usual `_INBOX`, where the services' NATS users may answer.
      return new BrokerClient(await connectNats(config, 'oauthctl', '_INBOX'), config.subjectRoot);
    } catch (error) {
      throw new Error(`cannot reach NATS at ${config.natsUrl}: ${(error as Error).message}`);
    }
  }

  async admin(verb: string, body: unknown, timeoutMs = 30_000): Promise<AdminReplyBody> {
    let reply: AdminReplyBody;
    try {
      const msg = await this.nats.request(`${this.root}.v1.admin.${verb}`, JSON.stringify(body), {
        timeout: timeoutMs,
      });
      reply = msg.json<AdminReplyBody>();
    } catch (error) {
      throw new Error(
        `no answer to ${verb} from a token service on '${this.root}' (${(error as Error).message})`,
      );
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
