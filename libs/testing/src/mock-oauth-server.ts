import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a client authenticates at the token endpoint (RFC 6749 §2.3). */
export type MockClientAuth = 'body' | 'basic' | 'none';

export interface MockOAuthClient {
  readonly id: string;
  readonly secret?: string;
  /** Accepted authentication method(s): one, or a list of which any will do. */
  readonly auth: MockClientAuth | readonly MockClientAuth[];
}

export type MockBodyFormat = 'form' | 'json';

/** Switches of the server, settable at any time (`server.behaviour.x = …` or `setBehaviour`). */
export interface MockOAuthBehaviour {
  /** A refresh returns a new refresh token and invalidates the presented one (default true). */
  rotate: boolean;
  /** A refresh answers without `refresh_token`, and then does not rotate (default false). */
  omitRefreshToken: boolean;
  /** Lifetime of access tokens issued from now on (default 3600). */
  accessTtlSeconds: number;
  /** Delay before a token request is processed and answered (default 0). */
  latencyMs: number;
  /** Token requests are never answered (default false). */
  hang: boolean;
  /**
   * Token requests that succeed commit their new tokens (rotation included), then the
   * socket is destroyed without an answer (default false).
   */
  dropAfterCommit: boolean;
  /** The `error` answered when a rotated refresh token is presented again. */
  reuseError: 'invalid_grant' | 'refresh_token_reused';
  /** GET /authorize redirects with `error=access_denied` instead of a code (default false). */
  denyAuthorization: boolean;
  /** New device authorizations start approved (default false). */
  autoApproveDevice: boolean;
  /** `interval` of new device authorizations, enforced with `slow_down` (default 1; 0 = none). */
  deviceIntervalSeconds: number;
  /** How much a `slow_down` raises that device code's interval (default 5, as RFC 8628). */
  deviceSlowDownIncrementSeconds: number;
  /** `expires_in` of new device authorizations (default 600). */
  deviceExpiresInSeconds: number;
}

export interface MockOAuthServerOptions {
  /** Default: one client `test-client` / `test-secret` accepting `body` or `basic`. */
  readonly clients?: readonly MockOAuthClient[];
  readonly reuseError?: 'invalid_grant' | 'refresh_token_reused';
  readonly behaviour?: Partial<MockOAuthBehaviour>;
  /** /authorize insists on an S256 `code_challenge` (default true). */
  readonly requirePkce?: boolean;
  readonly authorizationCodeTtlSeconds?: number;
  /** Clock for token expiry and request timestamps (default `Date.now`). */
  readonly now?: () => number;
  /** Port on 127.0.0.1 (default 0: any free port). */
  readonly port?: number;
}

export interface IssuedGrant {
  readonly refreshToken: string;
  readonly accessToken: string;
  /** Expiry of the access token, epoch milliseconds. */
  readonly expiresAt: number;
}

export interface IssueGrantOptions {
  readonly accessTtlSeconds?: number;
  readonly scope?: string;
  /** Binds the grant to this client; unbound grants refresh for any authenticated client. */
  readonly clientId?: string;
}

export interface MockRefreshRequest {
  readonly refreshToken: string;
  readonly at: number;
  readonly bodyFormat: MockBodyFormat;
  /** The client id the request claimed (Basic header or body), authenticated or not. */
  readonly clientId?: string;
}

export interface MockTokenRequest {
  readonly at: number;
  readonly bodyFormat: MockBodyFormat;
  readonly grantType?: string;
  readonly clientId?: string;
  /** How the request presented its client, when it did. */
  readonly clientAuth?: MockClientAuth;
  /** The HTTP status answered; undefined while pending, for hung and dropped requests. */
  status?: number;
  /** The OAuth `error` answered, if any. */
  error?: string;
  /** True when the tokens were committed and the connection destroyed unanswered. */
  dropped?: boolean;
}

export interface MockAuthorizeRequest {
  readonly at: number;
  readonly clientId?: string;
  readonly redirectUri?: string;
  readonly state?: string;
  readonly scope?: string;
  readonly codeChallenge?: string;
  readonly codeChallengeMethod?: string;
}

export type MockDeviceStatus = 'pending' | 'approved' | 'denied' | 'consumed';

export interface MockDeviceAuthorization {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly clientId: string;
  readonly scope?: string;
  readonly verificationUriComplete: string;
  readonly status: MockDeviceStatus;
  readonly expiresAt: number;
}

export type MockRefreshTokenState = 'active' | 'rotated' | 'revoked' | 'unknown';

