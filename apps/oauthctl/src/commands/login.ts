import { spawn } from 'node:child_process';
import { InvalidArgumentError } from 'commander';
import { createServer, type Server } from 'node:http';
import * as oauth from 'oauth4webapi';
import {
  authorizationServerOf,
  clientAuthFor,
  clientOf,
  requestOptions,
  ProviderRegistry,
  type ProviderDefinition,
} from '@broker/providers';
import { JSON_HELP, type Register } from '../cli/context.js';
import { UsageError } from '../cli/exit-codes.js';
import type { BrokerClient } from '../cli/broker-client.js';
import type { Output } from '../cli/output.js';

export interface LoginOptions {
  readonly id?: string;
  readonly pool?: string;
  readonly label?: string;
  readonly port: number;
  readonly browser: boolean;
  readonly timeoutMs: number;
}

interface Tokens {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly expiresInSeconds?: number;
  readonly scopes: string[];
}

const tokensOf = (response: oauth.TokenEndpointResponse, requested: readonly string[]): Tokens => ({
  accessToken: response.access_token,
  ...(typeof response.refresh_token === 'string' ? { refreshToken: response.refresh_token } : {}),
  ...(typeof response.expires_in === 'number' ? { expiresInSeconds: response.expires_in } : {}),
  scopes:
    typeof response.scope === 'string'
      ? response.scope.split(/\s+/).filter((s) => s !== '')
      : [...requested],
});

const openBrowser = (url: string): void => {
  const child = spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [url], {
    stdio: 'ignore',
    detached: true,
  });
  child.on('error', () => undefined); // no browser here: the printed URL is the way
  child.unref();
};

/** Waits for the provider to redirect the browser back to our loopback listener. */
const awaitCallback = (server: Server, path: string, timeoutMs: number): Promise<URL> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no sign-in within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== path) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Signed in. You can close this window and return to the terminal.\n');
      clearTimeout(timer);
      resolve(url);
    });
  });

/** Authorization code with PKCE on a loopback redirect (RFC 8252). */
const codeFlow = async (
  provider: ProviderDefinition,
  options: LoginOptions,
  print: (l: string) => void,
): Promise<Tokens> => {
  if (provider.authorizeUrl === undefined)
    throw new Error(`${provider.name} has no authorizeUrl for a browser login`);
  const as = authorizationServerOf(provider);
  const client = clientOf(provider);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const path = provider.redirectPath ?? '/callback';
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const redirectUri = `http://127.0.0.1:${port}${path}`;
    const url = new URL(provider.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('scope', provider.scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    // Google issues a refresh token only when asked for offline access with consent.
    url.searchParams.set('access_type', 'offline');
    url.searchParams.set('prompt', 'consent');
    print(`Open this URL to sign in:\n${url.toString()}`);
    if (options.browser) openBrowser(url.toString());
    const callback = await awaitCallback(server, path, options.timeoutMs);
    const params = oauth.validateAuthResponse(as, client, callback.searchParams, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuthFor(provider, provider.clientSecret),
      params,
      redirectUri,
      verifier,
      requestOptions(provider),
    );
    return tokensOf(
      await oauth.processAuthorizationCodeResponse(as, client, response),
      provider.scopes,
    );
  } finally {
    server.close();
  }
};

/** Device authorization grant (RFC 8628), with PKCE as Qwen Code sends it. */
const deviceFlow = async (
  provider: ProviderDefinition,
  options: LoginOptions,
  print: (l: string) => void,
): Promise<Tokens> => {
  const as = authorizationServerOf(provider);
  const client = clientOf(provider);
  const auth = clientAuthFor(provider, provider.clientSecret);
  const verifier = oauth.generateRandomCodeVerifier();
  const started = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(
      as,
      client,
      auth,
      {
        scope: provider.scopes.join(' '),
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      },
      requestOptions(provider),
    ),
  );
  const where = started.verification_uri_complete ?? started.verification_uri;
  print(`Open this URL and confirm the code ${started.user_code}:\n${where}`);
  if (options.browser) openBrowser(where);
  let interval = (started.interval ?? 5) * 1000;
  const deadline = Date.now() + Math.min(options.timeoutMs, started.expires_in * 1000);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, interval));
    try {
      const response = await oauth.deviceCodeGrantRequest(as, client, auth, started.device_code, {
        ...requestOptions(provider),
        additionalParameters: { code_verifier: verifier },
      });
      return tokensOf(await oauth.processDeviceCodeResponse(as, client, response), provider.scopes);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === 'authorization_pending')
        continue;
      if (error instanceof oauth.ResponseBodyError && error.error === 'slow_down') {
        interval += 5000;
        continue;
      }
      throw error;
    }
  }
  throw new Error('the device code expired before the sign-in was confirmed');
};

/** Signs in to the provider and adds the account to the broker. */
export const login = async (
  broker: BrokerClient,
  provider: ProviderDefinition,
  options: LoginOptions,
  out: Output,
): Promise<void> => {
  // Prompts go where a person reads them; with --json only the result is on standard output.
  const print = (line: string) => (out.json ? out.note(line) : out.line(line));
  const useDevice =
    provider.authorizeUrl === undefined && provider.deviceAuthorizationUrl !== undefined;
  const tokens = useDevice
    ? await deviceFlow(provider, options, print)
    : await codeFlow(provider, options, print);
  if (tokens.refreshToken === undefined) {
    print('[warn] the provider returned no refresh token: this account cannot be refreshed');
  }
  const reply = await broker.call('credentials.add', {
    provider: provider.name,
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.pool === undefined ? {} : { pool: options.pool }),
    ...(options.label === undefined ? {} : { label: options.label }),
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
    expiresAt: Date.now() + (tokens.expiresInSeconds ?? 3600) * 1000,
    scopes: tokens.scopes,
  });
  if (out.json) {
    out.document(reply);
    return;
  }
  out.line(
    `${out.paint('[ok]', 'green')} logged in: added ${reply.credential.id} (${provider.name}, expires ${reply.credential.expiresAt})`,
  );
};

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port');
  return n;
};

const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be whole seconds');
  return n;
};

export const registerLogin: Register = (program, context) => {
  program
    .command('login')
    .description(
      'sign in to a provider (browser with PKCE on a loopback redirect, or device code) and add the account',
    )
    .argument('<provider>', 'provider name, e.g. gemini-cli, anthropic, openai-codex, qwen-code')
    .option('--id <id>', 'credential id')
    .option('--pool <name>', 'pool to add to', 'default')
    .option('--label <text>', 'label shown in listings')
    .option('--port <port>', 'loopback port for the redirect (0: any free port)', port, 0)
    .option('--no-browser', 'only print the URL')
    .option('--timeout <seconds>', 'how long to wait for the sign-in', seconds, 300)
    .option('--json', `${JSON_HELP}; the sign-in prompt goes to standard error`)
    .action(
      async (
        name: string,
        options: Omit<LoginOptions, 'timeoutMs'> & { timeout: number; json?: boolean },
      ) => {
        const provider = new ProviderRegistry(context.config().file.providers).get(name);
        if (provider === undefined) throw new UsageError(`unknown provider '${name}'`);
        const out = context.output(options);
        await context.withBroker((broker) =>
          login(broker, provider, { ...options, timeoutMs: options.timeout * 1000 }, out),
        );
      },
    );
};
