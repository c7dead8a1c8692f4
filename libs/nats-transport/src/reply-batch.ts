import type { Msg } from 'nats';

/**
 * Sends replies at the end of the event-loop turn, all together. nats.js writes
 * to its socket in a microtask after the first publish of a burst; replies whose
 * handlers finish a few awaits apart each started a write of their own, and on
 * loopback one `write` costs more than handling the request. Sent from one
 * `setImmediate`, a turn's replies leave in one write.
 */
export class ReplyBatch {
  private pending: { msg: Msg; data: Uint8Array }[] = [];
  private sent: Promise<void> | undefined;

  constructor(private readonly onError: (error: unknown, subject: string) => void) {}

  /** Queues a reply; resolves once it was handed to the connection. */
  respond(msg: Msg, data: Uint8Array): Promise<void> {
    this.pending.push({ msg, data });
    this.sent ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.flush();
        resolve();
      }),
    );
    return this.sent;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.sent = undefined;
    for (const { msg, data } of batch) {
      try {
        msg.respond(data);
      } catch (error) {
        this.onError(error, msg.subject);
      }
    }
  }
}
