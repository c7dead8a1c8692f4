import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom, isObservable } from 'rxjs';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { BrokerError, errorReply, MAX_BODY_BYTES } from '@broker/contracts';
import {
  contextFromHeaders,
  markSpanFailed,
  SpanAttributes,
  SpanKind,
  withSpan,
  type Span,
} from '@broker/observability';
import { NatsJsonContext } from './nats-json.context.js';
import { ReplyBatch } from './reply-batch.js';

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

/** `ok`, or the error code of a protocol error reply. */
const outcomeOf = (reply: unknown): string => {
  const r = reply as { ok?: unknown; error?: { code?: unknown } } | null | undefined;
  if (r?.ok === true) return 'ok';
  return typeof r?.error?.code === 'string' ? r.error.code : 'unknown';
};
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Nest transport on the `nats` package with plain JSON bodies, no framework
 * envelope: handlers get the decoded body and a context with the subject and
 * headers, and return the reply object. Any client in any language can talk to it.
 */
export class NatsJsonTransport extends Server implements CustomTransportStrategy {
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly replies = new ReplyBatch((error, subject) =>
    this.options.onUnexpectedError?.(error, subject),
  );

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
      void this.consume(subscription, handler, pattern);
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

  private async consume(
    subscription: Subscription,
    handler: MessageHandler,
    pattern: string,
  ): Promise<void> {
    for await (const msg of subscription) {
      const work = this.traced(msg, handler, pattern);
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    }
  }

  /**
   * Handles one message in a server span that continues the caller's trace from
   * the W3C `traceparent`/`tracestate` headers. Handlers refine its name and
   * attributes; the outcome (`ok` or the error code) is set here.
   */
  private traced(msg: Msg, handler: MessageHandler, pattern: string): Promise<void> {
    const parent = contextFromHeaders(msg.headers);
    return withSpan(
      pattern,
      {
        kind: SpanKind.SERVER,
        ...(parent === undefined ? {} : { parent }),
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject },
      },
      (span) => this.handle(msg, handler, span),
    );
  }

  private async handle(msg: Msg, handler: MessageHandler, span: Span): Promise<void> {
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
    const outcome = outcomeOf(reply);
    span.setAttribute(SpanAttributes.outcome, outcome);
    if (outcome === 'INTERNAL') markSpanFailed('internal error', span);
    if (msg.reply !== undefined && msg.reply !== '') {
      await this.replies.respond(msg, encoder.encode(JSON.stringify(reply)));
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
