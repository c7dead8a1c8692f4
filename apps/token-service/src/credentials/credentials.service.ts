import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  BrokerError,
  type AddCredentialRequest,
  type AdminReply,
  type AdminRequest,
  type CredentialDetail,
  type EventMetadata,
  type ImportCredentialRequest,
} from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import {
  DAY_MS,
  importTokenFile,
  toCredentialView,
  toHealthView,
  toMetricsView,
  type CredentialState,
  type CredentialUsageTotals,
} from '@broker/domain';
import { errorMessage, type Logger } from '@broker/observability';
import { KeyRing, secretContext } from '@broker/secrets';
import { LeaseService } from '../lease/lease.service.js';
import { NoticePublisher } from '../notices/notice.publisher.js';
import { RefreshService } from '../refresh/refresh.service.js';
import { CredentialStateService } from '../state/credential-state.service.js';
import { CLOCK, CONFIG, KEY_RING, LOGGER, type Clock } from '../tokens.js';
import { UsageService } from '../usage/usage.service.js';

const DEFAULT_STATUS_PAGE = 200;

/** What a new credential is made of, whether an operator sent it or a token file held it. */
type NewCredential = Omit<AddCredentialRequest, 'accessToken' | 'expiresAt'> & {
  readonly accessToken?: string;
  /** Epoch ms; unknown means expired, so that the first thing done is a refresh. */
  readonly expiresAt?: number;
};

