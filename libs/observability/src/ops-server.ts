import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** A readiness check: resolves when the dependency is fine, throws saying what is wrong. */
export type ReadinessCheck = () => Promise<unknown>;

export interface OpsServerOptions {
  readonly service: string;
  /** 0 binds an ephemeral port; the bound one is logged (`ops server listening`, `port`). */
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** How long one readiness check may take before it counts as failed (default 1000 ms). */
  readonly checkTimeoutMs?: number;
}

export interface OpsServer {
  readonly port: number;
  /** Sets the readiness checks and ends the starting phase: until then `/readyz` says `starting`. */
  ready(checks: Readonly<Record<string, ReadinessCheck>>): void;
  close(): Promise<void>;
}

interface Verdict {
  readonly ready: boolean;
  readonly failed: string[];
  readonly checks: Record<string, string>;
}

const withTimeout = (check: ReadinessCheck, ms: number): Promise<unknown> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve().then(check),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

const send = (res: ServerResponse, status: number, type: string, body: string): void => {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
};

/**
 * The service's operations port on node:http: `/metrics` (Prometheus text from
 * the registry), `/healthz` (the process answers) and `/readyz` (every readiness
 * check passes; otherwise 503 with a JSON body naming the checks that failed).
 */
export const startOpsServer = async (options: OpsServerOptions): Promise<OpsServer> => {
  const timeoutMs = options.checkTimeoutMs ?? 1000;
  let checks: Readonly<Record<string, ReadinessCheck>> | undefined;

  const readiness = async (): Promise<Verdict> => {
    if (checks === undefined)
      return {
        ready: false,
        failed: ['starting'],
        checks: { starting: 'the service is starting' },
      };
    const entries = Object.entries(checks);
    const results = await Promise.allSettled(entries.map(([, c]) => withTimeout(c, timeoutMs)));
    const verdict: Verdict = { ready: true, failed: [], checks: {} };
    results.forEach((result, i) => {
      const name = (entries[i] as [string, ReadinessCheck])[0];
      if (result.status === 'fulfilled') verdict.checks[name] = 'ok';
      else {
        verdict.failed.push(name);
        const reason: unknown = result.reason;
        verdict.checks[name] = reason instanceof Error ? reason.message : String(reason);
      }
    });
    return { ...verdict, ready: verdict.failed.length === 0 };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain', 'only GET\n');
    if (path === '/healthz')
      return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      const verdict = await readiness();
      return send(res, verdict.ready ? 200 : 503, 'application/json', JSON.stringify(verdict));
    }
    if (path === '/metrics')
      return send(res, 200, options.registry.contentType, await options.registry.metrics());
    return send(res, 404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger.warn(
        { err: error instanceof Error ? error.message : String(error), url: req.url },
        'ops request failed',
      );
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: Error) =>
      reject(
        new Error(
          `${options.service}: cannot listen on port ${options.port} for /metrics, /healthz and /readyz: ${error.message}`,
        ),
      ),
    );
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'ops server listening');
  return {
    port,
    ready: (given) => {
      checks = given;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
