/** A message a consumer gave up on: what an operator needs to find it, never its body. */
export interface SetAsideMessage {
  /** The durable consumer that set it aside. */
  readonly consumer: string;
  readonly subject: string;
  /** Its sequence in the JetStream stream; absent for an event read from Postgres to fill a gap. */
  readonly streamSequence?: number;
  readonly attempts: number;
  readonly reason: string;
  /** The event it held, when it could be read as one. */
  readonly event?: {
    readonly eventId: string;
    readonly type: string;
    readonly streamId: string;
    readonly globalPosition: number;
    readonly transactionId: string;
  };
}
