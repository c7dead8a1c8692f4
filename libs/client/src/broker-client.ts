import { context, SpanKind, type Context } from '@opentelemetry/api';
import { connect, type ConnectionOptions, type NatsConnection, type Subscription } from 'nats';
import {
  ClientNameSchema,
  DEFAULT_MIN_VALIDITY_SECONDS,
  DEFAULT_SUBJECT_ROOT,
  describeIssues,
  LeaseNoticeSchema,
  LeaseReplySchema,
  LeaseRequestSchema,
  ModelSchema,
  OkReplySchema,
  PoolNameSchema,
  ProviderNameSchema,
  ReportRequestSchema,
  subjectsFor,
  type LeaseRequest,
  type Subjects,
} from '@broker/contracts';
import type { z } from 'zod';
import { BrokerClientError, BrokerTransportError, InvalidRequestError } from './errors.js';
import {
  checkPolicy,
  DEFAULT_FAILOVER_STATUSES,
  DEFAULT_MAX_ATTEMPTS,
  runWithFailover,
  type CallOutcome,
} from './failover.js';
import { BrokerLease } from './lease.js';
import { LeaseCache, leaseKey } from './lease-cache.js';
import { requestReply } from './request.js';
import { inSpan } from './tracing.js';

export const DEFAULT_POOL = 'default';
export const DEFAULT_RENEW_MARGIN_MS = 120_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** The part of a NATS connection the client uses. */
export type BrokerConnection = Pick<
  NatsConnection,
  'request' | 'subscribe' | 'drain' | 'close' | 'isClosed'
>;

/** Where a client's replies come: the only inbox the broker's NATS permissions let it read. */
export const clientInboxPrefix = (client: string): string => `_INBOX.${client}`;

export interface BrokerClientOptions {
  /** The client name NATS permissions pin this service to; the audit records it. */
  readonly client: string;
  /** Subject root of the broker (`BROKER_SUBJECT_ROOT`), `oauth` by default. */
  readonly subjectRoot?: string;
  /** A lease is reused until this long before it expires. Default 2 minutes. */
  readonly renewMarginMs?: number;
  readonly requestTimeoutMs?: number;
  /** Calls `withToken` makes at most, each on its own account. Default 3. */
  readonly maxAttempts?: number;
  /** Statuses after which `withToken` tries the next account. Default 429, 402, 401. */
  readonly failoverStatuses?: readonly number[];
  /** Drop kept leases when the broker says their account was revoked. Default true. */
  readonly watchNotices?: boolean;
  /** Called when a report could not be delivered; default: a process warning. */
  readonly onReportError?: (error: BrokerClientError, lease: BrokerLease) => void;
  readonly now?: () => number;
}

export interface CreateBrokerClientOptions extends BrokerClientOptions {
  /** An open connection, left open by `close()`; otherwise the client connects with `connect`. */
  readonly connection?: NatsConnection;
  readonly connect?: ConnectionOptions;
}

export interface LeaseOptions {
  readonly pool?: string;
  /** The token must stay valid this long; default 60 s. */
  readonly minValiditySeconds?: number;
  readonly model?: string;
  /** Accounts not to lease. */
  readonly exclude?: Iterable<string>;
  /** `false` asks the broker for a new lease even if one is kept. Default true. */
  readonly reuse?: boolean;
}

export interface WithTokenOptions extends LeaseOptions {
  readonly maxAttempts?: number;
}

const SUBJECT_ROOT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const checked = <S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> => {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new InvalidRequestError(
      `${what}: ${describeIssues(result.error).replace(/^body: /, '')}`,
    );
  return result.data;
};

/**
 * Leases tokens from the broker over NATS, keeps them until shortly before they
 * expire, reports how calls went, and fails over to the next account on 429/402/401.
 */
export class BrokerClient {
  readonly client: string;
  readonly subjects: Subjects;
  private readonly cache: LeaseCache<BrokerLease>;
  private readonly inflight = new Map<string, Promise<BrokerLease>>();
  private readonly failoverStatuses: ReadonlySet<number>;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly notices: Subscription | undefined;
  private closed = false;

