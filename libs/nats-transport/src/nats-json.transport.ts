import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom, isObservable } from 'rxjs';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { BrokerError, errorReply, MAX_BODY_BYTES } from '@broker/contracts';
import { NatsJsonContext } from './nats-json.context.js';

export interface NatsJsonTransportOptions {
  readonly connection: NatsConnection;
  /** Prepended to every handler pattern: `<root>.<pattern>`. */
  readonly subjectRoot: string;
  /** Queue group, so that replicas share the requests. */
  readonly queue: string;
  readonly maxBodyBytes?: number;
  readonly onUnexpectedError?: (error: unknown, subject: string) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Nest transport on the `nats` package with plain JSON bodies, no framework
 * envelope: handlers get the decoded body and a context with the subject and
 * headers, and return the reply object. Any client in any language can talk to it.
 */
export class NatsJsonTransport extends Server implements CustomTransportStrategy {
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: NatsJsonTransportOptions) {
    super();
  }

  listen(callback: () => void): void {
    for (const [pattern, handler] of this.messageHandlers) {
      const subject = `${this.options.subjectRoot}.${pattern}`;
      const subscription = this.options.connection.subscribe(subject, {
        queue: this.options.queue,
      });
      this.subscriptions.push(subscription);
      void this.consume(subscription, handler);
    }
    callback();
  }

  /** Stops taking messages, then waits for the ones being handled to be answered. */
  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.drain().catch(() => undefined)));
    await Promise.all([...this.inFlight]);
  }

  on(): never {
    throw new Error('NatsJsonTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.options.connection as T;
  }

  private async consume(subscription: Subscription, handler: MessageHandler): Promise<void> {
    for await (const msg of subscription) {
      const work = this.handle(msg, handler);
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    }
  }

  private async handle(msg: Msg, handler: MessageHandler): Promise<void> {
    let reply: unknown;
    try {
      const body = this.decode(msg);
      const result: unknown = await handler(body, new NatsJsonContext([msg.subject, msg.headers]));
      reply = isObservable(result) ? await lastValueFrom(result) : result;
    } catch (error) {
      if (error instanceof BrokerError) reply = error.toReply();
      else {
        this.options.onUnexpectedError?.(error, msg.subject);
        reply = errorReply('INTERNAL', 'internal error; the broker logged the details');
      }
    }
    if (msg.reply !== undefined && msg.reply !== '') {
      try {
        msg.respond(encoder.encode(JSON.stringify(reply)));
      } catch (error) {
        this.options.onUnexpectedError?.(error, msg.subject);
      }
    }
  }

  private decode(msg: Msg): unknown {
    const limit = this.options.maxBodyBytes ?? MAX_BODY_BYTES;
    if (msg.data.length > limit) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `body is ${msg.data.length} bytes; the limit is ${limit}`,
      );
    }
    if (msg.data.length === 0) return {};
    let text: string;
    try {
      text = decoder.decode(msg.data);
    } catch {
      throw new BrokerError('INVALID_REQUEST', 'body is not valid UTF-8');
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      // V8 quotes the offending text in its message; a body may hold a token, so only the position goes back.
      const position = /position (\d+)/.exec((error as Error).message)?.[1];
      throw new BrokerError(
        'INVALID_REQUEST',
        `body is not valid JSON${position === undefined ? '' : ` (at position ${position})`}`,
      );
    }
  }
}
