import * as oauth from 'oauth4webapi';
import type { ProviderDefinition } from './provider-definition.js';
import {
  isPermanent,
  oauthErrorOf,
  parseRetryAfter,
  type RefreshResult,
} from './refresh-result.js';

export interface RefreshRequest {
  readonly refreshToken: string;
  /** The credential's own client, when it brought one (gcloud files); else the provider's. */
  readonly clientId?: string;
  readonly clientSecret?: string;
}

export interface RefreshOptions {
  readonly timeoutMs: number;
  readonly now?: () => number;
}

const SENSITIVE = /(access|refresh|id)_token|client_secret|code_verifier/i;

/**
 * For providers whose token endpoint takes JSON: the protocol library builds the
 * RFC 6749 form body, this turns it into the same fields as JSON on the way out.
 */
const jsonBodyFetch: typeof fetch = (input, init) => {
  if (init?.body instanceof URLSearchParams) {
    const headers = new Headers(init.headers);
    headers.set('content-type', 'application/json');
    return fetch(input, { ...init, headers, body: JSON.stringify(Object.fromEntries(init.body)) });
  }
  return fetch(input, init);
};

const clientAuthFor = (
  provider: ProviderDefinition,
  secret: string | undefined,
): oauth.ClientAuth => {
  if (provider.clientAuth === 'none' || secret === undefined) return oauth.None();
  return provider.clientAuth === 'basic'
    ? oauth.ClientSecretBasic(secret)
    : oauth.ClientSecretPost(secret);
};

export const authorizationServerOf = (provider: ProviderDefinition): oauth.AuthorizationServer => ({
  issuer: new URL(provider.tokenUrl).origin,
  token_endpoint: provider.tokenUrl,
  ...(provider.authorizeUrl === undefined ? {} : { authorization_endpoint: provider.authorizeUrl }),
  ...(provider.deviceAuthorizationUrl === undefined
    ? {}
    : { device_authorization_endpoint: provider.deviceAuthorizationUrl }),
});

/** Options every request to a provider carries: our fetch, loopback allowed for tests and proxies. */
export const requestOptions = (provider: ProviderDefinition, signal?: AbortSignal) => ({
  [oauth.customFetch]: provider.bodyFormat === 'json' ? jsonBodyFetch : fetch,
  [oauth.allowInsecureRequests]: new URL(provider.tokenUrl).protocol === 'http:',
  ...(signal === undefined ? {} : { signal }),
});

export const clientOf = (provider: ProviderDefinition, clientId?: string): oauth.Client => ({
  client_id: clientId ?? provider.clientId ?? '',
});

export { clientAuthFor };

const describeThrown = (error: unknown): { error: string; description?: string } => {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { error: 'timeout' };
  }
  const message = error instanceof Error ? error.message : String(error);
  // Never pass on a message that might quote a token.
  return SENSITIVE.test(message)
    ? { error: 'network' }
    : { error: 'network', description: message };
};

/**
 * One refresh-token grant against the provider's token endpoint, classified:
 * RFC 6749 errors that kill the grant are permanent; network errors, timeouts,
 * 5xx and 429 are transient (with the provider's Retry-After when it sent one).
 */
export const refreshAccessToken = async (
  provider: ProviderDefinition,
  request: RefreshRequest,
  options: RefreshOptions,
): Promise<RefreshResult> => {
  const now = options.now ?? Date.now;
  const as = authorizationServerOf(provider);
  const client = clientOf(provider, request.clientId);
  const auth = clientAuthFor(provider, request.clientSecret ?? provider.clientSecret);
  let response: Response;
  try {
    response = await oauth.refreshTokenGrantRequest(as, client, auth, request.refreshToken, {
      ...requestOptions(provider, AbortSignal.timeout(options.timeoutMs)),
      additionalParameters: { ...provider.extraParams },
    });
  } catch (error) {
    return { ok: false, kind: 'transient', ...describeThrown(error) };
  }
  if (response.status === 429 || response.status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
    await response.body?.cancel().catch(() => undefined);
    return {
      ok: false,
      kind: 'transient',
      error: `http_${response.status}`,
      status: response.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  if (response.status >= 400) {
    // Error bodies are read here rather than by the protocol library, which only
    // knows RFC 6749's flat shape; OpenAI nests the code (`{"error": {"code": ...}}`).
    const said = oauthErrorOf(await response.json().catch(() => undefined));
    if (said === undefined)
      return {
        ok: false,
        kind: 'transient',
        error: `http_${response.status}`,
        status: response.status,
      };
    return {
      ok: false,
      kind: isPermanent(said.error, said.description) ? 'permanent' : 'transient',
      ...said,
      status: response.status,
    };
  }
  try {
    const tokens = await oauth.processRefreshTokenResponse(as, client, response);
    return {
      ok: true,
      accessToken: tokens.access_token,
      ...(typeof tokens.refresh_token === 'string' && tokens.refresh_token !== ''
        ? { refreshToken: tokens.refresh_token }
        : {}),
      tokenType: tokens.token_type === undefined ? 'Bearer' : capitalise(tokens.token_type),
      ...(typeof tokens.expires_in === 'number' ? { expiresInSeconds: tokens.expires_in } : {}),
      ...(typeof tokens.scope === 'string'
        ? { scopes: tokens.scope.split(/\s+/).filter((s) => s !== '') }
        : {}),
    };
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      return {
        ok: false,
        kind: isPermanent(error.error, error.error_description) ? 'permanent' : 'transient',
        error: error.error,
        ...(error.error_description === undefined ? {} : { description: error.error_description }),
        status: error.status,
      };
    }
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return { ok: false, kind: 'transient', error: 'timeout' };
    }
    return {
      ok: false,
      kind: 'transient',
      error: response.ok ? 'invalid_response' : `http_${response.status}`,
      status: response.status,
    };
  }
};

const capitalise = (tokenType: string): string =>
  tokenType.toLowerCase() === 'bearer' ? 'Bearer' : tokenType;
