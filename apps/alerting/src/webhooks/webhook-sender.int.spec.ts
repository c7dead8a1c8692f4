import { WebhookReceiver } from '@broker/testing';
import { sendWebhook } from './webhook-sender.js';

const HINT = 'set alerting.allowPrivateWebhookTargets to allow private targets';

/** The sender against a real receiver on 127.0.0.1: what the delivery worker sees of each answer. */
describe('webhook sender', () => {
  let receiver: WebhookReceiver;
  const port = () => new URL(receiver.url).port;
  const send = (url: string, allowPrivate: boolean) =>
    sendWebhook(url, { 'webhook-id': 'msg_test' }, '{"type":"test"}', {
      timeoutMs: 5_000,
      allowPrivate,
    });

  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });

  afterEach(() => receiver.down());

  it('reaches the receiver when private targets are allowed', async () => {
    expect(await send(`http://localhost:${port()}/hooks/broker`, true)).toEqual({
      kind: 'response',
      status: 204,
    });
    expect(receiver.received).toHaveLength(1);
  });

  // A name checked when it was added may resolve elsewhere later (DNS rebinding):
  // the check is made again on the address the connection would use.
  it('refuses a name that resolves to loopback at connect time, and the receiver gets nothing', async () => {
    const result = await send(`http://localhost:${port()}/hooks/broker`, false);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' && result.error).toMatch(
      new RegExp(
        `^refused at connect time: (127\\.0\\.0\\.1|::1) is a loopback address \\(localhost resolved to it\\); ${HINT}$`,
      ),
    );
    expect(receiver.received).toHaveLength(0);
  });

  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
  ])('refuses the IP literal %s before connecting', async (host, shown) => {
    expect(await send(`http://${host}:${port()}/hooks/broker`, false)).toEqual({
      kind: 'error',
      error: `refused at connect time: ${shown} is a loopback address; ${HINT}`,
    });
    expect(receiver.received).toHaveLength(0);
  });

  it("hands on a 429's Retry-After, and reports a reset connection as an error", async () => {
    receiver.answer = () => (res) => {
      res.writeHead(429, { 'retry-after': '120' });
      res.end();
    };
    expect(await send(receiver.url, true)).toEqual({
      kind: 'response',
      status: 429,
      retryAfterMs: 120_000,
    });
    receiver.answer = () => (res) => res.socket?.destroy();
    const reset = await send(receiver.url, true);
    expect(reset).toEqual({ kind: 'error', error: expect.stringMatching(/^ECONNRESET: /) });
  });
});