type Params = Map<string, string>;
type Json = Record<string, unknown>;

interface Grant {
  readonly id: string;
  readonly clientId?: string;
  readonly scope?: string;
  revoked: boolean;
  current?: string;
}

interface RefreshEntry {
  readonly grant: Grant;
  state: 'active' | 'rotated';
}

interface AccessEntry {
  readonly grant: Grant;
  readonly expiresAt: number;
}

interface CodeEntry {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope?: string;
  readonly codeChallenge?: string;
  readonly expiresAt: number;
  used: boolean;
  grant?: Grant;
}

interface DeviceEntry {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly clientId: string;
  readonly scope?: string;
  readonly codeChallenge?: string;
  readonly expiresAt: number;
  intervalMs: number;
  lastPollAt?: number;
  status: MockDeviceStatus;
  expired: boolean;
}

interface Fault {
  readonly status: number;
  readonly body: string | Json;
  readonly headers?: Record<string, string>;
}

interface ClientOk {
  readonly ok: true;
  readonly client: MockOAuthClient;
}

interface Failure {
  readonly ok: false;
  readonly status: number;
  readonly error: string;
  readonly description?: string;
}

const DEFAULT_CLIENTS: readonly MockOAuthClient[] = [
  { id: 'test-client', secret: 'test-secret', auth: ['body', 'basic'] },
];

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const MAX_BODY = 1024 * 1024;
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
/** Poll gaps this much shorter than the interval are forgiven (timer and network jitter). */
const POLL_TOLERANCE_MS = 50;
/** Token endpoint answers, errors included, are never cached (RFC 6749 §5.1). */
const NO_STORE: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

const token = (prefix: string): string => `${prefix}-${randomBytes(24).toString('base64url')}`;

const s256 = (verifier: string): string =>
  createHash('sha256').update(verifier, 'ascii').digest('base64url');

const sameSecret = (a: string, b: string): boolean => {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
};

const formDecode = (value: string): string => decodeURIComponent(value.replace(/\+/g, ' '));

const normaliseUserCode = (code: string): string => code.toUpperCase().replace(/[^A-Z0-9]/g, '');

const newUserCode = (): string => {
  const bytes = randomBytes(8);
  let code = '';
  for (const byte of bytes) code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
};

const isLoopbackRedirect = (uri: string): boolean => {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'http:' &&
    (parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost') &&
    parsed.hash === '' &&
    parsed.username === '' &&
    parsed.password === ''
  );
};

const isFailure = (value: Json | Failure): value is Failure => value.ok === false;

const fail = (status: number, error: string, description?: string): Failure => ({
  ok: false,
  status,
  error,
  ...(description === undefined ? {} : { description }),
});

/**
 * A real OAuth 2.0 authorization server on 127.0.0.1 for tests, on `node:http` only:
 * refresh-token rotation with strict reuse detection, authorization code + PKCE with
 * loopback redirects, the device authorization grant (RFC 8628), client authentication,
 * form and JSON bodies, and injectable provider failures (5xx, 429, invalid_grant,
 * latency, hangs, answers lost after commit).
 */
export class MockOAuthServer {
  readonly behaviour: MockOAuthBehaviour;
  /** Every refresh-token grant request received, in order, whatever it was answered. */
  readonly refreshRequests: MockRefreshRequest[] = [];
  /** Every token endpoint request received (all grant types), with the answer's status. */
  readonly tokenRequests: MockTokenRequest[] = [];
  /** Every GET /authorize received. */
  readonly authorizeRequests: MockAuthorizeRequest[] = [];
  /** Rotated refresh tokens that were presented again, in order. */
  readonly reusedRefreshTokens: string[] = [];

