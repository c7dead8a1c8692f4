import { createHash, randomBytes } from 'node:crypto';
import { MockOAuthServer, type MockOAuthServerOptions } from './mock-oauth-server.js';

type Body = Record<string, unknown>;

const CLIENT = { client_id: 'test-client', client_secret: 'test-secret' };
const REDIRECT = 'http://127.0.0.1:53682/callback';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const servers: MockOAuthServer[] = [];
const start = async (options?: MockOAuthServerOptions): Promise<MockOAuthServer> => {
  const server = await MockOAuthServer.start(options);
  servers.push(server);
  return server;
};

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const post = (
  url: string,
  params: Record<string, string>,
  init: { json?: boolean; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': init.json === true ? 'application/json' : 'application/x-www-form-urlencoded',
      ...init.headers,
    },
    body: init.json === true ? JSON.stringify(params) : new URLSearchParams(params).toString(),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });

const answer = async (response: Response): Promise<{ status: number; body: Body }> => ({
  status: response.status,
  body: (await response.json()) as Body,
});

const refresh = async (
  server: MockOAuthServer,
  refreshToken: string,
  json = false,
): Promise<{ status: number; body: Body }> =>
  answer(
    await post(
      server.tokenUrl,
      { grant_type: 'refresh_token', refresh_token: refreshToken, ...CLIENT },
      { json },
    ),
  );

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const pkcePair = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

const userinfoStatus = async (server: MockOAuthServer, accessToken: string): Promise<number> =>
  (await fetch(server.userinfoUrl, { headers: { authorization: `Bearer ${accessToken}` } })).status;

