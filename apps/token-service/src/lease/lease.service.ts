import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  BrokerError,
  DEFAULT_MIN_VALIDITY_SECONDS,
  type LeaseReply,
  type LeaseRequest,
} from '@broker/contracts';
import { poolPolicy, type RuntimeConfig } from '@broker/config';
import { selectCredential, type CredentialState } from '@broker/domain';
import { LeaseAuditWriter } from '@broker/event-store';
import { errorMessage, type Logger } from '@broker/observability';
import type { ProviderRegistry } from '@broker/providers';
import { KeyRing, secretContext } from '@broker/secrets';
import { RefreshService } from '../refresh/refresh.service.js';
import { CredentialStateService } from '../state/credential-state.service.js';
import { CLOCK, CONFIG, KEY_RING, LOGGER, PROVIDERS, type Clock } from '../tokens.js';
import { UsageService } from '../usage/usage.service.js';
import { LeaseBook } from './lease-book.js';

export interface LeaseTarget {
  readonly provider: string;
  readonly pool: string;
  readonly client: string;
}

/**
 * Hands out leases from memory: selection reads no database, and the only I/O
 * before the reply is the group-committed audit row the lease must not go without.
 */
@Injectable()
export class LeaseService {
  private readonly lastChosen = new Map<string, { id: string; position: number }>();
  private readonly clearTokens = new Map<string, { sealed: string; token: string }>();

  constructor(
    private readonly state: CredentialStateService,
    private readonly book: LeaseBook,
    private readonly audit: LeaseAuditWriter,
    private readonly usage: UsageService,
    private readonly refresher: RefreshService,
    @Inject(PROVIDERS) private readonly providers: ProviderRegistry,
    @Inject(KEY_RING) private readonly keyRing: KeyRing,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  isKnownProvider(provider: string): boolean {
    return this.providers.has(provider);
  }

  /** Metric labels: the provider and pool when they exist, `unknown` for anything a subject may invent. */
  metricLabels(provider: string, pool: string): { provider: string; pool: string } {
    if (!this.providers.has(provider)) return { provider: 'unknown', pool: 'unknown' };
    return {
      provider,
      pool: this.state.registry.pool(provider, pool).length > 0 ? pool : 'unknown',
    };
  }

  async lease(
    target: LeaseTarget,
    request: LeaseRequest,
    traceId: string | null,
  ): Promise<LeaseReply> {
    const { provider, pool, client } = target;
    if (!this.providers.has(provider)) {
      throw new BrokerError('UNKNOWN_PROVIDER', `provider '${provider}' is not configured`);
    }
    const now = this.clock.now();
    const policy = poolPolicy(this.config.file, provider, pool);
    const key = `${provider}/${pool}`;
    const last = this.lastChosen.get(key);
    const selection = selectCredential({
      credentials: this.state.registry.pool(provider, pool),
      policy: policy.selection,
      health: policy.health,
      lastChosen: last?.id ?? null,
      ...(last === undefined ? {} : { lastPosition: last.position }),
      ask: {
        minValiditySeconds: request.minValiditySeconds ?? DEFAULT_MIN_VALIDITY_SECONDS,
        exclude: new Set(request.exclude ?? []),
        ...(request.model === undefined ? {} : { model: request.model }),
      },
      now,
      trialsInFlight: this.book.trialsInFlight(now),
      refreshEstimateMs: this.refresher.estimateMs(),
    });
    // Tokens too close to their end are refreshed now (single-flight) while the lease goes elsewhere.
    for (const skipped of selection.ok ? selection.reason.skipped : selection.skipped) {
      if (skipped.reason === 'expiring' || skipped.reason === 'refresh-required') {
        this.refresher.requestInBackground(skipped.credentialId, 'on-demand');
      }
    }
    if (!selection.ok) {
      if (selection.code === 'ALL_CREDENTIALS_UNAVAILABLE')
        this.usage.countPoolLease(provider, pool, 'refused');
      throw new BrokerError(selection.code, `${key}: ${selection.message}`, selection.retryAfterMs);
    }
    const credential = selection.credential;
    this.lastChosen.set(key, { id: credential.id, position: selection.reason.position });
    const leaseId = randomUUID();
    if (selection.reason.halfOpenTrial) this.book.startTrial(credential.id, leaseId, now);

    const accessToken = this.accessTokenOf(credential);
    try {
      await this.audit.write({
        leaseId,
        client,
        provider,
        pool,
        credentialId: credential.id,
        expiresAt: new Date(credential.expiresAt),
        model: request.model ?? null,
        selection: selection.reason,
        traceId,
        replica: this.config.replicaId,
      });
    } catch (error) {
      this.book.settle(credential.id, leaseId);
      this.logger.error(
        { err: errorMessage(error), provider, pool, client },
        'lease refused: audit row not written',
      );
      throw new BrokerError(
        'INTERNAL',
        'the lease could not be recorded in the audit log, so no token was handed out',
      );
    }
    this.book.remember({
      leaseId,
      credentialId: credential.id,
      client,
      leasedAt: now,
      expiresAt: credential.expiresAt,
    });
    this.usage.countLease(credential.id);
    this.usage.countPoolLease(provider, pool, 'served');
    return {
      ok: true,
      lease: {
        leaseId,
        provider,
        pool,
        credentialId: credential.id,
        accessToken,
        tokenType: credential.tokenType,
        expiresAt: new Date(credential.expiresAt).toISOString(),
        ...(credential.scopes.length > 0 ? { scopes: [...credential.scopes] } : {}),
      },
    };
  }

  /** Opens the sealed access token once per token value, not once per lease. */
  private accessTokenOf(credential: CredentialState): string {
    const sealed = credential.secrets.accessToken;
    if (sealed === undefined)
      throw new Error(`credential ${credential.id} has no access token yet`);
    const cached = this.clearTokens.get(credential.id);
    if (cached?.sealed === sealed) return cached.token;
    const token = this.keyRing.decrypt(sealed, secretContext(credential.id, 'accessToken'));
    this.clearTokens.set(credential.id, { sealed, token });
    return token;
  }
}