  constructor(
    private readonly nats: BrokerConnection,
    private readonly options: BrokerClientOptions,
    /** Whether `close()` closes the connection too. */
    private readonly ownsConnection = false,
  ) {
    this.client = checked(ClientNameSchema, options.client, 'client');
    const root = options.subjectRoot ?? DEFAULT_SUBJECT_ROOT;
    if (!SUBJECT_ROOT.test(root))
      throw new InvalidRequestError(`subjectRoot '${root}' is not a NATS subject prefix`);
    this.subjects = subjectsFor(root);
    this.cache = new LeaseCache(options.renewMarginMs ?? DEFAULT_RENEW_MARGIN_MS);
    this.failoverStatuses = new Set(options.failoverStatuses ?? DEFAULT_FAILOVER_STATUSES);
    this.maxAttempts = checkPolicy({
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      failoverStatuses: this.failoverStatuses,
    }).maxAttempts;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    this.notices =
      options.watchNotices === false
        ? undefined
        : nats.subscribe(this.subjects.notice(this.client), {
            callback: (error, msg) => {
              if (error !== null) return;
              let body: unknown;
              try {
                body = msg.json();
              } catch {
                return;
              }
              const notice = LeaseNoticeSchema.safeParse(body);
              if (notice.success) this.cache.forgetCredential(notice.data.credentialId);
            },
          });
  }

  /**
   * Uses `connection` if given (and leaves it open), else connects and owns the
   * connection, with replies on the client's own inbox `_INBOX.<client>` (the
   * broker's NATS permissions let a client read only that one; `connect.inboxPrefix`
   * overrides it).
   */
  static async create(options: CreateBrokerClientOptions): Promise<BrokerClient> {
    const { connection, connect: connectOptions, ...rest } = options;
    if (connection !== undefined) return new BrokerClient(connection, rest, false);
    const client = checked(ClientNameSchema, options.client, 'client');
    const nats = await connect({
      name: `broker-client:${client}`,
      inboxPrefix: clientInboxPrefix(client),
      ...connectOptions,
    });
    try {
      return new BrokerClient(nats, rest, true);
    } catch (error) {
      await nats.close();
      throw error;
    }
  }

  /** A lease on `provider`: a kept one while it is good enough, else a new one from the broker. */
  lease(provider: string, options: LeaseOptions = {}): Promise<BrokerLease> {
    return this.leaseIn(context.active(), provider, options);
  }

  /** Tells the broker how a call with `lease` went. A failover status drops the kept lease. */
  report(lease: BrokerLease, outcome: CallOutcome): Promise<void> {
    return this.reportIn(context.active(), lease, outcome);
  }

  private async leaseIn(
    parent: Context,
    provider: string,
    options: LeaseOptions,
  ): Promise<BrokerLease> {
    this.assertOpen();
    checked(ProviderNameSchema, provider, 'provider');
    const pool = checked(PoolNameSchema, options.pool ?? DEFAULT_POOL, 'pool');
    const model =
      options.model === undefined ? undefined : checked(ModelSchema, options.model, 'model');
    const minValiditySeconds = options.minValiditySeconds ?? DEFAULT_MIN_VALIDITY_SECONDS;
    const exclude = new Set(options.exclude ?? []);
    const key = leaseKey(provider, pool, model);
    const reuse = options.reuse !== false;
    if (reuse) {
      const kept = this.cache.get(key, this.now(), {
        minValidityMs: minValiditySeconds * 1000,
        exclude,
      });
      if (kept !== undefined) return kept;
    }
    const request = checked(
      LeaseRequestSchema,
      {
        minValiditySeconds,
        ...(exclude.size === 0 ? {} : { exclude: [...exclude] }),
        ...(model === undefined ? {} : { model }),
      },
      'lease options',
    );
    // Callers that would all miss the cache together share one request.
    if (!reuse || exclude.size > 0) return this.requestLease(parent, provider, pool, key, request);
    const flightKey = `${key}|${minValiditySeconds}`;
    const pending = this.inflight.get(flightKey);
    if (pending !== undefined) return pending;
    const flight = this.requestLease(parent, provider, pool, key, request).finally(() =>
      this.inflight.delete(flightKey),
    );
    this.inflight.set(flightKey, flight);
    return flight;
  }

