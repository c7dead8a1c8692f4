import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  BrokerError,
  type AddCredentialRequest,
  type AdminReply,
  type EventMetadata,
  type ImportCredentialRequest,
} from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import {
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

  async add(
    request: AddCredentialRequest,
    source: { kind: 'add' } | { kind: 'import'; format: string } = { kind: 'add' },
  ): Promise<AdminReply<'credentials.add'>> {
    if (!this.leases.isKnownProvider(request.provider)) {
      throw new BrokerError('UNKNOWN_PROVIDER', `provider '${request.provider}' is not configured`);
    }
    const id = request.id ?? `${request.provider}-${randomBytes(4).toString('hex')}`;
    const seal = (field: string, value: string) =>
      this.keyRing.encrypt(value, secretContext(id, field));
    await this.state.execute(
      id,
      {
        type: 'AddCredential',
        data: {
          credentialId: id,
          provider: request.provider,
          pool: request.pool ?? 'default',
          ...(request.label === undefined ? {} : { label: request.label }),
          priority: request.priority ?? 0,
          scopes: request.scopes ?? [],
          metadata: request.metadata ?? {},
          ...(request.clientId === undefined ? {} : { clientId: request.clientId }),
          tokenType: request.tokenType ?? 'Bearer',
          expiresAt: new Date(request.expiresAt).toISOString(),
          secrets: {
            accessToken: seal('accessToken', request.accessToken),
            ...(request.refreshToken === undefined
              ? {}
              : { refreshToken: seal('refreshToken', request.refreshToken) }),
            ...(request.clientSecret === undefined
              ? {}
              : { clientSecret: seal('clientSecret', request.clientSecret) }),
          },
          fingerprint: this.keyRing.fingerprint(request.refreshToken ?? request.accessToken),
          source: source.kind,
          ...(source.kind === 'import' ? { importFormat: source.format } : {}),
        },
      },
      this.metadata,
    );
    this.logger.info(
      {
        credentialId: id,
        provider: request.provider,
        pool: request.pool ?? 'default',
        source: source.kind,
      },
      'credential added',
    );
    return { ok: true, credential: toCredentialView(this.mustGet(id), this.clock.now()) };
  }

  import(request: ImportCredentialRequest): Promise<AdminReply<'credentials.import'>> {
    const tokens = importTokenFile(request.document);
    const provider = request.provider ?? tokens.provider;
    if (provider === undefined)
      throw new BrokerError('INVALID_REQUEST', 'provider: the document does not say; name it');
    return this.add(
      {
        provider,
        ...(request.pool === undefined ? {} : { pool: request.pool }),
        ...(request.id === undefined ? {} : { id: request.id }),
        ...(request.label === undefined ? {} : { label: request.label }),
        ...(request.priority === undefined ? {} : { priority: request.priority }),
        accessToken: tokens.accessToken,
        ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
        tokenType: tokens.tokenType,
        expiresAt: tokens.expiresAt,
        scopes: tokens.scopes,
      },
      { kind: 'import', format: tokens.format },
    );
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
    const credential = this.mustGet(id);
    const now = this.clock.now();
    return {
      ok: true,
      credential: toCredentialView(credential, now),
      health: toHealthView(credential, now),
      metrics: toMetricsView(this.withUnflushed(credential)),
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

  async revoke(id: string, reason: string | undefined): Promise<AdminReply<'credentials.revoke'>> {
    const why = reason ?? 'revoked by an operator';
    const events = await this.state.execute(
      id,
      { type: 'RevokeCredential', data: { credentialId: id, reason: why } },
      this.metadata,
    );
    if (events.length > 0) {
      try {
        const clients = await this.notices.credentialWithdrawn(id, why);
        this.logger.info({ credentialId: id, clientsNotified: clients }, 'credential revoked');
      } catch (error) {
        // The revocation stands; clients still learn at their next lease or failure.
        this.logger.warn(
          { credentialId: id, err: errorMessage(error) },
          'credential revoked but lease notices not sent',
        );
      }
    }
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
