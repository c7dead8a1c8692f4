import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { BrokerError, type EventMetadata, type RefreshReason } from '@broker/contracts';
import type { RuntimeConfig } from '@broker/config';
import type { CredentialState } from '@broker/domain';
import {
  describeLock,
  RefreshLockHeldError,
  RefreshLocks,
  RefreshLockLostError,
} from '@broker/event-store';
import { errorMessage, SpanAttributes, withSpan, type Logger } from '@broker/observability';
import { refreshAccessToken, type ProviderRegistry, type RefreshResult } from '@broker/providers';
import { KeyRing, secretContext } from '@broker/secrets';
import { testOnlySetting } from '@broker/service-shell';
import { TokenMetrics } from '../metrics/token-metrics.js';
import { NoticePublisher } from '../notices/notice.publisher.js';
import { CredentialStateService } from '../state/credential-state.service.js';
import { CLOCK, CONFIG, DATA_SOURCE, KEY_RING, LOGGER, PROVIDERS, type Clock } from '../tokens.js';
import { ProviderBreaker } from './provider-breaker.js';

export type RefreshOutcome =
  | { readonly status: 'refreshed'; readonly rotated: boolean }
  | { readonly status: 'superseded' }
  | { readonly status: 'busy'; readonly retryAfterMs: number }
  | { readonly status: 'held'; readonly retryAfterMs: number; readonly why: string }
  | { readonly status: 'failed'; readonly error: string; readonly retryAfterMs?: number }
  | { readonly status: 'reauth-required'; readonly reason: string };

const DEFAULTS = {
  timeoutMs: 10_000,
  lockTtlMs: 60_000,
  breakerThreshold: 3,
  breakerPauseMs: 30_000,
};
/** Without `expires_in`, a token is assumed good for this long (Google's and most providers' hour). */
const ASSUMED_LIFETIME_S = 3600;
/** A token closer than this to its end is worth a retry after a transient failure. */
const RETRY_WHEN_EXPIRING_WITHIN_MS = 10 * 60_000;

/**
 * Executes refreshes: at most one per credential at a time across replicas (a
 * Postgres lock taken with the `refresh started` event and released with the
 * outcome), the new tokens sealed and appended before anyone can lease them.
 */
@Injectable()
export class RefreshService implements OnModuleDestroy {
  private readonly running = new Map<string, Promise<RefreshOutcome>>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly breaker: ProviderBreaker;
  private readonly settings: typeof DEFAULTS;
  private readonly durations: number[] = [];
  private orphanTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Test switches (refused in production): prove the lock matters; widen the answer-to-append window. */
  private readonly lockDisabled: boolean;
  private readonly pauseBeforeAppendMs: number;

  constructor(
    private readonly state: CredentialStateService,
    private readonly notices: NoticePublisher,
    private readonly metrics: TokenMetrics,
    @Inject(PROVIDERS) private readonly providers: ProviderRegistry,
    @Inject(KEY_RING) private readonly keyRing: KeyRing,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: RuntimeConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.settings = { ...DEFAULTS, ...config.file.refresh };
    this.breaker = new ProviderBreaker(
      this.settings.breakerThreshold,
      this.settings.breakerPauseMs,
    );
    const env = process.env;
    this.lockDisabled =
      testOnlySetting(env, 'BROKER_TEST_DISABLE_REFRESH_LOCK', config.production) === '1';
    this.pauseBeforeAppendMs = Number(
      testOnlySetting(env, 'BROKER_TEST_PAUSE_BEFORE_REFRESH_APPEND_MS', config.production) ?? 0,
    );
    if (this.lockDisabled)
      logger.warn('test switch: refreshes run without the per-credential refresh lock');
  }

