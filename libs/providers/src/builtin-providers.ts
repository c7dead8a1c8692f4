import type { ProviderDefinition } from './provider-definition.js';

/**
 * The OAuth servers of the CLIs the broker serves, each value checked against the source of
 * the CLI (or, where the CLI is closed, the open-source proxies that talk to the same server).
 * The comment above each entry names the repository, file and constant; `source` repeats it
 * for the operator. Anything not confirmed from source says `unconfirmed:`.
 *
 * The client secrets below are the installed-app secrets the CLIs ship publicly (Google calls
 * them "obviously not treated as a secret"); they are still never logged.
 *
 * Scopes are what the CLI asks for at login. `extraParams` is sent with every token request,
 * so authorize-only parameters (`access_type=offline`, `code=true`, `originator`, ...) are not
 * listed there; they are noted in the comments for `oauthctl login`.
 */
export const BUILTIN_PROVIDERS: Readonly<Record<string, ProviderDefinition>> = {
  // Gemini CLI (Google OAuth, "Login with Google").
  // - google-gemini/gemini-cli packages/core/src/code_assist/oauth2.ts: OAUTH_CLIENT_ID,
  //   OAUTH_CLIENT_SECRET, OAUTH_SCOPE; authWithWeb() redirects to
  //   http://127.0.0.1:<free port>/oauth2callback and asks for access_type=offline.
  // - gemini-cli sets no endpoints itself: it uses google-auth-library's OAuth2Client, whose
  //   googleapis/google-auth-library-nodejs src/auth/oauth2client.ts gives
  //   endpoints.oauth2TokenUrl / oauth2AuthBaseUrl, and refreshTokenNoCache() posts
  //   refresh_token, client_id, client_secret, grant_type as x-www-form-urlencoded
  //   (clientAuthentication defaults to ClientSecretPost).
  // - No rotation: refreshAccessTokenAsync() / getRequestMetadataAsync() copy the old
  //   refresh_token onto the new credentials; Google does not return a new one.
  'gemini-cli': {
    name: 'gemini-cli',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    clientId: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
    clientSecret: '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',
    clientAuth: 'body',
    bodyFormat: 'form',
    rotatesRefreshToken: false,
    scopes: [
      'https://www.googleapis.com/auth/cloud-platform',
      'https://www.googleapis.com/auth/userinfo.email',
      'https://www.googleapis.com/auth/userinfo.profile',
    ],
    extraParams: {},
    redirectPath: '/oauth2callback',
    source:
      'google-gemini/gemini-cli packages/core/src/code_assist/oauth2.ts (OAUTH_CLIENT_ID, ' +
      'OAUTH_CLIENT_SECRET, OAUTH_SCOPE, authWithWeb redirect /oauth2callback); endpoints, ' +
      'form body with client_secret and non-rotation from googleapis/google-auth-library-nodejs ' +
      'src/auth/oauth2client.ts (endpoints.oauth2TokenUrl, endpoints.oauth2AuthBaseUrl, ' +
      'refreshTokenNoCache, refreshAccessTokenAsync)',
  },

  // Antigravity (Google OAuth with Antigravity's own installed-app client).
  // - router-for-me/CLIProxyAPI internal/auth/antigravity/constants.go: ClientID, ClientSecret,
  //   Scopes, TokenEndpoint, AuthEndpoint, CallbackPort = 51121; auth.go: BuildAuthURL()
  //   (redirect http://localhost:51121/oauth-callback, PKCE S256, access_type=offline,
  //   prompt=consent), ExchangeCodeForTokens() (form body with client_id + client_secret).
  // - NoeFabris/opencode-antigravity-auth src/constants.ts (ANTIGRAVITY_CLIENT_ID,
  //   ANTIGRAVITY_CLIENT_SECRET, ANTIGRAVITY_REDIRECT_URI) and src/plugin/token.ts
  //   refreshAccessToken(): form body, client_id + client_secret, keeps the old refresh token
  //   when Google returns none (no rotation, as for any Google client).
  // - Caveat: Antigravity ships two Google clients. The client below is the one in
  //   opencode-antigravity-auth and in CLIProxyAPI constants.go at commit aa99421; another stored
  //   version of that file (commit 0ba57a8) uses 884354919052-36trc1jjb3tguiac32ov6cod268c5blh
  //   .apps.googleusercontent.com with secret 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. A refresh
  //   token only refreshes under the client that minted it, so credentials from the other client
  //   must carry their own client id/secret or override them in BROKER_CONFIG.
  //   unconfirmed: which of the two the current Antigravity release uses.
  antigravity: {
    name: 'antigravity',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    clientId: '1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com',
    clientSecret: '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',
    clientAuth: 'body',
    bodyFormat: 'form',
    rotatesRefreshToken: false,
    scopes: [
      'https://www.googleapis.com/auth/cloud-platform',
      'https://www.googleapis.com/auth/userinfo.email',
      'https://www.googleapis.com/auth/userinfo.profile',
      'https://www.googleapis.com/auth/cclog',
      'https://www.googleapis.com/auth/experimentsandconfigs',
    ],
    extraParams: {},
    redirectPath: '/oauth-callback',
    source:
      'router-for-me/CLIProxyAPI internal/auth/antigravity/constants.go (ClientID, ClientSecret, ' +
      'Scopes, TokenEndpoint, AuthEndpoint, CallbackPort) and auth.go (BuildAuthURL, ' +
      'ExchangeCodeForTokens); NoeFabris/opencode-antigravity-auth src/constants.ts ' +
      '(ANTIGRAVITY_CLIENT_ID, ANTIGRAVITY_CLIENT_SECRET, ANTIGRAVITY_REDIRECT_URI) and ' +
      'src/plugin/token.ts (refreshAccessToken); unconfirmed: whether current Antigravity uses ' +
      'this client or 884354919052-36trc1jjb3tguiac32ov6cod268c5blh (CLIProxyAPI 0ba57a8)',
  },

  // Qwen Code (device authorization grant, RFC 8628, with PKCE).
  // - QwenLM/qwen-code packages/core/src/qwen/qwenOAuth2.ts: QWEN_OAUTH_TOKEN_ENDPOINT,
  //   QWEN_OAUTH_DEVICE_CODE_ENDPOINT, QWEN_OAUTH_CLIENT_ID, QWEN_OAUTH_SCOPE,
  //   QWEN_OAUTH_GRANT_TYPE. requestDeviceAuthorization() sends client_id, scope,
  //   code_challenge, code_challenge_method=S256; pollDeviceToken() sends grant_type, client_id,
  //   device_code, code_verifier; refreshAccessToken() sends grant_type, refresh_token,
  //   client_id. All x-www-form-urlencoded, no secret (public client).
  // - Same values in router-for-me/CLIProxyAPI internal/auth/qwen/qwen_auth.go (RefreshTokens,
  //   InitiateDeviceFlow, PollForToken).
  // - Rotation: refreshAccessToken() and sharedTokenManager.ts performTokenRefresh() keep a
  //   returned refresh_token ("Some OAuth servers may return a new refresh token") and the CLI
  //   serialises refreshes across processes with a file lock to avoid "cross-session token
  //   invalidation". unconfirmed: whether chat.qwen.ai invalidates the old refresh token; set to
  //   true, the safe choice (serialised refresh, always store a returned token).
  'qwen-code': {
    name: 'qwen-code',
    tokenUrl: 'https://chat.qwen.ai/api/v1/oauth2/token',
    deviceAuthorizationUrl: 'https://chat.qwen.ai/api/v1/oauth2/device/code',
    clientId: 'f0304373b74a44d2b584a3fb70ca9e56',
    clientAuth: 'none',
    bodyFormat: 'form',
    rotatesRefreshToken: true,
    scopes: ['openid', 'profile', 'email', 'model.completion'],
    extraParams: {},
    source:
      'QwenLM/qwen-code packages/core/src/qwen/qwenOAuth2.ts (QWEN_OAUTH_TOKEN_ENDPOINT, ' +
      'QWEN_OAUTH_DEVICE_CODE_ENDPOINT, QWEN_OAUTH_CLIENT_ID, QWEN_OAUTH_SCOPE, ' +
      'QwenOAuth2Client.requestDeviceAuthorization/pollDeviceToken/refreshAccessToken) and ' +
      'sharedTokenManager.ts; cross-checked router-for-me/CLIProxyAPI ' +
      'internal/auth/qwen/qwen_auth.go; unconfirmed: rotation (server behaviour not in source, ' +
      'set true as the safe choice)',
  },

  // Anthropic (Claude Code, Claude Pro/Max subscription login; authorization code + PKCE).
  // - Claude Code is not open source; its src/constants/oauth.ts (PROD_OAUTH_CONFIG: TOKEN_URL,
  //   CLIENT_ID, CLAUDE_AI_AUTHORIZE_URL, MANUAL_REDIRECT_URL; ALL_OAUTH_SCOPES) and
  //   src/services/oauth/client.ts (buildAuthUrl: loopback http://localhost:<port>/callback,
  //   or MANUAL_REDIRECT_URL https://platform.claude.com/oauth/code/callback for paste-the-code;
  //   exchangeCodeForTokens and refreshOAuthToken: JSON body with client_id, no secret) were read
  //   as published in Gitlawb/openclaude. CLAUDE_AI_AUTHORIZE_URL there is
  //   https://claude.com/cai/oauth/authorize, which the file says 307s to the
  //   claude.ai/oauth/authorize used below. Authorize also carries code=true; the code exchange
  //   also carries `state` in the JSON body.
  // - Cross-checked: anomalyco/opencode-anthropic-auth index.mjs (same client id, JSON refresh
  //   with client_id only; still on the older host console.anthropic.com) and
  //   router-for-me/CLIProxyAPI internal/auth/claude/anthropic_auth.go (RefreshTokens JSON body,
  //   RedirectURI http://localhost:54545/callback).
  // - Claude Code's refreshOAuthToken also sends scope (CLAUDE_AI_OAUTH_SCOPES) on refresh; the
  //   proxies refresh without it, so it is not forced in extraParams.
  // - Rotation: refreshOAuthToken stores the returned refresh_token; reuse of a spent token is
  //   rejected (HTTP 400 on refresh in anthropics/claude-code#54443; "Anthropic OAuth refresh
  //   tokens are single-use" in uwuclxdy/clauth#52).
  anthropic: {
    name: 'anthropic',
    tokenUrl: 'https://platform.claude.com/v1/oauth/token',
    authorizeUrl: 'https://claude.ai/oauth/authorize',
    clientId: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
    clientAuth: 'none',
    bodyFormat: 'json',
    rotatesRefreshToken: true,
    scopes: [
      'org:create_api_key',
      'user:profile',
      'user:inference',
      'user:sessions:claude_code',
      'user:mcp_servers',
      'user:file_upload',
    ],
    extraParams: {},
    redirectPath: '/callback',
    source:
      'Claude Code src/constants/oauth.ts (PROD_OAUTH_CONFIG.TOKEN_URL, CLIENT_ID, ' +
      'CLAUDE_AI_AUTHORIZE_URL, ALL_OAUTH_SCOPES) and src/services/oauth/client.ts (buildAuthUrl ' +
      '/callback, refreshOAuthToken JSON) as published in Gitlawb/openclaude; cross-checked ' +
      'anomalyco/opencode-anthropic-auth index.mjs and router-for-me/CLIProxyAPI ' +
      'internal/auth/claude/anthropic_auth.go; rotation: anthropics/claude-code#54443, ' +
      'uwuclxdy/clauth#52',
  },

  // OpenAI Codex CLI (ChatGPT sign-in; authorization code + PKCE).
  // - openai/codex codex-rs/login/src/server.rs: DEFAULT_ISSUER https://auth.openai.com,
  //   DEFAULT_PORT 1455 (FALLBACK_PORT 1457), redirect http://localhost:<port>/auth/callback,
  //   build_authorize_url() scopes (plus authorize-only id_token_add_organizations=true,
  //   codex_cli_simplified_flow=true, originator), exchange_code_for_tokens() posts
  //   x-www-form-urlencoded with client_id and code_verifier, no secret.
  // - openai/codex codex-rs/login/src/auth/manager.rs: REFRESH_TOKEN_URL, CLIENT_ID,
  //   RefreshRequest { client_id, grant_type, refresh_token } sent as JSON by
  //   request_chatgpt_token_refresh(); persist_tokens() stores the returned refresh_token;
  //   classify_refresh_token_failure() maps refresh_token_reused / _expired / _invalidated.
  //   codex-rs/login/src/auth/util.rs pins the reuse error body:
  //   {"error": {"code": "refresh_token_reused", ...}} (an object, not an RFC 6749 string).
  // - Body: the CLI uses form for the code exchange and JSON for refresh. `form` is used for
  //   both because a form refresh is also what router-for-me/CLIProxyAPI
  //   internal/auth/codex/openai_auth.go refreshTokensSingleFlight() sends to this endpoint.
  // - Device login (codex-rs/login/src/device_code_auth.rs) is OpenAI's own
  //   /api/accounts/deviceauth/* flow, not RFC 8628, so no deviceAuthorizationUrl.
  'openai-codex': {
    name: 'openai-codex',
    tokenUrl: 'https://auth.openai.com/oauth/token',
    authorizeUrl: 'https://auth.openai.com/oauth/authorize',
    clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
    clientAuth: 'none',
    bodyFormat: 'form',
    rotatesRefreshToken: true,
    scopes: [
      'openid',
      'profile',
      'email',
      'offline_access',
      'api.connectors.read',
      'api.connectors.invoke',
    ],
    extraParams: {},
    redirectPath: '/auth/callback',
    source:
      'openai/codex codex-rs/login/src/server.rs (DEFAULT_ISSUER, DEFAULT_PORT, ' +
      'build_authorize_url, exchange_code_for_tokens, /auth/callback) and ' +
      'codex-rs/login/src/auth/manager.rs (REFRESH_TOKEN_URL, CLIENT_ID, RefreshRequest, ' +
      'request_chatgpt_token_refresh, classify_refresh_token_failure refresh_token_reused); form ' +
      'refresh cross-checked router-for-me/CLIProxyAPI internal/auth/codex/openai_auth.go',
  },

  // iFlow CLI. iflow-ai/iflow-cli publishes no source (README and install scripts only), so
  // nothing here is confirmed against the CLI itself.
  // - router-for-me/CLIProxyAPI internal/auth/iflow/iflow_auth.go: iFlowOAuthTokenEndpoint,
  //   iFlowOAuthAuthorizeEndpoint, iFlowOAuthClientID, defaultIFlowClientSecret,
  //   CallbackPort = 11451; AuthorizationURL() redirects to http://localhost:<port>/oauth2callback
  //   (its authorize request is not standard OAuth: it sends `redirect`, not `redirect_uri`,
  //   plus loginMethod=phone&type=phone); newTokenRequest() sends an HTTP Basic header AND
  //   client_id/client_secret in the form body; no scope is requested.
  // - unconfirmed: which of Basic or body the server requires (both reference clients send
  //   both); `basic` is chosen because RFC 6749 section 2.3.1 requires servers to accept it.
  // - unconfirmed: rotation. CLIProxyAPI UpdateTokenStorage() always overwrites the stored
  //   refresh token with the returned one; whether the old one is invalidated is not shown.
  //   Set true, the safe choice.
  iflow: {
    name: 'iflow',
    tokenUrl: 'https://iflow.cn/oauth/token',
    authorizeUrl: 'https://iflow.cn/oauth',
    clientId: '10009311001',
    clientSecret: '4Z3YjXycVsQvyGF1etiNlIBB4RsqSDtW',
    clientAuth: 'basic',
    bodyFormat: 'form',
    rotatesRefreshToken: true,
    scopes: [],
    extraParams: {},
    redirectPath: '/oauth2callback',
    source:
      'unconfirmed against the iFlow CLI (no published source); values from ' +
      'router-for-me/CLIProxyAPI internal/auth/iflow/iflow_auth.go (iFlowOAuthTokenEndpoint, ' +
      'iFlowOAuthAuthorizeEndpoint, iFlowOAuthClientID, defaultIFlowClientSecret, ' +
      'AuthorizationURL, RefreshTokens, newTokenRequest); unconfirmed: basic vs body client ' +
      'auth, rotation (set true as the safe choice)',
  },

  // Generic RFC 6749 provider: everything comes from BROKER_CONFIG.providers.oauth2
  // (tokenUrl must be set there; client credentials there or on the credential).
  oauth2: {
    name: 'oauth2',
    tokenUrl: '',
    clientAuth: 'body',
    bodyFormat: 'form',
    rotatesRefreshToken: false,
    scopes: [],
    extraParams: {},
    source: 'RFC 6749',
  },
};
