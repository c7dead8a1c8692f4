import type { Lease } from '@broker/contracts';

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A lease as the client hands it out. The access token is a getter over a private
 * field: spreading, `JSON.stringify` and `console.log` of a lease never show it.
 */
export class BrokerLease {
  readonly leaseId: string;
  readonly provider: string;
  readonly pool: string;
  readonly credentialId: string;
  readonly tokenType: string;
  readonly expiresAt: Date;
  readonly scopes: readonly string[];
  /** The model the lease was asked for, reported back with the outcome. */
  readonly model: string | undefined;
  readonly #accessToken: string;

  constructor(lease: Lease, model: string | undefined) {
    this.leaseId = lease.leaseId;
    this.provider = lease.provider;
    this.pool = lease.pool;
    this.credentialId = lease.credentialId;
    this.tokenType = lease.tokenType;
    this.expiresAt = new Date(lease.expiresAt);
    this.scopes = Object.freeze([...(lease.scopes ?? [])]);
    this.model = model;
    this.#accessToken = lease.accessToken;
  }

  get accessToken(): string {
    return this.#accessToken;
  }

  /** `Authorization` header value, e.g. `Bearer ya29...`. */
  get authorization(): string {
    return `${this.tokenType} ${this.#accessToken}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      leaseId: this.leaseId,
      provider: this.provider,
      pool: this.pool,
      credentialId: this.credentialId,
      tokenType: this.tokenType,
      expiresAt: this.expiresAt.toISOString(),
      scopes: this.scopes,
      ...(this.model === undefined ? {} : { model: this.model }),
    };
  }

  [inspectSymbol](): string {
    return `BrokerLease ${JSON.stringify(this.toJSON())}`;
  }
}