  private async reportIn(parent: Context, lease: BrokerLease, outcome: CallOutcome): Promise<void> {
    this.assertOpen();
    const body = checked(
      ReportRequestSchema,
      {
        leaseId: lease.leaseId,
        ...(lease.model === undefined ? {} : { model: lease.model }),
        ...outcome,
      },
      'report',
    );
    if (
      body.outcome === 'failure' &&
      body.status !== undefined &&
      this.failoverStatuses.has(body.status)
    )
      this.cache.forgetCredential(lease.credentialId);
    await inSpan(
      `report ${lease.provider}/${lease.pool}`,
      SpanKind.CLIENT,
      {
        'broker.client': this.client,
        'broker.provider': lease.provider,
        'broker.pool': lease.pool,
        'broker.credential_id': lease.credentialId,
        'broker.lease_id': lease.leaseId,
        'broker.outcome': body.outcome,
        ...(body.status === undefined ? {} : { 'http.response.status_code': body.status }),
      },
      parent,
      (_span, ctx) =>
        requestReply(this.nats, this.subjects.report(this.client), body, OkReplySchema, {
          timeoutMs: this.timeoutMs,
          trace: ctx,
        }),
    );
  }

  /**
   * Leases a token, runs `fn(token, lease)`, reports the outcome. When `fn` throws an
   * error with status 429, 402 or 401 (a {@link ProviderHttpError}, or any error with a
   * numeric `status`), the failure is reported and the call runs again on the next
   * account, at most `maxAttempts` times; then {@link FailoverExhaustedError} lists
   * each attempt. Other errors are reported and rethrown as they are.
   */
  async withToken<T>(
    provider: string,
    fn: (token: string, lease: BrokerLease) => Promise<T>,
    options: WithTokenOptions = {},
  ): Promise<T> {
    const { maxAttempts, ...leaseOptions } = options;
    const pool = options.pool ?? DEFAULT_POOL;
    return inSpan(
      `withToken ${provider}/${pool}`,
      SpanKind.INTERNAL,
      { 'broker.client': this.client, 'broker.provider': provider, 'broker.pool': pool },
      context.active(),
      (_span, ctx) =>
        runWithFailover(
          { provider, pool },
          {
            lease: (exclude) => this.leaseIn(ctx, provider, { ...leaseOptions, exclude }),
            report: (lease, outcome) =>
              this.reportIn(ctx, lease, outcome).catch((error: unknown) =>
                this.reportFailed(error, lease),
              ),
            call: (lease) => context.with(ctx, () => fn(lease.accessToken, lease)),
            now: this.now,
          },
          { maxAttempts: maxAttempts ?? this.maxAttempts, failoverStatuses: this.failoverStatuses },
          new Set(options.exclude ?? []),
        ),
    );
  }

  /** Leases kept for reuse right now. */
  get keptLeases(): number {
    return this.cache.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Forgets kept leases and stops listening; closes the connection if the client opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notices?.unsubscribe();
    this.cache.clear();
    if (!this.ownsConnection || this.nats.isClosed()) return;
    try {
      await this.nats.drain();
    } catch {
      await this.nats.close();
    }
  }

  private requestLease(
    parent: Context,
    provider: string,
    pool: string,
    key: string,
    request: LeaseRequest,
  ): Promise<BrokerLease> {
    return inSpan(
      `lease ${provider}/${pool}`,
      SpanKind.CLIENT,
      {
        'broker.client': this.client,
        'broker.provider': provider,
        'broker.pool': pool,
        ...(request.model === undefined ? {} : { 'broker.model': request.model }),
      },
      parent,
      async (span, ctx) => {
        const reply = await requestReply(
          this.nats,
          this.subjects.lease(provider, pool, this.client),
          request,
          LeaseReplySchema,
          { timeoutMs: this.timeoutMs, trace: ctx },
        );
        const lease = new BrokerLease(reply.lease, request.model);
        span.setAttributes({
          'broker.lease_id': lease.leaseId,
          'broker.credential_id': lease.credentialId,
          'broker.outcome': 'ok',
        });
        this.cache.set(key, lease, this.now());
        return lease;
      },
    );
  }

  private reportFailed(error: unknown, lease: BrokerLease): void {
    const failure =
      error instanceof BrokerClientError
        ? error
        : new BrokerTransportError(`report failed: ${String(error)}`);
    if (this.options.onReportError !== undefined) {
      this.options.onReportError(failure, lease);
      return;
    }
    process.emitWarning(
      `report of lease ${lease.leaseId} (${lease.credentialId}) failed: ${failure.message}`,
      { code: 'BROKER_REPORT_FAILED' },
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new BrokerTransportError(`client '${this.client}' is closed`);
  }
}