describe('mock oauth server', () => {
  it('mock oauth server - rotation: a refresh returns new tokens and retires the old refresh token', async () => {
    const server = await start();
    const grant = server.issueGrant();
    expect(grant.refreshToken).toMatch(/^rt-/);
    expect(grant.accessToken).toMatch(/^at-/);
    expect(grant.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);

    const response = await post(server.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: grant.refreshToken,
      ...CLIENT,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Body;
    expect(body).toEqual({
      access_token: expect.stringMatching(/^at-/),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^rt-/),
    });
    expect(body['refresh_token']).not.toBe(grant.refreshToken);
    expect(server.refreshTokenState(grant.refreshToken)).toBe('rotated');
    expect(server.refreshTokenState(body['refresh_token'] as string)).toBe('active');
    expect(server.currentRefreshToken(grant.refreshToken)).toBe(body['refresh_token']);
    expect(server.validAccessToken(body['access_token'] as string)).toBe(true);
    expect(server.validAccessToken(grant.accessToken)).toBe(true); // old access tokens live on

    const again = await refresh(server, body['refresh_token'] as string);
    expect(again.status).toBe(200);
    expect(server.reuseDetected).toBe(false);
    expect(server.refreshRequests.map((r) => r.refreshToken)).toEqual([
      grant.refreshToken,
      body['refresh_token'],
    ]);
    expect(server.refreshRequests[0]).toMatchObject({
      bodyFormat: 'form',
      clientId: 'test-client',
    });
  });

  it('mock oauth server - strict reuse detection revokes the whole grant', async () => {
    const server = await start();
    const grant = server.issueGrant();
    const other = server.issueGrant();
    const first = await refresh(server, grant.refreshToken);
    const second = await refresh(server, first.body['refresh_token'] as string);
    expect(second.status).toBe(200);
    expect(server.reuseDetected).toBe(false);

    const reused = await refresh(server, grant.refreshToken);
    expect(reused).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'refresh token reused' },
    });
    expect(server.reuseDetected).toBe(true);
    expect(server.reusedRefreshTokens).toEqual([grant.refreshToken]);

    // Every token of the grant is dead, the newest refresh token included.
    const newest = second.body['refresh_token'] as string;
    expect(server.refreshTokenState(newest)).toBe('revoked');
    expect(await refresh(server, newest)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    for (const token of [
      grant.accessToken,
      first.body['access_token'],
      second.body['access_token'],
    ]) {
      expect(server.validAccessToken(token as string)).toBe(false);
      expect(await userinfoStatus(server, token as string)).toBe(401);
    }
    // Other grants are untouched.
    expect(await userinfoStatus(server, other.accessToken)).toBe(200);
    expect((await refresh(server, other.refreshToken)).status).toBe(200);
  });

  it('mock oauth server - reuseError refresh_token_reused and unknown tokens', async () => {
    const server = await start({ reuseError: 'refresh_token_reused' });
    const grant = server.issueGrant();
    await refresh(server, grant.refreshToken);
    expect(await refresh(server, grant.refreshToken)).toEqual({
      status: 400,
      body: { error: 'refresh_token_reused', error_description: 'refresh token reused' },
    });
    expect(await refresh(server, 'rt-never-issued')).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(server.reusedRefreshTokens).toHaveLength(1);
  });

  it('mock oauth server - omitRefreshToken answers without refresh_token and does not rotate', async () => {
    const server = await start();
    server.behaviour.omitRefreshToken = true;
    server.setBehaviour({ accessTtlSeconds: 120 });
    const grant = server.issueGrant();
    const first = await refresh(server, grant.refreshToken);
    expect(first.status).toBe(200);
    expect(first.body).not.toHaveProperty('refresh_token');
    expect(first.body['expires_in']).toBe(120);
    expect(server.refreshTokenState(grant.refreshToken)).toBe('active');
    expect((await refresh(server, grant.refreshToken)).status).toBe(200);
    expect(server.reuseDetected).toBe(false);
  });

  it('mock oauth server - rotate false returns the same refresh token', async () => {
    const server = await start({ behaviour: { rotate: false } });
    const grant = server.issueGrant();
    const first = await refresh(server, grant.refreshToken);
    expect(first.body['refresh_token']).toBe(grant.refreshToken);
    expect((await refresh(server, grant.refreshToken)).status).toBe(200);
    expect(server.reuseDetected).toBe(false);
  });

  it('mock oauth server - failNext answers 503 twice, then succeeds', async () => {
    const server = await start();
    const grant = server.issueGrant();
    server.failNext(2);
    const one = await refresh(server, grant.refreshToken);
    const two = await refresh(server, grant.refreshToken);
    expect([one.status, two.status]).toEqual([503, 503]);
    const three = await refresh(server, grant.refreshToken);
    expect(three.status).toBe(200);
    expect(server.refreshRequests).toHaveLength(3);
    expect(server.tokenRequests.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(server.reuseDetected).toBe(false);

    server.failNext(1, 502, 'Bad Gateway');
    const proxy = await post(server.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: three.body['refresh_token'] as string,
      ...CLIENT,
    });
    expect(proxy.status).toBe(502);
    expect(await proxy.text()).toBe('Bad Gateway');
  });

  it('mock oauth server - rateLimitNext answers 429 with Retry-After', async () => {
    const server = await start();
    const grant = server.issueGrant();
    server.rateLimitNext(1, 7);
    const response = await post(server.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: grant.refreshToken,
      ...CLIENT,
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({ error: 'rate_limited' });
    expect((await refresh(server, grant.refreshToken)).status).toBe(200);
  });

  it('mock oauth server - invalidGrantNext answers invalid_grant without revoking', async () => {
    const server = await start();
    const grant = server.issueGrant();
    server.invalidGrantNext(1);
    expect(await refresh(server, grant.refreshToken)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect((await refresh(server, grant.refreshToken)).status).toBe(200);
  });

  it('mock oauth server - hang never answers (the client times out), latencyMs delays', async () => {
    const server = await start();
    const grant = server.issueGrant();
    server.behaviour.hang = true;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    await expect(
      post(
        server.tokenUrl,
        { grant_type: 'refresh_token', refresh_token: grant.refreshToken, ...CLIENT },
        { signal: controller.signal },
      ),
    ).rejects.toThrow(/abort/i);
    clearTimeout(timer);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(server.refreshRequests).toHaveLength(1);
    expect(server.refreshTokenState(grant.refreshToken)).toBe('active'); // nothing committed

    server.setBehaviour({ hang: false, latencyMs: 200 });
    const before = Date.now();
    expect((await refresh(server, grant.refreshToken)).status).toBe(200);
    expect(Date.now() - before).toBeGreaterThanOrEqual(180);
  });

  it('mock oauth server - dropAfterCommit rotates, then drops the answer; the old token is reuse', async () => {
    const server = await start();
    const grant = server.issueGrant();
    server.behaviour.dropAfterCommit = true;
    await expect(refresh(server, grant.refreshToken)).rejects.toThrow();
    expect(server.refreshRequests).toHaveLength(1);
    expect(server.tokenRequests[0]?.dropped).toBe(true);
    expect(server.refreshTokenState(grant.refreshToken)).toBe('rotated');
    expect(server.reuseDetected).toBe(false);

    server.behaviour.dropAfterCommit = false;
    expect(await refresh(server, grant.refreshToken)).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'refresh token reused' },
    });
    expect(server.reuseDetected).toBe(true);
    expect(server.currentRefreshToken(grant.refreshToken)).toBeUndefined();

    // The one-shot variant.
    const next = server.issueGrant();
    server.dropAfterCommitNext(1);
    await expect(refresh(server, next.refreshToken)).rejects.toThrow();
    const current = server.currentRefreshToken(next.refreshToken) as string;
    expect((await refresh(server, current)).status).toBe(200);
  });

  it('mock oauth server - client authentication: basic, body, none and invalid_client', async () => {
    const server = await start({
      clients: [
        { id: 'test-client', secret: 'test-secret', auth: ['body', 'basic'] },
        { id: 'basic-only', secret: 's3cret:+/', auth: 'basic' },
        { id: 'public', auth: 'none' },
      ],
    });
    const tokenWith = async (params: Record<string, string>, headers?: Record<string, string>) =>
      answer(
        await post(
          server.tokenUrl,
          {
            grant_type: 'refresh_token',
            refresh_token: server.issueGrant().refreshToken,
            ...params,
          },
          headers === undefined ? {} : { headers },
        ),
      );

    expect(
      (await tokenWith({}, { authorization: basic('test-client', 'test-secret') })).status,
    ).toBe(200);
    expect((await tokenWith({}, { authorization: basic('basic-only', 's3cret:+/') })).status).toBe(
      200,
    );
    expect((await tokenWith(CLIENT)).status).toBe(200);
    expect((await tokenWith({ client_id: 'public' })).status).toBe(200);
    expect(server.tokenRequests.map((r) => r.clientAuth)).toEqual([
      'basic',
      'basic',
      'body',
      'none',
    ]);

    const invalid = { status: 401, body: { error: 'invalid_client' } };
    expect(await tokenWith({ client_id: 'test-client', client_secret: 'wrong' })).toMatchObject(
      invalid,
    );
    expect(await tokenWith({}, { authorization: basic('test-client', 'wrong') })).toMatchObject(
      invalid,
    );
    expect(await tokenWith({ client_id: 'nobody', client_secret: 'x' })).toMatchObject(invalid);
    expect(await tokenWith({})).toMatchObject(invalid); // no client at all
    expect(await tokenWith({ client_id: 'test-client' })).toMatchObject(invalid); // none not allowed
    expect(await tokenWith({ client_id: 'basic-only', client_secret: 's3cret:+/' })).toMatchObject(
      invalid,
    ); // body not allowed
    const response = await post(
      server.tokenUrl,
      { grant_type: 'refresh_token', refresh_token: 'rt-x', ...CLIENT },
      { headers: { authorization: basic('nobody', 'x') } },
    );
    expect(response.status).toBe(400); // two methods at once
  });

  it('mock oauth server - JSON and form bodies are both accepted and recorded', async () => {
    const server = await start();
    const grant = server.issueGrant();
    const viaJson = await refresh(server, grant.refreshToken, true);
    expect(viaJson.status).toBe(200);
    const viaForm = await refresh(server, viaJson.body['refresh_token'] as string, false);
    expect(viaForm.status).toBe(200);
    expect(server.refreshRequests.map((r) => r.bodyFormat)).toEqual(['json', 'form']);
    expect(server.tokenRequests.map((r) => r.bodyFormat)).toEqual(['json', 'form']);

    const wrongType = await fetch(server.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'grant_type=refresh_token',
    });
    expect(await answer(wrongType)).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    const badGrant = await post(server.tokenUrl, { grant_type: 'password', ...CLIENT });
    expect(await answer(badGrant)).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
  });

  it('mock oauth server - userinfo and validAccessToken tell live tokens from dead ones', async () => {
    const server = await start();
    const live = server.issueGrant();
    const expired = server.issueGrant({ accessTtlSeconds: 0 });
    expect(server.validAccessToken(live.accessToken)).toBe(true);
    expect(server.validAccessToken(expired.accessToken)).toBe(false);
    const ok = await fetch(server.userinfoUrl, {
      headers: { authorization: `Bearer ${live.accessToken}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toHaveProperty('sub');
    expect(await userinfoStatus(server, expired.accessToken)).toBe(401);
    expect(await userinfoStatus(server, 'at-made-up')).toBe(401);
    expect((await fetch(server.userinfoUrl)).status).toBe(401);

    expect(server.revokeGrant(live.refreshToken)).toBe(true);
    expect(await userinfoStatus(server, live.accessToken)).toBe(401);
    expect(await refresh(server, live.refreshToken)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  describe('authorization code + PKCE', () => {
    const authorize = async (
      server: MockOAuthServer,
      params: Record<string, string>,
    ): Promise<Response> =>
      fetch(`${server.authorizeUrl}?${new URLSearchParams(params).toString()}`, {
        redirect: 'manual',
      });

    const codeFor = async (server: MockOAuthServer, challenge: string): Promise<string> => {
      const response = await authorize(server, {
        response_type: 'code',
        client_id: 'test-client',
        redirect_uri: REDIRECT,
        state: 'xyz',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        scope: 'openid email',
      });
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location') as string);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(location.searchParams.get('state')).toBe('xyz');
      return location.searchParams.get('code') as string;
    };

    const exchange = async (
      server: MockOAuthServer,
      code: string,
      verifier: string,
      redirectUri = REDIRECT,
    ) =>
      answer(
        await post(server.tokenUrl, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
          ...CLIENT,
        }),
      );

    it('mock oauth server - PKCE: the right verifier gets a new grant, the code is single-use', async () => {
      const server = await start();
      const { verifier, challenge } = pkcePair();
      const code = await codeFor(server, challenge);
      expect(code).toMatch(/^ac-/);
      const tokens = await exchange(server, code, verifier);
      expect(tokens.status).toBe(200);
      expect(tokens.body).toMatchObject({
        access_token: expect.stringMatching(/^at-/),
        refresh_token: expect.stringMatching(/^rt-/),
        token_type: 'Bearer',
        scope: 'openid email',
      });
      expect(server.authorizeRequests[0]).toMatchObject({ state: 'xyz', codeChallenge: challenge });
      const accessToken = tokens.body['access_token'] as string;
      expect(server.validAccessToken(accessToken)).toBe(true);

      // Second use fails and revokes what the code was exchanged for.
      expect(await exchange(server, code, verifier)).toMatchObject({
        status: 400,
        body: { error: 'invalid_grant' },
      });
      expect(server.validAccessToken(accessToken)).toBe(false);
    });

    it('mock oauth server - PKCE: wrong verifier, wrong redirect_uri and a burnt code fail', async () => {
      const server = await start();
      const { verifier, challenge } = pkcePair();
      const code = await codeFor(server, challenge);
      expect(await exchange(server, code, pkcePair().verifier)).toMatchObject({
        status: 400,
        body: { error: 'invalid_grant' },
      });
      // The failed attempt burnt the code.
      expect((await exchange(server, code, verifier)).body['error']).toBe('invalid_grant');

      const second = await codeFor(server, challenge);
      expect(
        (await exchange(server, second, verifier, 'http://127.0.0.1:1/other')).body['error'],
      ).toBe('invalid_grant');
      const third = await codeFor(server, challenge);
      expect((await exchange(server, third, verifier)).status).toBe(200);
    });

    it('mock oauth server - authorize: loopback redirects only, PKCE S256 required', async () => {
      const server = await start();
      const { challenge } = pkcePair();
      const base = {
        response_type: 'code',
        client_id: 'test-client',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      };
      for (const uri of [
        'https://example.com/callback',
        'http://evil.example:8080/cb',
        'not a url',
      ]) {
        expect((await authorize(server, { ...base, redirect_uri: uri })).status).toBe(400);
      }
      expect(
        (await authorize(server, { ...base, redirect_uri: 'http://localhost:9/cb' })).status,
      ).toBe(302);
      expect(
        (await authorize(server, { ...base, client_id: 'nobody', redirect_uri: REDIRECT })).status,
      ).toBe(400);

      const plain = await authorize(server, {
        ...base,
        code_challenge_method: 'plain',
        redirect_uri: REDIRECT,
      });
      expect(plain.status).toBe(302);
      expect(new URL(plain.headers.get('location') as string).searchParams.get('error')).toBe(
        'invalid_request',
      );
      server.behaviour.denyAuthorization = true;
      const denied = await authorize(server, { ...base, redirect_uri: REDIRECT, state: 's' });
      const location = new URL(denied.headers.get('location') as string);
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('state')).toBe('s');
    });
  });

  describe('device code', () => {
    const startDevice = async (
      server: MockOAuthServer,
      params: Record<string, string>,
      json = false,
    ) => answer(await post(server.deviceAuthorizationUrl, params, { json }));

    const poll = async (server: MockOAuthServer, deviceCode: string, extra = {}) =>
      answer(
        await post(server.tokenUrl, {
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: deviceCode,
          ...CLIENT,
          ...extra,
        }),
      );

    it('mock oauth server - device flow: pending, slow_down, approve, single use', async () => {
      const server = await start({ behaviour: { deviceSlowDownIncrementSeconds: 0 } });
      const { verifier, challenge } = pkcePair();
      const started = await startDevice(server, {
        client_id: 'test-client',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      expect(started.status).toBe(200);
      expect(started.body).toEqual({
        device_code: expect.stringMatching(/^dc-/),
        user_code: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
        verification_uri: server.verificationUrl,
        verification_uri_complete: expect.stringContaining('user_code='),
        expires_in: 600,
        interval: 1,
      });
      const deviceCode = started.body['device_code'] as string;
      const userCode = started.body['user_code'] as string;

      expect(await poll(server, deviceCode, { code_verifier: verifier })).toEqual({
        status: 400,
        body: { error: 'authorization_pending' },
      });
      expect((await poll(server, deviceCode, { code_verifier: verifier })).body['error']).toBe(
        'slow_down',
      );
      await sleep(1050);
      expect((await poll(server, deviceCode, { code_verifier: verifier })).body['error']).toBe(
        'authorization_pending',
      );

      server.approveDevice(userCode.toLowerCase().replace('-', ''));
      expect(server.deviceAuthorizations[0]?.status).toBe('approved');
      await sleep(1050);
      const tokens = await poll(server, deviceCode, { code_verifier: verifier });
      expect(tokens.status).toBe(200);
      expect(tokens.body).toMatchObject({
        access_token: expect.stringMatching(/^at-/),
        refresh_token: expect.stringMatching(/^rt-/),
        scope: 'openid',
      });
      expect(server.validAccessToken(tokens.body['access_token'] as string)).toBe(true);
      expect((await poll(server, deviceCode, { code_verifier: verifier })).body['error']).toBe(
        'invalid_grant',
      );
    });

    it('mock oauth server - device flow: JSON, approval via verification_uri_complete, PKCE checked', async () => {
      const server = await start({ behaviour: { deviceIntervalSeconds: 0 } });
      const { verifier, challenge } = pkcePair();
      const request = {
        client_id: 'test-client',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      };
      const started = await startDevice(server, request, true);
      expect(started.body['interval']).toBe(0);
      const page = await fetch(started.body['verification_uri_complete'] as string);
      expect(page.status).toBe(200);
      await page.text();
      const tokens = await poll(server, started.body['device_code'] as string, {
        code_verifier: verifier,
      });
      expect(tokens.status).toBe(200);

      const other = await startDevice(server, request);
      server.approveDevice(other.body['user_code'] as string);
      expect(
        (
          await poll(server, other.body['device_code'] as string, {
            code_verifier: pkcePair().verifier,
          })
        ).body['error'],
      ).toBe('invalid_grant');
      expect(server.tokenRequests.every((r) => r.bodyFormat === 'form')).toBe(true);
    });

    it('mock oauth server - device flow: deny, expiry and unknown clients', async () => {
      const server = await start({ behaviour: { deviceIntervalSeconds: 0 } });
      const denied = await startDevice(server, { client_id: 'test-client' });
      server.denyDevice(denied.body['user_code'] as string);
      expect(await poll(server, denied.body['device_code'] as string)).toMatchObject({
        status: 400,
        body: { error: 'access_denied' },
      });

      const expired = await startDevice(server, { client_id: 'test-client' });
      server.expireDevice(expired.body['user_code'] as string);
      expect(await poll(server, expired.body['device_code'] as string)).toMatchObject({
        status: 400,
        body: { error: 'expired_token' },
      });

      expect(await startDevice(server, { client_id: 'nobody' })).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      expect(() => server.approveDevice('NOPE-NOPE')).toThrow(/unknown user code/);
    });
  });
});
