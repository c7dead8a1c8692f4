import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import { DecommissionCommandSchema, describeIssues, RefreshCommandSchema } from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import { PostgresEventStore } from '@broker/event-store';
import {
  commandStreamName,
  ensureCommandConsumer,
  ensureCommandStream,
  PULL_EXPIRES_MS,
} from '@broker/nats-transport';
import {
  annotateActiveSpan,
  contextFromFields,
  contextFromHeaders,
  errorMessage,
  SpanAttributes,
  SpanKind,
  withSpan,
  type Logger,
  type Registry,
} from '@broker/observability';
import { setAsideRecorder, type SetAsideRecorder } from '@broker/service-shell';
import { CredentialsService } from '../credentials/credentials.service.js';
import { RefreshService } from '../refresh/refresh.service.js';
import { CLOCK, CONFIG, DATA_SOURCE, LOGGER, METRICS, NATS, type Clock } from '../tokens.js';

const DURABLE = 'token-service';
const MAX_DELIVER = 5;
const ACK_WAIT_MS = 90_000;
const RETRY_DELAY_MS = 5_000;

/**
 * Takes the scheduler's commands (refresh, decommission) from the JetStream work
 * queue (one durable consumer shared by every replica) and executes them. A
 * command run twice is a no-op: the refresh lock and the refresh count it
 * carries, or the credential already being decommissioned, see to it. A command
 * that cannot be read, or fails on its last delivery, is set aside: terminated
 * and recorded (`message_set_aside` alert); the scheduler plans a lost refresh
 * again from the log.
 */
@Injectable()
export class CommandConsumer implements OnModuleDestroy {
  private messages: ConsumerMessages | undefined;
  private readonly recordSetAside: SetAsideRecorder;

  constructor(
    private readonly refresher: RefreshService,
    private readonly credentials: CredentialsService,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) db: DataSource,
    @Inject(METRICS) metrics: Registry,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.recordSetAside = setAsideRecorder({
      store: new PostgresEventStore(db),
      logger,
      metrics,
      replica: config.replicaId,
      now: () => clock.now(),
    });
  }

  async start(): Promise<void> {
    const root = this.config.subjectRoot;
    const replicas = this.config.jetStreamReplicas;
    await ensureCommandStream(this.nats, root, replicas);
    await ensureCommandConsumer(this.nats, root, DURABLE, ACK_WAIT_MS, MAX_DELIVER, replicas);
    const consumer = await this.nats.jetstream().consumers.get(commandStreamName(root), DURABLE);
    this.messages = await consumer.consume({ max_messages: 16, expires: PULL_EXPIRES_MS });
    void this.loop(this.messages);
  }

  async onModuleDestroy(): Promise<void> {
    await this.messages?.close();
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) void this.handle(message).catch(() => undefined);
  }

  /** One command in a consumer span continuing the scheduler's trace (headers first, then the body). */
  private handle(message: JsMsg): Promise<void> {
    let body: unknown;
    try {
      body = message.json();
    } catch {
      body = undefined;
    }
    const verb = message.subject.slice(`${this.config.subjectRoot}.v1.cmd.`.length);
    const fields =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const parent = contextFromHeaders(message.headers) ?? contextFromFields(fields);
    const attributes = {
      'messaging.system': 'nats',
      'messaging.destination.name': message.subject,
      ...(typeof fields['credentialId'] === 'string'
        ? { [SpanAttributes.credentialId]: fields['credentialId'] }
        : {}),
      ...(typeof fields['commandId'] === 'string'
        ? { [SpanAttributes.commandId]: fields['commandId'] }
        : {}),
    };
    return withSpan(
      `command ${verb}`,
      { kind: SpanKind.CONSUMER, attributes, ...(parent === undefined ? {} : { parent }) },
      () => this.execute(message, verb, body),
    );
  }

  private async execute(message: JsMsg, verb: string, body: unknown): Promise<void> {
    try {
      if (verb === 'refresh') await this.refresh(body, message);
      else if (verb === 'decommission') await this.decommission(body, message);
      else await this.refuse(message, `no command '${verb}'`);
    } catch (error) {
      this.logger.warn(
        {
          subject: message.subject,
          err: errorMessage(error),
          delivery: message.info.redeliveryCount,
        },
        'command failed; redelivering',
      );
      if (message.info.redeliveryCount >= MAX_DELIVER)
        await this.setAside(message, errorMessage(error));
      else message.nak(RETRY_DELAY_MS);
    }
  }

  /** A poison message: redelivering it cannot help. */
  private async refuse(message: JsMsg, problem: string): Promise<void> {
    this.logger.error({ subject: message.subject, problem }, 'command refused');
    await this.setAside(message, problem);
  }

  /** Recorded, then terminated even if recording failed (logged): it must not come back forever. */
  private async setAside(message: JsMsg, reason: string): Promise<void> {
    try {
      await this.recordSetAside({
        consumer: DURABLE,
        subject: message.subject,
        streamSequence: message.seq,
        attempts: message.info.redeliveryCount,
        reason,
      });
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, 'recording a set-aside command failed');
    }
    message.term();
  }

  private async refresh(body: unknown, message: JsMsg): Promise<void> {
    const command = RefreshCommandSchema.safeParse(body);
    if (!command.success) return this.refuse(message, describeIssues(command.error));
    const { credentialId, knownRefreshCount, commandId } = command.data;
    const outcome = await this.refresher.refresh(credentialId, 'scheduled', knownRefreshCount);
    annotateActiveSpan({ [SpanAttributes.outcome]: outcome.status });
    this.logger.info({ credentialId, commandId, outcome: outcome.status }, 'refresh command done');
    message.ack();
  }

  private async decommission(body: unknown, message: JsMsg): Promise<void> {
    const command = DecommissionCommandSchema.safeParse(body);
    if (!command.success) return this.refuse(message, describeIssues(command.error));
    await this.credentials.decommission(command.data.credentialId, command.data.reason);
    this.logger.info(
      { credentialId: command.data.credentialId, commandId: command.data.commandId },
      'decommission command done',
    );
    message.ack();
  }
}
