import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers one call: an error status (with `Retry-After` seconds), or success. */
export interface FakeProviderAnswer {
  readonly status: number;
  readonly retryAfterSeconds?: number;
}

export interface FakeProviderCall {
  readonly token: string;
  readonly path: string;
  readonly body: unknown;
}

const SUMMARY = 'A short summary.';

const readBody = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
};

/**
 * A provider API on 127.0.0.1 shaped like Code Assist's `generateContent`: it reads the
 * bearer token of each call, records it, and answers as `answerFor(token)` says
 * (200 with a candidate when it says nothing).
 */
export class FakeProviderApi {
  readonly calls: FakeProviderCall[] = [];
  private readonly server: Server;

  private constructor(
    private readonly answerFor: (token: string) => FakeProviderAnswer | undefined,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(
    answerFor: (token: string) => FakeProviderAnswer | undefined = () => undefined,
  ): Promise<FakeProviderApi> {
    const api = new FakeProviderApi(answerFor);
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The summary text every successful call returns. */
  get summary(): string {
    return SUMMARY;
  }

  callsWith(token: string): number {
    return this.calls.filter((c) => c.token === token).length;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    if (token === undefined) {
      send(401, { error: { code: 401, message: 'no bearer token', status: 'UNAUTHENTICATED' } });
      return;
    }
    this.calls.push({ token, path: req.url ?? '', body });
    const answer = this.answerFor(token);
    if (answer === undefined || answer.status === 200) {
      send(200, {
        response: { candidates: [{ content: { role: 'model', parts: [{ text: SUMMARY }] } }] },
      });
      return;
    }
    send(
      answer.status,
      {
        error: {
          code: answer.status,
          message: 'Resource has been exhausted',
          status: 'RESOURCE_EXHAUSTED',
        },
      },
      answer.retryAfterSeconds === undefined
        ? {}
        : { 'retry-after': String(answer.retryAfterSeconds) },
    );
  }
}
