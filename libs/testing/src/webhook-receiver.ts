import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
  readonly at: number;
}

/** How the receiver answers one request: a status, or a full response of the test's own. */
export type ReceiverAnswer = number | ((res: ServerResponse) => void);

/**
 * A real HTTP webhook receiver on 127.0.0.1 that records every request and
 * answers as the test says; it can go down (connection refused) and come
 * back on the same port.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (request: { body: string; headers: IncomingHttpHeaders }) => ReceiverAnswer = () => 204;
  private server: Server | undefined;
  private port = 0;

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/broker`;
  }

  /** Listens (again) on its port. */
  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const answer = this.answer({ body, headers: req.headers });
        if (typeof answer === 'number') {
          res.statusCode = answer;
          res.end();
        } else {
          answer(res);
        }
        this.received.push({ headers: req.headers, body, status: res.statusCode, at: Date.now() });
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening: connections are refused until `up()`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests whose JSON body has this `type` (standard format). */
  ofType(type: string): ReceivedWebhook[] {
    return this.received.filter((r) => {
      try {
        return (JSON.parse(r.body) as { type?: string }).type === type;
      } catch {
        return false;
      }
    });
  }
}