  /** Looks for refreshes whose process died, now and periodically. */
  start(): void {
    void this.recoverOrphans();
    this.orphanTimer = setInterval(
      () => void this.recoverOrphans(),
      Math.max(1000, this.settings.lockTtlMs / 2),
    );
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.orphanTimer !== undefined) clearInterval(this.orphanTimer);
    for (const timer of this.retries.values()) clearTimeout(timer);
  }

  /** Median of recent refresh durations: the retry hint while one runs. */
  estimateMs(): number {
    if (this.durations.length === 0) return 1000;
    const sorted = [...this.durations].sort((a, b) => a - b);
    return Math.max(100, Math.round(sorted[Math.floor(sorted.length / 2)] as number));
  }

  /** Refreshes now, joining a refresh of the same credential already running in this replica. */
  refresh(
    credentialId: string,
    reason: RefreshReason,
    knownRefreshCount?: number,
  ): Promise<RefreshOutcome> {
    const running = this.running.get(credentialId);
    if (running !== undefined) return running;
    const work = this.traced(credentialId, reason, knownRefreshCount).finally(() =>
      this.running.delete(credentialId),
    );
    this.running.set(credentialId, work);
    return work;
  }

  /** Starts a refresh unless one runs or is held back; never throws. */
  requestInBackground(credentialId: string, reason: RefreshReason): void {
    if (this.stopped || this.running.has(credentialId)) return;
    const credential = this.state.get(credentialId);
    if (credential === undefined || !this.refreshable(credential)) return;
    // An orphaned refresh still shows as in flight; only recovery may start over it.
    if (credential.refresh.inFlight !== null && reason !== 'recovery') return;
    if ((credential.refresh.nextAttemptAt ?? 0) > this.clock.now()) return;
    this.refresh(credentialId, reason).catch((error: unknown) =>
      this.logger.warn(
        { credentialId, reason, err: errorMessage(error) },
        'background refresh failed',
      ),
    );
  }

  refreshable(credential: CredentialState): boolean {
    return (
      credential.status === 'active' &&
      credential.secrets.refreshToken !== undefined &&
      (this.providers.get(credential.provider)?.tokenUrl ?? '') !== ''
    );
  }

  /** One refresh in a span of the trace that asked for it, counted and timed by outcome. */
  private traced(
    credentialId: string,
    reason: RefreshReason,
    knownRefreshCount?: number,
  ): Promise<RefreshOutcome> {
    const credential = this.state.get(credentialId);
    const provider = credential?.provider ?? 'unknown';
    const attributes = {
      [SpanAttributes.credentialId]: credentialId,
      [SpanAttributes.provider]: provider,
      [SpanAttributes.pool]: credential?.pool ?? 'unknown',
      [SpanAttributes.reason]: reason,
    };
    return withSpan(`refresh ${provider}`, { attributes }, async (span) => {
      const started = performance.now();
      let outcome = 'error';
      try {
        const result = await this.run(credentialId, reason, knownRefreshCount);
        outcome = result.status;
        return result;
      } finally {
        span.setAttribute(SpanAttributes.outcome, outcome);
        this.metrics.refresh.refreshes.inc({ provider, outcome });
        // Busy and held refreshes did no work worth timing.
        if (outcome !== 'busy' && outcome !== 'held')
          this.metrics.refresh.refreshDuration.observe(
            { provider, outcome },
            (performance.now() - started) / 1000,
          );
      }
    });
  }

  private metadata(reason: RefreshReason, refreshId: string): EventMetadata {
    return { actor: `refresh:${reason}`, replica: this.config.replicaId, correlationId: refreshId };
  }

  private async run(
    credentialId: string,
    reason: RefreshReason,
    knownRefreshCount?: number,
  ): Promise<RefreshOutcome> {
    const credential = this.state.get(credentialId);
    if (credential === undefined)
      throw new BrokerError('UNKNOWN_CREDENTIAL', `credential '${credentialId}' does not exist`);
    const provider = this.providers.get(credential.provider);
    if (provider === undefined || provider.tokenUrl === '') {
      throw new BrokerError(
        'REFRESH_FAILED',
        `provider '${credential.provider}' has no token URL configured`,
      );
    }
    const now = this.clock.now();
    const heldFor = Math.max((credential.refresh.nextAttemptAt ?? 0) - now, 0);
    if (heldFor > 0)
      return {
        status: 'held',
        retryAfterMs: heldFor,
        why: `backing off after ${credential.refresh.lastError ?? 'a failure'}`,
      };
    const breakerWait = this.breaker.waitMs(provider.name, now);
    if (breakerWait > 0)
      return {
        status: 'held',
        retryAfterMs: breakerWait,
        why: `refreshes of ${provider.name} are paused after repeated failures`,
      };

    const refreshId = randomUUID();
    const metadata = this.metadata(reason, refreshId);
    try {
      const startEvents = await this.state.execute(
        credentialId,
        {
          type: 'StartRefresh',
          data: {
            credentialId,
            refreshId,
            reason,
            replica: this.config.replicaId,
            knownRefreshCount: knownRefreshCount ?? credential.refreshCount,
          },
        },
        metadata,
        this.lockDisabled
          ? undefined
          : RefreshLocks.acquire(
              credentialId,
              refreshId,
              this.config.replicaId,
              this.settings.lockTtlMs,
            ),
      );
      if (startEvents.length === 0) return { status: 'superseded' };
    } catch (error) {
      if (error instanceof RefreshLockHeldError) {
        return { status: 'busy', retryAfterMs: Math.max(this.estimateMs(), 100) };
      }
      throw error;
    }

    const started = this.state.get(credentialId) as CredentialState;
    const sealedRefresh = started.secrets.refreshToken as string;
    const refreshToken = this.keyRing.decrypt(
      sealedRefresh,
      secretContext(credentialId, 'refreshToken'),
    );
    const clientSecret =
      started.secrets.clientSecret === undefined
        ? undefined
        : this.keyRing.decrypt(
            started.secrets.clientSecret,
            secretContext(credentialId, 'clientSecret'),
          );
    // The new token's life is counted from the database's clock, not this process's:
    // a replica whose clock runs ahead would otherwise record a later expiry than the token has.
    const issuedFrom = await this.databaseNow();
    const sentAt = this.clock.now();
    const result = await refreshAccessToken(
      provider,
      {
        refreshToken,
        ...(started.clientId === undefined ? {} : { clientId: started.clientId }),
        ...(clientSecret === undefined ? {} : { clientSecret }),
      },
      { timeoutMs: this.settings.timeoutMs, now: () => this.clock.now() },
    );
    const durationMs = this.clock.now() - sentAt;
    await this.testOnlyPause();

    try {
      if (result.ok)
        return await this.succeeded(
          started,
          refreshId,
          refreshToken,
          result,
          issuedFrom,
          durationMs,
          metadata,
        );
      if (result.kind === 'permanent')
        return await this.rejected(started, refreshId, sealedRefresh, result, durationMs, metadata);
      return await this.failedForNow(started, refreshId, result, durationMs, metadata);
    } catch (error) {
      if (
        error instanceof RefreshLockLostError ||
        (error instanceof BrokerError && error.code === 'INTERNAL')
      ) {
        this.logger.error(
          { credentialId, refreshId, err: errorMessage(error) },
          'refresh result discarded: this refresh no longer held the lock',
        );
        return { status: 'failed', error: 'lock lost' };
      }
      throw error;
    }
  }

  private async succeeded(
    credential: CredentialState,
    refreshId: string,
    presented: string,
    result: Extract<RefreshResult, { ok: true }>,
    /** Database time just before the request was sent. */
    issuedFrom: number,
    durationMs: number,
    metadata: EventMetadata,
  ): Promise<RefreshOutcome> {
    const id = credential.id;
    // An empty or absent refresh token in the answer keeps the stored one.
    const rotated = result.refreshToken !== undefined && result.refreshToken !== presented;
    const expiresAt = issuedFrom + (result.expiresInSeconds ?? ASSUMED_LIFETIME_S) * 1000;
    await this.state.execute(
      id,
      {
        type: 'CompleteRefresh',
        data: {
          credentialId: id,
          refreshId,
          secrets: {
            accessToken: this.keyRing.encrypt(result.accessToken, secretContext(id, 'accessToken')),
            ...(rotated
              ? {
                  refreshToken: this.keyRing.encrypt(
                    result.refreshToken,
                    secretContext(id, 'refreshToken'),
                  ),
                }
              : {}),
          },
          tokenType: result.tokenType,
          expiresAt: new Date(expiresAt).toISOString(),
          ...(result.scopes === undefined ? {} : { scopes: result.scopes }),
          rotated,
          fingerprint: this.keyRing.fingerprint(rotated ? result.refreshToken : presented),
          durationMs,
        },
      },
      metadata,
      this.release(id, refreshId),
    );
    this.breaker.success(credential.provider);
    this.durations.push(durationMs);
    if (this.durations.length > 20) this.durations.shift();
    this.logger.info(
      {
        credentialId: id,
        refreshId,
        rotated,
        durationMs,
        expiresAt: new Date(expiresAt).toISOString(),
      },
      'credential refreshed',
    );
    return { status: 'refreshed', rotated };
  }

  private async rejected(
    credential: CredentialState,
    refreshId: string,
    sealedPresented: string,
    result: Extract<RefreshResult, { ok: false }>,
    durationMs: number,
    metadata: EventMetadata,
  ): Promise<RefreshOutcome> {
    const id = credential.id;
    // One check before giving up on the account: did a sibling already rotate it?
    await this.state.catchUpStream(id);
    const stored = this.state.get(id);
    const superseded = stored !== undefined && stored.secrets.refreshToken !== sealedPresented;
    const failure = {
      credentialId: id,
      refreshId,
      kind: superseded ? ('superseded' as const) : ('permanent' as const),
      error: result.error,
      ...(result.description === undefined ? {} : { description: result.description }),
      ...(result.status === undefined ? {} : { status: result.status }),
      durationMs,
      jitter: 0,
    };
    await this.state.execute(
      id,
      { type: 'FailRefresh', data: failure },
      metadata,
      this.release(id, refreshId),
    );
    if (superseded) {
      this.logger.info(
        { credentialId: id, refreshId },
        'refresh token was already rotated by a sibling; nothing lost',
      );
      return { status: 'superseded' };
    }
    const reason = this.state.get(id)?.statusReason ?? result.error;
    this.logger.warn(
      { credentialId: id, refreshId, error: result.error },
      'credential needs re-authorisation',
    );
    await this.notices
      .credentialWithdrawn(id, reason)
      .catch((error: unknown) =>
        this.logger.warn({ credentialId: id, err: errorMessage(error) }, 'lease notices not sent'),
      );
    return { status: 'reauth-required', reason };
  }

  private async failedForNow(
    credential: CredentialState,
    refreshId: string,
    result: Extract<RefreshResult, { ok: false }>,
    durationMs: number,
    metadata: EventMetadata,
  ): Promise<RefreshOutcome> {
    const id = credential.id;
    await this.state.execute(
      id,
      {
        type: 'FailRefresh',
        data: {
          credentialId: id,
          refreshId,
          kind: 'transient',
          error: result.error,
          ...(result.description === undefined ? {} : { description: result.description }),
          ...(result.status === undefined ? {} : { status: result.status }),
          ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
          durationMs,
          jitter: Math.random(),
        },
      },
      metadata,
      this.release(id, refreshId),
    );
    const opened = this.breaker.failure(credential.provider, this.clock.now());
    const after = this.state.get(id) as CredentialState;
    const retryAfterMs = Math.max(
      0,
      (after.refresh.nextAttemptAt ?? this.clock.now()) - this.clock.now(),
    );
    this.logger.warn(
      {
        credentialId: id,
        refreshId,
        error: result.error,
        status: result.status,
        retryAfterMs,
        consecutiveFailures: after.refresh.consecutiveFailures,
        breakerOpened: opened,
      },
      'refresh failed; will retry',
    );
    this.scheduleRetry(after, retryAfterMs);
    return { status: 'failed', error: result.error, retryAfterMs };
  }

  /** Retries a transient failure by itself while the token is close to its end. */
  private scheduleRetry(credential: CredentialState, afterMs: number): void {
    const needs =
      credential.health.refreshRequired ||
      credential.secrets.accessToken === undefined ||
      credential.expiresAt - this.clock.now() < RETRY_WHEN_EXPIRING_WITHIN_MS;
    if (!needs || this.stopped) return;
    clearTimeout(this.retries.get(credential.id));
    const wait = Math.max(afterMs, this.breaker.waitMs(credential.provider, this.clock.now()));
    this.retries.set(
      credential.id,
      setTimeout(() => {
        this.retries.delete(credential.id);
        this.requestInBackground(credential.id, 'on-demand');
      }, wait + 10),
    );
  }

  /**
   * A `refresh started` with no outcome whose lock has expired belongs to a dead
   * process: refresh it once more (which records the lost outcome first).
   */
  async recoverOrphans(): Promise<void> {
    const now = this.clock.now();
    for (const credential of this.state.registry.all()) {
      const inFlight = credential.refresh.inFlight;
      if (inFlight === null || this.running.has(credential.id) || credential.status !== 'active')
        continue;
      try {
        const lock = await describeLock((sql, params) => this.db.query(sql, params), credential.id);
        if (lock !== undefined && !lock.expired) continue;
        this.logger.warn(
          {
            credentialId: credential.id,
            refreshId: inFlight.refreshId,
            startedBy: inFlight.replica,
            since: new Date(inFlight.startedAt).toISOString(),
            now: new Date(now).toISOString(),
          },
          'refresh outcome unknown; refreshing once to find out',
        );
        this.requestInBackground(credential.id, 'recovery');
      } catch (error) {
        this.logger.warn(
          { credentialId: credential.id, err: errorMessage(error) },
          'could not check a refresh lock',
        );
      }
    }
  }

  /** The database's time (epoch ms), the clock every replica shares (moved as tests move time). */
  private async databaseNow(): Promise<number> {
    const [row] = await this.db.query<{ now: number }[]>(
      `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now`,
    );
    if (row === undefined) throw new Error('the database did not tell the time');
    return Number(row.now) + (this.clock.sharedShiftMs?.() ?? 0);
  }

  private release(credentialId: string, refreshId: string) {
    return this.lockDisabled ? undefined : RefreshLocks.release(credentialId, refreshId);
  }

  /** Test-only: widen the window between the provider's answer and the append. */
  private async testOnlyPause(): Promise<void> {
    const ms = this.pauseBeforeAppendMs;
    if (!(ms > 0)) return;
    this.logger.warn({ pauseMs: ms }, 'test hook: provider answered; pausing before the append');
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
