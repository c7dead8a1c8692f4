import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { AttemptResult } from '@broker/domain';
import { connectRefusal, guardedLookup, refusalOf } from './target-guard.js';

export interface SendOptions {
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

const retryAfterMs = (response: IncomingMessage, now: number): number | undefined => {
  const header = response.headers['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

/**
 * One POST of a webhook: bounded by `timeoutMs` from connect to the end of the
 * response, redirects not followed, private targets refused at connect time.
 */
export const sendWebhook = (
  url: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<AttemptResult> =>
  new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ kind: 'error', error: 'the webhook URL is not a URL' });
      return;
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivate && isIP(host) !== 0) {
      const refusal = refusalOf(host);
      if (refusal !== null) {
        resolve({ kind: 'error', error: connectRefusal(host, host, refusal) });
        return;
      }
    }
    let settled = false;
    const finish = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'oauth-token-broker-alerting',
        ...headers,
      },
      ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
    });
    const deadline = setTimeout(() => {
      req.destroy();
      finish({ kind: 'error', error: `timed out after ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    req.on('response', (response) => {
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) response.destroy();
      });
      const done = () =>
        finish({
          kind: 'response',
          status: response.statusCode ?? 0,
          ...(() => {
            const wait = retryAfterMs(response, Date.now());
            return wait === undefined ? {} : { retryAfterMs: wait };
          })(),
        });
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({
        kind: 'error',
        error: error.code === undefined ? error.message : `${error.code}: ${error.message}`,
      }),
    );
    req.end(body);
  });
