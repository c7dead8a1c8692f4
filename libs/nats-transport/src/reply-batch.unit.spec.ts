import type { Msg } from 'nats';
import { ReplyBatch } from './reply-batch.js';

const message = (subject: string, sent: string[], fail = false): Msg =>
  ({
    subject,
    respond: (data: Uint8Array) => {
      if (fail) throw new Error(`connection closed while answering ${subject}`);
      sent.push(`${subject}:${new TextDecoder().decode(data)}`);
      return true;
    },
  }) as unknown as Msg;

const bytes = (text: string) => new TextEncoder().encode(text);

describe('ReplyBatch', () => {
  it('holds the replies of one event-loop turn and sends them together, in order, after it', async () => {
    const sent: string[] = [];
    const batch = new ReplyBatch(() => undefined);
    const first = batch.respond(message('a', sent), bytes('1'));
    await Promise.resolve(); // a few awaits later in the same turn, as handlers finish
    await Promise.resolve();
    const second = batch.respond(message('b', sent), bytes('2'));
    expect(sent).toEqual([]);
    await Promise.all([first, second]);
    expect(sent).toEqual(['a:1', 'b:2']);
  });

  it('starts a new batch for replies of a later turn', async () => {
    const sent: string[] = [];
    const batch = new ReplyBatch(() => undefined);
    await batch.respond(message('a', sent), bytes('1'));
    const later = batch.respond(message('b', sent), bytes('2'));
    expect(sent).toEqual(['a:1']);
    await later;
    expect(sent).toEqual(['a:1', 'b:2']);
  });

  it('reports a reply that cannot be sent and still sends the others', async () => {
    const sent: string[] = [];
    const errors: string[] = [];
    const batch = new ReplyBatch((error, subject) => errors.push(`${subject}: ${String(error)}`));
    await Promise.all([
      batch.respond(message('a', sent, true), bytes('1')),
      batch.respond(message('b', sent), bytes('2')),
    ]);
    expect(sent).toEqual(['b:2']);
    expect(errors).toEqual(['a: Error: connection closed while answering a']);
  });
});
