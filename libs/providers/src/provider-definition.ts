/**
 * How the broker talks to one provider's OAuth 2.0 authorization server. Built-ins
 * ship for the CLIs the broker serves; `BROKER_CONFIG.providers` overrides or adds.
 */
export interface ProviderDefinition {
  readonly name: string;
  /** Token endpoint (refresh, code exchange, device code polling). */
  readonly tokenUrl: string;
  readonly authorizeUrl?: string;
  readonly deviceAuthorizationUrl?: string;
  /** The public client id the CLI ships, or none where each account brings its own. */
  readonly clientId?: string;
  /** Installed-app "secrets" the CLIs ship publicly; not confidential, still never logged. */
  readonly clientSecret?: string;
  /** `body`: client_id/secret in the request body; `basic`: HTTP Basic; `none`: public client, id in the body. */
  readonly clientAuth: 'body' | 'basic' | 'none';
  /** Token requests as `application/x-www-form-urlencoded` (RFC 6749) or JSON (some CLIs). */
  readonly bodyFormat: 'form' | 'json';
  /** Whether a refresh returns a new refresh token and invalidates the old one. */
  readonly rotatesRefreshToken: boolean;
  readonly scopes: readonly string[];
  /** Sent with every token request, e.g. a fixed `scope` the server insists on. */
  readonly extraParams: Readonly<Record<string, string>>;
  /** Loopback redirect path for `oauthctl login`, when the provider fixes one. */
  readonly redirectPath?: string;
  /** Where each value was checked, for the operator who must verify them. */
  readonly source: string;
}