/** The admin verbs on credentials. Secrets are sealed here, before anything is appended. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly state: CredentialStateService,
    private readonly leases: LeaseService,
    private readonly usage: UsageService,
    private readonly notices: NoticePublisher,
    private readonly refresher: RefreshService,
    @Inject(KEY_RING) private readonly keyRing: KeyRing,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get metadata(): EventMetadata {
    return { actor: 'admin', replica: this.config.replicaId };
  }

  add(request: AddCredentialRequest): Promise<AdminReply<'credentials.add'>> {
    return this.register(request, { kind: 'add' });
  }

  /**
   * Seals the secrets and appends the credential. An access token is optional for
   * files that hold only a refresh token: such a credential is refreshed at once.
   */
  private async register(
    input: NewCredential,
    source: { kind: 'add' } | { kind: 'import'; format: string },
  ): Promise<AdminReply<'credentials.add'>> {
    if (!this.leases.isKnownProvider(input.provider)) {
      throw new BrokerError('UNKNOWN_PROVIDER', `provider '${input.provider}' is not configured`);
    }
    const id = input.id ?? `${input.provider}-${randomBytes(4).toString('hex')}`;
    const seal = (field: string, value: string) =>
      this.keyRing.encrypt(value, secretContext(id, field));
    const fingerprintOf = input.refreshToken ?? input.accessToken;
    await this.state.execute(
      id,
      {
        type: 'AddCredential',
        data: {
          credentialId: id,
          provider: input.provider,
          pool: input.pool ?? 'default',
          ...(input.label === undefined ? {} : { label: input.label }),
          priority: input.priority ?? 0,
          scopes: input.scopes ?? [],
          metadata: input.metadata ?? {},
          ...(input.clientId === undefined ? {} : { clientId: input.clientId }),
          tokenType: input.tokenType ?? 'Bearer',
          expiresAt: new Date(input.expiresAt ?? 0).toISOString(),
          secrets: {
            ...(input.accessToken === undefined
              ? {}
              : { accessToken: seal('accessToken', input.accessToken) }),
            ...(input.refreshToken === undefined
              ? {}
              : { refreshToken: seal('refreshToken', input.refreshToken) }),
            ...(input.clientSecret === undefined
              ? {}
              : { clientSecret: seal('clientSecret', input.clientSecret) }),
          },
          fingerprint:
            fingerprintOf === undefined ? 'none' : this.keyRing.fingerprint(fingerprintOf),
          source: source.kind,
          ...(source.kind === 'import' ? { importFormat: source.format } : {}),
        },
      },
      this.metadata,
    );
    this.logger.info(
      {
        credentialId: id,
        provider: input.provider,
        pool: input.pool ?? 'default',
        source: source.kind,
      },
      'credential added',
    );
    const credential = this.mustGet(id);
    // No usable token yet (a gcloud file, an expired file): get one now rather than at the first lease.
    if (
      credential.secrets.accessToken === undefined ||
      credential.expiresAt <= this.clock.now() + 60_000
    ) {
      this.refresher.requestInBackground(id, 'on-demand');
    }
    return { ok: true, credential: toCredentialView(credential, this.clock.now()) };
  }

  async import(request: ImportCredentialRequest): Promise<AdminReply<'credentials.import'>> {
    const tokens = importTokenFile(request.document);
    const provider = request.provider ?? tokens.provider;
    if (provider === undefined) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `provider: a ${tokens.format} file does not say which provider; name it`,
      );
    }
    if (tokens.accessToken === undefined && tokens.refreshToken === undefined) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `document: the ${tokens.format} file holds no token at all`,
      );
    }
    const added = await this.register(
      {
        provider,
        ...(request.pool === undefined ? {} : { pool: request.pool }),
        ...(request.id === undefined ? {} : { id: request.id }),
        ...(request.label === undefined ? {} : { label: request.label }),
        ...(request.priority === undefined ? {} : { priority: request.priority }),
        ...(tokens.accessToken === undefined ? {} : { accessToken: tokens.accessToken }),
        ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
        tokenType: tokens.tokenType,
        ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
        scopes: tokens.scopes,
        ...(tokens.clientId === undefined ? {} : { clientId: tokens.clientId }),
        ...(tokens.clientSecret === undefined ? {} : { clientSecret: tokens.clientSecret }),
        ...(tokens.accountId === undefined ? {} : { metadata: { accountId: tokens.accountId } }),
      },
      { kind: 'import', format: tokens.format },
    );
    for (const warning of tokens.warnings)
      this.logger.warn({ credentialId: added.credential.id, format: tokens.format }, warning);
    return { ...added, warnings: tokens.warnings };
  }

  list(filter: { provider?: string; pool?: string }): AdminReply<'credentials.list'> {
    const now = this.clock.now();
    const credentials = this.state.registry
      .all()
      .filter(
        (c) =>
          (filter.provider === undefined || c.provider === filter.provider) &&
          (filter.pool === undefined || c.pool === filter.pool),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((c) => toCredentialView(c, now));
    return { ok: true, credentials };
  }

  get(id: string): AdminReply<'credentials.get'> {
    return { ok: true, ...this.detail(this.mustGet(id), this.clock.now()) };
  }

  /** Credentials with their health and usage, a page at a time in id order. */
  status(request: AdminRequest<'credentials.status'>): AdminReply<'credentials.status'> {
    const now = this.clock.now();
    const limit = request.limit ?? DEFAULT_STATUS_PAGE;
    const matching = this.state.registry
      .all()
      .filter(
        (c) =>
          (request.provider === undefined || c.provider === request.provider) &&
          (request.pool === undefined || c.pool === request.pool) &&
          (request.after === undefined || c.id > request.after),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const page = matching.slice(0, limit);
    return {
      ok: true,
      credentials: page.map((c) => this.detail(c, now)),
      next: matching.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    };
  }

  private detail(credential: CredentialState, now: number): CredentialDetail {
    return {
      credential: toCredentialView(credential, now),
      health: toHealthView(credential, now),
      metrics: toMetricsView(this.withUnflushed(credential)),
      version: credential.version,
    };
  }

  /** Refreshes now and answers with the result; joins a refresh another replica is running. */
  async refresh(id: string): Promise<AdminReply<'credentials.refresh'>> {
    this.mustGet(id);
    let outcome = await this.refresher.refresh(id, 'admin');
    if (outcome.status === 'busy') outcome = await this.awaitSiblingRefresh(id);
    switch (outcome.status) {
      case 'busy':
        throw new BrokerError(
          'REFRESH_FAILED',
          'another replica is still refreshing this credential',
          outcome.retryAfterMs,
        );
      case 'refreshed':
      case 'superseded':
        return { ok: true, credential: toCredentialView(this.mustGet(id), this.clock.now()) };
      case 'held':
        throw new BrokerError(
          'REFRESH_FAILED',
          `not refreshed: ${outcome.why}`,
          outcome.retryAfterMs,
        );
      case 'failed':
        throw new BrokerError(
          'REFRESH_FAILED',
          `the provider did not refresh the token (${outcome.error}); the broker retries by itself`,
          outcome.retryAfterMs,
        );
      case 'reauth-required':
        throw new BrokerError('REAUTH_REQUIRED', outcome.reason);
      default: {
        const unhandled: never = outcome;
        throw new Error(`unhandled refresh outcome ${JSON.stringify(unhandled)}`);
      }
    }
  }

  /** Waits (bounded) for the refresh another replica holds the lock for, then reports what it came to. */
  private async awaitSiblingRefresh(id: string) {
    const deadline = this.clock.now() + 30_000;
    const before = this.mustGet(id).refreshCount;
    while (this.clock.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const current = this.mustGet(id);
      if (current.status === 'reauth-required')
        return {
          status: 'reauth-required' as const,
          reason: current.statusReason ?? 'reauth required',
        };
      if (current.refreshCount > before) return { status: 'refreshed' as const, rotated: false };
      if (current.refresh.inFlight === null && current.refresh.lastError !== null) {
        return { status: 'failed' as const, error: current.refresh.lastError };
      }
    }
    return { status: 'busy' as const, retryAfterMs: 1000 };
  }

  /** Adds the successor to the same pool; both serve until the grace period ends. */
  async rotate(
    request: AdminRequest<'credentials.rotate'>,
  ): Promise<AdminReply<'credentials.rotate'>> {
    const old = this.mustGet(request.id);
    const { successor } = request;
    if (
      successor !== undefined &&
      ((successor.provider ?? old.provider) !== old.provider ||
        (successor.pool ?? old.pool) !== old.pool)
    ) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `successor: must join ${old.provider}/${old.pool}, the pool of '${old.id}'`,
      );
    }
    const added =
      successor !== undefined
        ? await this.add({ ...successor, provider: old.provider, pool: old.pool })
        : await this.import({
            document: request.successorDocument ?? {},
            provider: old.provider,
            pool: old.pool,
            ...(request.successorId === undefined ? {} : { id: request.successorId }),
          });
    const graceDays =
      request.graceDays ??
      this.config.file.pools?.[`${old.provider}/${old.pool}`]?.rotation?.graceDays ??
      1;
    await this.state.execute(
      old.id,
      {
        type: 'RotateCredential',
        data: {
          credentialId: old.id,
          successorId: added.credential.id,
          graceMs: graceDays * DAY_MS,
        },
      },
      this.metadata,
    );
    this.logger.info(
      { credentialId: old.id, successorId: added.credential.id, graceDays },
      'credential rotated',
    );
    return {
      ok: true,
      credential: toCredentialView(this.mustGet(old.id), this.clock.now()),
      successor: added.credential,
    };
  }

  /** Takes a credential out of rotation for good, and tells the clients holding its leases. */
  async decommission(
    id: string,
    reason: string | undefined,
  ): Promise<AdminReply<'credentials.decommission'>> {
    const why = reason ?? 'decommissioned by an operator';
    const events = await this.state.execute(
      id,
      { type: 'DecommissionCredential', data: { credentialId: id, reason: why } },
      this.metadata,
    );
    if (events.length > 0) await this.notifyWithdrawn(id, why);
    return { ok: true, credential: toCredentialView(this.mustGet(id), this.clock.now()) };
  }

  private async notifyWithdrawn(id: string, why: string): Promise<void> {
    try {
      const clients = await this.notices.credentialWithdrawn(id, why);
      this.logger.info(
        { credentialId: id, clientsNotified: clients, reason: why },
        'credential withdrawn',
      );
    } catch (error) {
      // The withdrawal stands; clients still learn at their next lease or failure.
      this.logger.warn(
        { credentialId: id, err: errorMessage(error) },
        'credential withdrawn but lease notices not sent',
      );
    }
  }

  async revoke(id: string, reason: string | undefined): Promise<AdminReply<'credentials.revoke'>> {
    const why = reason ?? 'revoked by an operator';
    const events = await this.state.execute(
      id,
      { type: 'RevokeCredential', data: { credentialId: id, reason: why } },
      this.metadata,
    );
    if (events.length > 0) await this.notifyWithdrawn(id, why);
    return { ok: true, credential: toCredentialView(this.mustGet(id), this.clock.now()) };
  }

  private mustGet(id: string): CredentialState {
    const credential = this.state.get(id);
    if (credential === undefined)
      throw new BrokerError('UNKNOWN_CREDENTIAL', `credential '${id}' does not exist`);
    return credential;
  }

  /** Totals from the log plus what this replica counted since its last window closed. */
  private withUnflushed(credential: CredentialState): CredentialUsageTotals {
    const open = this.usage.unflushed(credential.id);
    if (open === undefined) return credential.usage;
    const byStatus = { ...credential.usage.byStatus };
    for (const [k, n] of Object.entries(open.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + n;
    return {
      leases: credential.usage.leases + open.leases,
      requests: credential.usage.requests + open.requests,
      successes: credential.usage.successes + open.successes,
      failures: credential.usage.failures + open.failures,
      byStatus,
      tokensUsed: credential.usage.tokensUsed + open.tokensUsed,
      latencyMsTotal: credential.usage.latencyMsTotal + open.latencyMsTotal,
      latencySamples: credential.usage.latencySamples + open.latencySamples,
      lastUsedAt: Math.max(credential.usage.lastUsedAt ?? 0, open.lastUsedAt ?? 0) || null,
    };
  }
}
