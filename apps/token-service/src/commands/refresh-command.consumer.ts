import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { describeIssues, RefreshCommandSchema } from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import {
  commandStreamName,
  ensureCommandConsumer,
  ensureCommandStream,
} from '@broker/nats-transport';
import { errorMessage, type Logger } from '@broker/observability';
import { RefreshService } from '../refresh/refresh.service.js';
import { CONFIG, LOGGER, NATS } from '../tokens.js';

const DURABLE = 'token-service';
const MAX_DELIVER = 5;
const ACK_WAIT_MS = 90_000;
const RETRY_DELAY_MS = 5_000;

/**
 * Takes the scheduler's refresh commands from the JetStream work queue (one
 * durable consumer shared by every replica) and executes them. A command run
 * twice is a no-op: the refresh lock and the refresh count it carries see to it.
 */
@Injectable()
export class RefreshCommandConsumer implements OnModuleDestroy {
  private messages: ConsumerMessages | undefined;

  constructor(
    private readonly refresher: RefreshService,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const root = this.config.subjectRoot;
    await ensureCommandStream(this.nats, root);
    await ensureCommandConsumer(this.nats, root, DURABLE, ACK_WAIT_MS, MAX_DELIVER);
    const consumer = await this.nats.jetstream().consumers.get(commandStreamName(root), DURABLE);
    this.messages = await consumer.consume({ max_messages: 16 });
    void this.loop(this.messages);
  }

  async onModuleDestroy(): Promise<void> {
    await this.messages?.close();
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) void this.handle(message);
  }

  private async handle(message: JsMsg): Promise<void> {
    let body: unknown;
    try {
      body = message.json();
    } catch {
      body = undefined;
    }
    const command = RefreshCommandSchema.safeParse(body);
    if (!command.success) {
      // A poison message: redelivering it cannot help.
      this.logger.error(
        { subject: message.subject, problem: describeIssues(command.error) },
        'refresh command refused',
      );
      message.term();
      return;
    }
    const { credentialId, knownRefreshCount, commandId } = command.data;
    try {
      const outcome = await this.refresher.refresh(credentialId, 'scheduled', knownRefreshCount);
      this.logger.info(
        { credentialId, commandId, outcome: outcome.status },
        'refresh command done',
      );
      message.ack();
    } catch (error) {
      this.logger.warn(
        {
          credentialId,
          commandId,
          err: errorMessage(error),
          delivery: message.info.redeliveryCount,
        },
        'refresh command failed; redelivering',
      );
      if (message.info.redeliveryCount >= MAX_DELIVER) message.term();
      else message.nak(RETRY_DELAY_MS);
    }
  }
}