  private readonly clients: readonly MockOAuthClient[];
  private readonly requirePkce: boolean;
  private readonly codeTtlMs: number;
  private readonly now: () => number;
  private readonly faults: Fault[] = [];
  private dropsPending = 0;
  private grantCount = 0;
  private readonly refreshTokens = new Map<string, RefreshEntry>();
  private readonly accessTokens = new Map<string, AccessEntry>();
  private readonly codes = new Map<string, CodeEntry>();
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly userCodes = new Map<string, DeviceEntry>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    options: MockOAuthServerOptions,
  ) {
    this.clients = options.clients ?? DEFAULT_CLIENTS;
    this.requirePkce = options.requirePkce ?? true;
    this.codeTtlMs = (options.authorizationCodeTtlSeconds ?? 600) * 1000;
    this.now = options.now ?? Date.now;
    this.behaviour = {
      rotate: true,
      omitRefreshToken: false,
      accessTtlSeconds: 3600,
      latencyMs: 0,
      hang: false,
      dropAfterCommit: false,
      reuseError: options.reuseError ?? 'invalid_grant',
      denyAuthorization: false,
      autoApproveDevice: false,
      deviceIntervalSeconds: 1,
      deviceSlowDownIncrementSeconds: 5,
      deviceExpiresInSeconds: 600,
      ...options.behaviour,
    };
  }

  static async start(options: MockOAuthServerOptions = {}): Promise<MockOAuthServer> {
    const server = createServer();
    const mock = new MockOAuthServer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      res.on('error', () => undefined);
      mock.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          mock.json(res, 500, {
            error: 'server_error',
            error_description: error instanceof Error ? error.message : String(error),
          });
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return mock;
  }

  /** Stops listening and destroys every connection, hung requests included. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  get url(): string {
    const address = this.server.address() as AddressInfo | null;
    if (address === null) throw new Error('MockOAuthServer is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  get authorizeUrl(): string {
    return `${this.url}/authorize`;
  }

  get deviceAuthorizationUrl(): string {
    return `${this.url}/device/code`;
  }

  /** The device flow's `verification_uri`; GET with `?user_code=` approves. */
  get verificationUrl(): string {
    return `${this.url}/device`;
  }

  get userinfoUrl(): string {
    return `${this.url}/userinfo`;
  }

  /** True if any rotated refresh token was ever presented again. */
  get reuseDetected(): boolean {
    return this.reusedRefreshTokens.length > 0;
  }

  setBehaviour(changes: Partial<MockOAuthBehaviour>): this {
    Object.assign(this.behaviour, changes);
    return this;
  }

  /** The next `n` token requests (any grant type) answer `status` with `body`. */
  failNext(n: number, status = 503, body?: string | Json): this {
    const answer = body ?? { error: status === 503 ? 'temporarily_unavailable' : 'server_error' };
    for (let i = 0; i < n; i++) this.faults.push({ status, body: answer });
    return this;
  }

  /** The next `n` token requests answer 429 `{"error":"rate_limited"}` with `Retry-After`. */
  rateLimitNext(n: number, retryAfterSeconds = 1): this {
    for (let i = 0; i < n; i++) {
      this.faults.push({
        status: 429,
        body: { error: 'rate_limited' },
        headers: { 'Retry-After': String(retryAfterSeconds) },
      });
    }
    return this;
  }

  /** The next `n` token requests answer 400 invalid_grant (nothing is revoked). */
  invalidGrantNext(n: number): this {
    for (let i = 0; i < n; i++) {
      this.faults.push({
        status: 400,
        body: { error: 'invalid_grant', error_description: 'injected failure' },
      });
    }
    return this;
  }

  /** Like `dropAfterCommit`, for the next `n` successful token requests only. */
  dropAfterCommitNext(n: number): this {
    this.dropsPending += n;
    return this;
  }

  /** Forgets injected failures not yet used (`failNext`, `rateLimitNext`, …). */
  clearFaults(): this {
    this.faults.length = 0;
    this.dropsPending = 0;
    return this;
  }

  /** A new grant (an account) with a fresh refresh token and access token. */
  issueGrant(opts: IssueGrantOptions = {}): IssuedGrant {
    const grant = this.newGrant(opts.clientId, opts.scope);
    const refreshToken = this.newRefreshToken(grant);
    const { accessToken, expiresAt } = this.newAccessToken(
      grant,
      opts.accessTtlSeconds ?? this.behaviour.accessTtlSeconds,
    );
    return { refreshToken, accessToken, expiresAt };
  }

  /** Revokes the grant the refresh token (current or rotated) belongs to; false if unknown. */
  revokeGrant(refreshToken: string): boolean {
    const entry = this.refreshTokens.get(refreshToken);
    if (entry === undefined) return false;
    entry.grant.revoked = true;
    return true;
  }

  /** Whether the access token was issued here, is unexpired and its grant not revoked. */
  validAccessToken(accessToken: string): boolean {
    const entry = this.accessTokens.get(accessToken);
    return entry !== undefined && !entry.grant.revoked && this.now() < entry.expiresAt;
  }

  /** Every refresh token this server ever issued (current and rotated), e.g. as canaries. */
  get issuedRefreshTokens(): readonly string[] {
    return [...this.refreshTokens.keys()];
  }

  /** When an access token issued here expires (epoch ms), or undefined if it was not issued here. */
  accessTokenExpiresAt(accessToken: string): number | undefined {
    return this.accessTokens.get(accessToken)?.expiresAt;
  }

  refreshTokenState(refreshToken: string): MockRefreshTokenState {
    const entry = this.refreshTokens.get(refreshToken);
    if (entry === undefined) return 'unknown';
    return entry.grant.revoked ? 'revoked' : entry.state;
  }

  /** Every access and refresh token this server has issued: canaries for tests that look for leaks. */
  get issuedTokens(): readonly string[] {
    return [...this.accessTokens.keys(), ...this.refreshTokens.keys()];
  }

  /** The live refresh token of the grant `refreshToken` belongs to (undefined if revoked). */
  currentRefreshToken(refreshToken: string): string | undefined {
    const entry = this.refreshTokens.get(refreshToken);
    return entry === undefined || entry.grant.revoked ? undefined : entry.grant.current;
  }

  get deviceAuthorizations(): readonly MockDeviceAuthorization[] {
    return [...this.devices.values()].map((d) => ({
      deviceCode: d.deviceCode,
      userCode: d.userCode,
      clientId: d.clientId,
      ...(d.scope === undefined ? {} : { scope: d.scope }),
      verificationUriComplete: this.verificationUriComplete(d.userCode),
      status: d.status,
      expiresAt: d.expiresAt,
    }));
  }

  /** The user approves the device authorization (case and hyphens in the code don't matter). */
  approveDevice(userCode: string): void {
    const entry = this.deviceByUserCode(userCode);
    if (entry.status === 'pending') entry.status = 'approved';
  }

  /** The user denies it: polls answer `access_denied`. */
  denyDevice(userCode: string): void {
    const entry = this.deviceByUserCode(userCode);
    if (entry.status === 'pending' || entry.status === 'approved') entry.status = 'denied';
  }

  /** Makes it expire now: polls answer `expired_token`. */
  expireDevice(userCode: string): void {
    this.deviceByUserCode(userCode).expired = true;
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = (methods: readonly string[]): boolean => {
      if (methods.includes(req.method ?? '')) return true;
      res.setHeader('Allow', methods.join(', '));
      this.json(res, 405, { error: 'invalid_request', error_description: 'method not allowed' });
      return false;
    };
    switch (url.pathname) {
      case '/token':
        if (route(['POST'])) await this.token(req, res);
        return;
      case '/authorize':
        if (route(['GET'])) this.authorize(url, res);
        return;
      case '/device/code':
        if (route(['POST'])) await this.deviceCode(req, res);
        return;
      case '/device':
        if (route(['GET'])) this.deviceVerification(url, res);
        return;
      case '/userinfo':
        if (route(['GET', 'POST'])) this.userinfo(req, res);
        return;
      default:
        this.json(res, 404, { error: 'not_found' });
    }
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = this.now();
    const parsed = await this.readParams(req);
    if (!parsed.ok) {
      this.json(res, parsed.status, this.errorBody(parsed), true);
      return;
    }
    const { params, format } = parsed;
    const grantType = params.get('grant_type');
    const claimed = this.claimedClient(req, params);
    const record: MockTokenRequest = {
      at,
      bodyFormat: format,
      ...(grantType === undefined ? {} : { grantType }),
      ...(claimed.id === undefined ? {} : { clientId: claimed.id }),
      ...(claimed.auth === undefined ? {} : { clientAuth: claimed.auth }),
    };
    this.tokenRequests.push(record);
    if (grantType === 'refresh_token') {
      this.refreshRequests.push({
        refreshToken: params.get('refresh_token') ?? '',
        at,
        bodyFormat: format,
        ...(claimed.id === undefined ? {} : { clientId: claimed.id }),
      });
    }

    if (this.behaviour.hang) return; // never answered; close() destroys the connection
    if (this.behaviour.latencyMs > 0) await this.sleep(this.behaviour.latencyMs);
    if (this.closed) return;

    const answer = (status: number, body: string | Json, headers?: Record<string, string>) => {
      record.status = status;
      if (typeof body === 'object' && typeof body.error === 'string') record.error = body.error;
      this.send(res, status, body, { ...headers, ...NO_STORE });
    };
    const refuse = (failure: Failure) => answer(failure.status, this.errorBody(failure));

    const fault = this.faults.shift();
    if (fault !== undefined) {
      answer(fault.status, fault.body, fault.headers);
      return;
    }

    const auth = this.authenticate(req, params);
    if (!auth.ok) {
      refuse(auth);
      return;
    }

    let result: Json | Failure;
    switch (grantType) {
      case undefined:
        result = fail(400, 'invalid_request', 'grant_type is required');
        break;
      case 'refresh_token':
        result = this.refreshGrant(params, auth.client);
        break;
      case 'authorization_code':
        result = this.codeGrant(params, auth.client);
        break;
      case DEVICE_GRANT:
        result = this.deviceGrant(params, auth.client);
        break;
      default:
        result = fail(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
    }
    if (isFailure(result)) {
      refuse(result);
      return;
    }
    if (this.behaviour.dropAfterCommit || this.dropsPending > 0) {
      if (!this.behaviour.dropAfterCommit) this.dropsPending--;
      record.dropped = true;
      req.socket.destroy();
      return;
    }
    answer(200, result);
  }

  private refreshGrant(params: Params, client: MockOAuthClient): Json | Failure {
    const presented = params.get('refresh_token');
    if (presented === undefined || presented === '') {
      return fail(400, 'invalid_request', 'refresh_token is required');
    }
    const entry = this.refreshTokens.get(presented);
    if (entry === undefined) return fail(400, 'invalid_grant', 'unknown refresh token');
    const grant = entry.grant;
    if (entry.state === 'rotated') {
      this.reusedRefreshTokens.push(presented);
      grant.revoked = true;
      return fail(400, this.behaviour.reuseError, 'refresh token reused');
    }
    if (grant.revoked) return fail(400, 'invalid_grant', 'refresh token revoked');
    if (grant.clientId !== undefined && grant.clientId !== client.id) {
      return fail(400, 'invalid_grant', 'refresh token was issued to another client');
    }
    const scope = this.narrowScope(grant, params.get('scope'));
    if (typeof scope === 'object') return scope;

    let refreshToken: string | undefined;
    if (!this.behaviour.omitRefreshToken) {
      if (this.behaviour.rotate) {
        entry.state = 'rotated';
        refreshToken = this.newRefreshToken(grant);
      } else {
        refreshToken = presented;
      }
    }
    const { accessToken } = this.newAccessToken(grant, this.behaviour.accessTtlSeconds);
    return this.tokenResponse(accessToken, refreshToken, scope);
  }

  private codeGrant(params: Params, client: MockOAuthClient): Json | Failure {
    const code = params.get('code');
    if (code === undefined || code === '') return fail(400, 'invalid_request', 'code is required');
    const entry = this.codes.get(code);
    if (entry === undefined) return fail(400, 'invalid_grant', 'unknown authorization code');
    if (entry.used) {
      // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for.
      if (entry.grant !== undefined) entry.grant.revoked = true;
      return fail(400, 'invalid_grant', 'authorization code already used');
    }
    entry.used = true; // any attempt burns the code, a failed one included
    if (this.now() >= entry.expiresAt) {
      return fail(400, 'invalid_grant', 'authorization code expired');
    }
    if (entry.clientId !== client.id) {
      return fail(400, 'invalid_grant', 'authorization code was issued to another client');
    }
    if (params.get('redirect_uri') !== entry.redirectUri) {
      return fail(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    }
    const pkce = this.verifyPkce(entry.codeChallenge, params.get('code_verifier'));
    if (pkce !== undefined) return pkce;
    const grant = this.newGrant(client.id, entry.scope);
    entry.grant = grant;
    return this.initialTokens(grant);
  }

  private deviceGrant(params: Params, client: MockOAuthClient): Json | Failure {
    const code = params.get('device_code');
    if (code === undefined || code === '') {
      return fail(400, 'invalid_request', 'device_code is required');
    }
    const entry = this.devices.get(code);
    if (entry === undefined) return fail(400, 'invalid_grant', 'unknown device code');
    if (entry.clientId !== client.id) {
      return fail(400, 'invalid_grant', 'device code was issued to another client');
    }
    if (entry.status === 'consumed') return fail(400, 'invalid_grant', 'device code already used');
    const now = this.now();
    if (entry.expired || now >= entry.expiresAt) {
      return fail(400, 'expired_token', 'device code expired');
    }
    const last = entry.lastPollAt;
    entry.lastPollAt = now;
    if (last !== undefined && now - last + POLL_TOLERANCE_MS < entry.intervalMs) {
      entry.intervalMs += this.behaviour.deviceSlowDownIncrementSeconds * 1000;
      return fail(400, 'slow_down', 'polling too fast');
    }
    if (entry.status === 'denied') return fail(400, 'access_denied', 'the user denied access');
    if (entry.status === 'pending') return fail(400, 'authorization_pending');
    entry.status = 'consumed';
    const pkce = this.verifyPkce(entry.codeChallenge, params.get('code_verifier'));
    if (pkce !== undefined) return pkce;
    return this.initialTokens(this.newGrant(client.id, entry.scope));
  }

  private authorize(url: URL, res: ServerResponse): void {
    const q = (name: string): string | undefined => url.searchParams.get(name) ?? undefined;
    const clientId = q('client_id');
    const redirectUri = q('redirect_uri');
    const state = q('state');
    const scope = q('scope');
    const challenge = q('code_challenge');
    const method = q('code_challenge_method');
    this.authorizeRequests.push({
      at: this.now(),
      ...(clientId === undefined ? {} : { clientId }),
      ...(redirectUri === undefined ? {} : { redirectUri }),
      ...(state === undefined ? {} : { state }),
      ...(scope === undefined ? {} : { scope }),
      ...(challenge === undefined ? {} : { codeChallenge: challenge }),
      ...(method === undefined ? {} : { codeChallengeMethod: method }),
    });

    // Errors about the client or the redirect are shown, never redirected (RFC 6749 §4.1.2.1).
    if (clientId === undefined || !this.clients.some((c) => c.id === clientId)) {
      this.json(res, 400, { error: 'invalid_request', error_description: 'unknown client_id' });
      return;
    }
    if (redirectUri === undefined || !isLoopbackRedirect(redirectUri)) {
      this.json(res, 400, {
        error: 'invalid_request',
        error_description:
          'redirect_uri must be http://127.0.0.1:<port> or http://localhost:<port>',
      });
      return;
    }
    const redirect = (values: Record<string, string>) => {
      const target = new URL(redirectUri);
      for (const [k, v] of Object.entries(values)) target.searchParams.set(k, v);
      if (state !== undefined) target.searchParams.set('state', state);
      res.writeHead(302, { Location: target.toString(), 'Cache-Control': 'no-store' });
      res.end();
    };
    const refuse = (error: string, description: string) =>
      redirect({ error, error_description: description });

    if (q('response_type') !== 'code') {
      refuse('unsupported_response_type', 'response_type must be code');
      return;
    }
    if (challenge === undefined) {
      if (this.requirePkce) {
        refuse('invalid_request', 'code_challenge is required');
        return;
      }
    } else if (method !== 'S256') {
      refuse('invalid_request', 'code_challenge_method must be S256');
      return;
    } else if (!CHALLENGE.test(challenge)) {
      refuse('invalid_request', 'code_challenge is malformed');
      return;
    }
    if (this.behaviour.denyAuthorization) {
      refuse('access_denied', 'the user denied access');
      return;
    }
    const code = token('ac');
    this.codes.set(code, {
      clientId,
      redirectUri,
      ...(scope === undefined ? {} : { scope }),
      ...(challenge === undefined ? {} : { codeChallenge: challenge }),
      expiresAt: this.now() + this.codeTtlMs,
      used: false,
    });
    redirect({ code });
  }

  private async deviceCode(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = await this.readParams(req);
    if (!parsed.ok) {
      this.json(res, parsed.status, this.errorBody(parsed), true);
      return;
    }
    const { params } = parsed;
    // Public clients (Qwen) send only client_id here; any credentials sent must be right.
    const claimed = this.claimedClient(req, params);
    const client = this.clients.find((c) => c.id === claimed.id);
    if (client === undefined) {
      this.json(res, 401, { error: 'invalid_client', error_description: 'unknown client' }, true);
      return;
    }
    if (claimed.auth === 'basic' || claimed.auth === 'body') {
      const auth = this.authenticate(req, params);
      if (!auth.ok) {
        this.json(res, auth.status, this.errorBody(auth), true);
        return;
      }
    }
    const challenge = params.get('code_challenge');
    if (challenge !== undefined) {
      if (params.get('code_challenge_method') !== 'S256' || !CHALLENGE.test(challenge)) {
        this.json(
          res,
          400,
          { error: 'invalid_request', error_description: 'code_challenge must be S256' },
          true,
        );
        return;
      }
    }
    const scope = params.get('scope');
    let userCode = newUserCode();
    while (this.userCodes.has(normaliseUserCode(userCode))) userCode = newUserCode();
    const b = this.behaviour;
    const entry: DeviceEntry = {
      deviceCode: token('dc'),
      userCode,
      clientId: client.id,
      ...(scope === undefined ? {} : { scope }),
      ...(challenge === undefined ? {} : { codeChallenge: challenge }),
      expiresAt: this.now() + b.deviceExpiresInSeconds * 1000,
      intervalMs: b.deviceIntervalSeconds * 1000,
      status: b.autoApproveDevice ? 'approved' : 'pending',
      expired: false,
    };
    this.devices.set(entry.deviceCode, entry);
    this.userCodes.set(normaliseUserCode(userCode), entry);
    this.json(
      res,
      200,
      {
        device_code: entry.deviceCode,
        user_code: userCode,
        verification_uri: this.verificationUrl,
        verification_uri_complete: this.verificationUriComplete(userCode),
        expires_in: b.deviceExpiresInSeconds,
        interval: b.deviceIntervalSeconds,
      },
      true,
    );
  }

  /** The user opening `verification_uri_complete`: approves without any UI. */
  private deviceVerification(url: URL, res: ServerResponse): void {
    const userCode = url.searchParams.get('user_code');
    const entry = userCode === null ? undefined : this.userCodes.get(normaliseUserCode(userCode));
    const page = (status: number, text: string) => {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Device</title><p>${text}</p>`);
    };
    if (entry === undefined) {
      page(userCode === null ? 400 : 404, 'Unknown or missing user code.');
      return;
    }
    if (entry.expired || this.now() >= entry.expiresAt) {
      page(400, 'This code has expired.');
      return;
    }
    if (entry.status === 'pending') entry.status = 'approved';
    page(200, 'Device approved. You can close this window.');
  }

  private userinfo(req: IncomingMessage, res: ServerResponse): void {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const accessToken = match?.[1];
    if (accessToken === undefined || !this.validAccessToken(accessToken)) {
      res.setHeader(
        'WWW-Authenticate',
        accessToken === undefined ? 'Bearer' : 'Bearer error="invalid_token"',
      );
      this.json(res, 401, { error: 'invalid_token' });
      return;
    }
    const grant = (this.accessTokens.get(accessToken) as AccessEntry).grant;
    this.json(res, 200, {
      sub: grant.id,
      ...(grant.clientId === undefined ? {} : { client_id: grant.clientId }),
      ...(grant.scope === undefined ? {} : { scope: grant.scope }),
    });
  }

  // ---------------------------------------------------------------- helpers

  private claimedClient(
    req: IncomingMessage,
    params: Params,
  ): { id?: string; secret?: string; auth?: MockClientAuth; malformed?: boolean } {
    const header = req.headers.authorization;
    if (header !== undefined && /^basic\s/i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { auth: 'basic', malformed: true };
      try {
        return {
          id: formDecode(decoded.slice(0, colon)),
          secret: formDecode(decoded.slice(colon + 1)),
          auth: 'basic',
        };
      } catch {
        return { auth: 'basic', malformed: true };
      }
    }
    const id = params.get('client_id');
    const secret = params.get('client_secret');
    if (secret !== undefined) return { ...(id === undefined ? {} : { id }), secret, auth: 'body' };
    return id === undefined ? {} : { id, auth: 'none' };
  }

  private authenticate(req: IncomingMessage, params: Params): ClientOk | Failure {
    const claimed = this.claimedClient(req, params);
    if (claimed.auth === undefined) {
      return fail(401, 'invalid_client', 'client authentication is required');
    }
    if (claimed.malformed === true || claimed.id === undefined) {
      return fail(401, 'invalid_client', 'malformed client credentials');
    }
    if (claimed.auth === 'basic') {
      if (params.has('client_secret')) {
        return fail(400, 'invalid_request', 'more than one client authentication method');
      }
      const bodyId = params.get('client_id');
      if (bodyId !== undefined && bodyId !== claimed.id) {
        return fail(401, 'invalid_client', 'client_id does not match the Authorization header');
      }
    }
    const client = this.clients.find((c) => c.id === claimed.id);
    if (client === undefined) return fail(401, 'invalid_client', 'unknown client');
    const allowed: readonly MockClientAuth[] =
      typeof client.auth === 'string' ? [client.auth] : client.auth;
    if (!allowed.includes(claimed.auth)) {
      return fail(401, 'invalid_client', `client authentication '${claimed.auth}' not allowed`);
    }
    if (claimed.auth !== 'none') {
      if (
        client.secret === undefined ||
        claimed.secret === undefined ||
        !sameSecret(claimed.secret, client.secret)
      ) {
        return fail(401, 'invalid_client', 'client authentication failed');
      }
    }
    return { ok: true, client };
  }

  private verifyPkce(
    challenge: string | undefined,
    verifier: string | undefined,
  ): Failure | undefined {
    if (challenge === undefined) {
      return verifier === undefined
        ? undefined
        : fail(400, 'invalid_grant', 'code_verifier sent without a code_challenge');
    }
    if (verifier === undefined) return fail(400, 'invalid_grant', 'code_verifier is required');
    if (!VERIFIER.test(verifier) || s256(verifier) !== challenge) {
      return fail(400, 'invalid_grant', 'PKCE verification failed');
    }
    return undefined;
  }

  private narrowScope(grant: Grant, requested: string | undefined): string | Failure | undefined {
    if (requested === undefined || requested === '') return grant.scope;
    if (grant.scope === undefined) return requested;
    const granted = new Set(grant.scope.split(/\s+/));
    const wanted = requested.split(/\s+/).filter((s) => s !== '');
    if (wanted.some((s) => !granted.has(s))) {
      return fail(400, 'invalid_scope', 'requested scope exceeds the grant');
    }
    return wanted.join(' ');
  }

  private newGrant(clientId: string | undefined, scope: string | undefined): Grant {
    this.grantCount += 1;
    return {
      id: `grant-${this.grantCount}`,
      ...(clientId === undefined ? {} : { clientId }),
      ...(scope === undefined || scope === '' ? {} : { scope }),
      revoked: false,
    };
  }

  private newRefreshToken(grant: Grant): string {
    const refreshToken = token('rt');
    this.refreshTokens.set(refreshToken, { grant, state: 'active' });
    grant.current = refreshToken;
    return refreshToken;
  }

  private newAccessToken(
    grant: Grant,
    ttlSeconds: number,
  ): { accessToken: string; expiresAt: number } {
    const accessToken = token('at');
    const expiresAt = this.now() + ttlSeconds * 1000;
    this.accessTokens.set(accessToken, { grant, expiresAt });
    return { accessToken, expiresAt };
  }

  private initialTokens(grant: Grant): Json {
    const refreshToken = this.newRefreshToken(grant);
    const { accessToken } = this.newAccessToken(grant, this.behaviour.accessTtlSeconds);
    return this.tokenResponse(accessToken, refreshToken, grant.scope);
  }

  private tokenResponse(
    accessToken: string,
    refreshToken: string | undefined,
    scope: string | undefined,
  ): Json {
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.behaviour.accessTtlSeconds,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      ...(scope === undefined ? {} : { scope }),
    };
  }

  private deviceByUserCode(userCode: string): DeviceEntry {
    const entry = this.userCodes.get(normaliseUserCode(userCode));
    if (entry === undefined) throw new Error(`MockOAuthServer: unknown user code ${userCode}`);
    return entry;
  }

  private verificationUriComplete(userCode: string): string {
    return `${this.verificationUrl}?user_code=${encodeURIComponent(userCode)}`;
  }

  private async readParams(
    req: IncomingMessage,
  ): Promise<{ ok: true; params: Params; format: MockBodyFormat } | Failure> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return fail(413, 'invalid_request', 'request body too large');
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const params: Params = new Map();
    if (type === 'application/x-www-form-urlencoded') {
      for (const [key, value] of new URLSearchParams(body)) {
        if (params.has(key)) return fail(400, 'invalid_request', `parameter ${key} repeated`);
        params.set(key, value);
      }
      return { ok: true, params, format: 'form' };
    }
    if (type === 'application/json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return fail(400, 'invalid_request', 'malformed JSON body');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return fail(400, 'invalid_request', 'JSON body must be an object');
      }
      for (const [key, value] of Object.entries(parsed as Json)) {
        if (value === null || value === undefined) continue;
        if (typeof value === 'string') params.set(key, value);
        else if (typeof value === 'number' || typeof value === 'boolean') {
          params.set(key, String(value));
        } else return fail(400, 'invalid_request', `parameter ${key} must be a string`);
      }
      return { ok: true, params, format: 'json' };
    }
    return fail(
      400,
      'invalid_request',
      'Content-Type must be application/x-www-form-urlencoded or application/json',
    );
  }

  private errorBody(failure: Failure): Json {
    return {
      error: failure.error,
      ...(failure.description === undefined ? {} : { error_description: failure.description }),
    };
  }

  private json(res: ServerResponse, status: number, body: Json, noStore = false): void {
    this.send(res, status, body, noStore ? NO_STORE : {});
  }

  private send(
    res: ServerResponse,
    status: number,
    body: string | Json,
    headers: Record<string, string>,
  ): void {
    if (res.destroyed || res.writableEnded) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type':
        typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}
