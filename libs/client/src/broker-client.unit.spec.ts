import { inspect } from 'node:util';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ErrorCode, NatsError, type MsgHdrs } from 'nats';
import { BrokerClient, type BrokerConnection } from './broker-client.js';
import {
  AllCredentialsUnavailableError,
  BadReplyError,
  BrokerNoRespondersError,
  BrokerTimeoutError,
  BrokerTransportError,
  InvalidRequestError,
  NoCredentialsError,
} from './errors.js';
import { ProviderHttpError } from './provider-error.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const LEASE_IDS = [
  '00000000-0000-4000-8000-000000000001',
  '00000000-0000-4000-8000-000000000002',
  '00000000-0000-4000-8000-000000000003',
  '00000000-0000-4000-8000-000000000004',
];

interface Sent {
  readonly subject: string;
  readonly body: Record<string, unknown>;
  readonly headers: MsgHdrs | undefined;
}

type Answer = (subject: string, body: Record<string, unknown>) => unknown;

/** A NATS connection in memory: records requests and answers them as the test says. */
class FakeNats {
  readonly sent: Sent[] = [];
  readonly subscriptions = new Map<string, (error: null, msg: { json(): unknown }) => void>();
  closed = false;
  private leases = 0;

  constructor(public answer: Answer = (subject, body) => this.broker(subject, body)) {}

  /** Like the token service: a new credential per lease, round-robin over three. */
  broker(subject: string, body: Record<string, unknown>): unknown {
    if (subject.includes('.report.')) return { ok: true };
    const n = this.leases++;
    const credentialId = ['cred-a', 'cred-b', 'cred-c'][n % 3] as string;
    const exclude = (body['exclude'] as string[] | undefined) ?? [];
    if (exclude.includes(credentialId)) return this.broker(subject, body);
    return {
      ok: true,
      lease: {
        leaseId: LEASE_IDS[n % LEASE_IDS.length],
        provider: 'gemini-cli',
        pool: 'default',
        credentialId,
        accessToken: `token-of-${credentialId}`,
        tokenType: 'Bearer',
        expiresAt: new Date(NOW + 3600_000).toISOString(),
      },
    };
  }

  get connection(): BrokerConnection {
    return this as unknown as BrokerConnection;
  }

  request(subject: string, data: string, options: { headers?: MsgHdrs }) {
    const body = JSON.parse(data) as Record<string, unknown>;
    this.sent.push({ subject, body, headers: options.headers });
    const reply = this.answer(subject, body);
    if (reply instanceof Error) return Promise.reject(reply);
    const bytes = new TextEncoder().encode(
      typeof reply === 'string' ? reply : JSON.stringify(reply),
    );
    return Promise.resolve({ data: bytes });
  }

  subscribe(subject: string, options: { callback: (error: null, msg: unknown) => void }) {
    this.subscriptions.set(subject, options.callback);
    return { unsubscribe: () => this.subscriptions.delete(subject) };
  }

  drain() {
    this.closed = true;
    return Promise.resolve();
  }

  close() {
    this.closed = true;
    return Promise.resolve();
  }

  isClosed() {
    return this.closed;
  }

  leaseRequests(): Sent[] {
    return this.sent.filter((s) => s.subject.includes('.lease.'));
  }
}

const clientOn = (nats: FakeNats, owns = false) =>
  new BrokerClient(nats.connection, { client: 'my-bot', now: () => NOW }, owns);

describe('BrokerClient', () => {
  it('leases on the subject of its provider, pool and client, and keeps the lease for reuse', async () => {
    const nats = new FakeNats();
    const client = clientOn(nats);
    const first = await client.lease('gemini-cli', { model: 'gemini-2.5-pro' });
    const again = await client.lease('gemini-cli', { model: 'gemini-2.5-pro' });
    expect(again).toBe(first);
    expect(nats.sent).toEqual([
      {
        subject: 'oauth.v1.lease.gemini-cli.default.my-bot',
        body: { minValiditySeconds: 60, model: 'gemini-2.5-pro' },
        headers: undefined,
      },
    ]);
    expect(first).toMatchObject({
      credentialId: 'cred-a',
      accessToken: 'token-of-cred-a',
      expiresAt: new Date(NOW + 3600_000),
      model: 'gemini-2.5-pro',
    });
    expect(client.keptLeases).toBe(1);
    await client.lease('gemini-cli', { reuse: false });
    expect(nats.leaseRequests()).toHaveLength(2);
  });

  it('callers that miss the cache together share one lease request', async () => {
    const nats = new FakeNats();
    const client = clientOn(nats);
    const leases = await Promise.all([1, 2, 3, 4].map(() => client.lease('gemini-cli')));
    expect(new Set(leases).size).toBe(1);
    expect(nats.leaseRequests()).toHaveLength(1);
  });

  it('a reported 429 drops the kept lease; the report carries the lease id and model', async () => {
    const nats = new FakeNats();
    const client = clientOn(nats);
    const lease = await client.lease('gemini-cli', { model: 'gemini-2.5-pro' });
    await client.report(lease, { outcome: 'failure', status: 429, retryAfterMs: 30_000 });
    expect(nats.sent[1]).toMatchObject({
      subject: 'oauth.v1.report.my-bot',
      body: {
        leaseId: lease.leaseId,
        outcome: 'failure',
        status: 429,
        retryAfterMs: 30_000,
        model: 'gemini-2.5-pro',
      },
    });
    const next = await client.lease('gemini-cli', { model: 'gemini-2.5-pro' });
    expect(next.credentialId).toBe('cred-b');
    await client.report(next, { outcome: 'failure', status: 500 });
    expect(await client.lease('gemini-cli', { model: 'gemini-2.5-pro' })).toBe(next);
  });

  it('a revocation notice on its notice subject drops the kept leases of that account', async () => {
    const nats = new FakeNats();
    const client = clientOn(nats);
    const lease = await client.lease('gemini-cli');
    const notify = nats.subscriptions.get('oauth.v1.notice.my-bot');
    notify?.(null, { json: () => ({ not: 'a notice' }) });
    expect(client.keptLeases).toBe(1);
    notify?.(null, {
      json: () => ({
        type: 'lease.revoked',
        credentialId: lease.credentialId,
        leaseIds: [lease.leaseId],
        reason: 'account closed',
        at: new Date(NOW).toISOString(),
      }),
    });
    expect(client.keptLeases).toBe(0);
  });

  it('withToken passes the token, fails over on a 429 and reports both calls', async () => {
    const nats = new FakeNats();
    const client = clientOn(nats);
    const seen: string[] = [];
    const result = await client.withToken('gemini-cli', (token, lease) => {
      seen.push(token);
      if (lease.credentialId === 'cred-a') throw new ProviderHttpError(429, 10_000);
      return Promise.resolve(`done with ${lease.credentialId}`);
    });
    expect(result).toBe('done with cred-b');
    expect(seen).toEqual(['token-of-cred-a', 'token-of-cred-b']);
    expect(nats.leaseRequests()[1]?.body).toEqual({ minValiditySeconds: 60, exclude: ['cred-a'] });
    const reports = nats.sent.filter((s) => s.subject.endsWith('.report.my-bot'));
    expect(reports.map((r) => [r.body['outcome'], r.body['status']])).toEqual([
      ['failure', 429],
      ['success', undefined],
    ]);
    // The lease that worked is the one kept.
    expect((await client.lease('gemini-cli')).credentialId).toBe('cred-b');
  });

  it('a report that cannot be delivered does not fail the call; it is handed to onReportError', async () => {
    const nats: FakeNats = new FakeNats((subject, body): unknown =>
      subject.includes('.report.')
        ? NatsError.errorForCode(ErrorCode.NoResponders)
        : nats.broker(subject, body),
    );
    const failures: string[] = [];
    const client = new BrokerClient(nats.connection, {
      client: 'my-bot',
      onReportError: (error) => failures.push(error.code),
    });
    await expect(client.withToken('gemini-cli', () => Promise.resolve(42))).resolves.toBe(42);
    expect(failures).toEqual(['NO_RESPONDERS']);
  });

  it('turns error replies into their typed errors, with code, message and retryAfterMs', async () => {
    const replies: unknown[] = [
      { ok: false, error: { code: 'NO_CREDENTIALS', message: 'gemini-cli/nope: none' } },
      {
        ok: false,
        error: { code: 'ALL_CREDENTIALS_UNAVAILABLE', message: 'all cooling', retryAfterMs: 2500 },
      },
    ];
    const nats = new FakeNats(() => replies.shift());
    const client = clientOn(nats);
    await expect(client.lease('gemini-cli', { pool: 'nope' })).rejects.toEqual(
      new NoCredentialsError('gemini-cli/nope: none'),
    );
    const error = await client.lease('gemini-cli').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllCredentialsUnavailableError);
    expect(error).toMatchObject({
      code: 'ALL_CREDENTIALS_UNAVAILABLE',
      name: 'AllCredentialsUnavailableError',
      message: 'all cooling',
      retryAfterMs: 2500,
    });
  });

  it.each([
    ['a timeout', NatsError.errorForCode(ErrorCode.Timeout), BrokerTimeoutError, 'TIMEOUT'],
    [
      'no responders',
      NatsError.errorForCode(ErrorCode.NoResponders),
      BrokerNoRespondersError,
      'NO_RESPONDERS',
    ],
    [
      'a closed connection',
      NatsError.errorForCode(ErrorCode.ConnectionClosed),
      BrokerTransportError,
      'TRANSPORT',
    ],
    ['a reply that is not JSON', 'not json', BadReplyError, 'BAD_REPLY'],
    [
      'a lease without a token',
      { ok: true, lease: { leaseId: LEASE_IDS[0] } },
      BadReplyError,
      'BAD_REPLY',
    ],
    [
      'an unknown error code',
      { ok: false, error: { code: 'NOPE', message: 'x' } },
      BadReplyError,
      'BAD_REPLY',
    ],
  ])('turns %s into a typed error', async (_what, reply, type, code) => {
    const client = clientOn(new FakeNats(() => reply));
    const error = await client.lease('gemini-cli').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code });
  });

  it('refuses names that would change the subject, before sending anything', async () => {
    const nats = new FakeNats();
    const client = clientOn(nats);
    await expect(client.lease('gemini-cli.*')).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(client.lease('gemini-cli', { pool: 'a b' })).rejects.toThrow(
      "pool: a pool name may contain only letters, digits, '_' and '-'",
    );
    expect(nats.sent).toEqual([]);
    expect(() => new BrokerClient(nats.connection, { client: 'my.bot' })).toThrow(
      InvalidRequestError,
    );
    expect(
      () => new BrokerClient(nats.connection, { client: 'my-bot', subjectRoot: 'a..b' }),
    ).toThrow("subjectRoot 'a..b' is not a NATS subject prefix");
  });

  it('never shows the token when a lease is logged, serialised or spread', async () => {
    const client = clientOn(new FakeNats());
    const lease = await client.lease('gemini-cli');
    expect(JSON.stringify(lease)).not.toContain('token-of');
    expect(inspect(lease)).not.toContain('token-of');
    expect(JSON.stringify({ ...lease })).not.toContain('token-of');
    expect(lease.authorization).toBe('Bearer token-of-cred-a');
  });

  it('closes the connection it owns, and only that one', async () => {
    const owned = new FakeNats();
    const borrowed = new FakeNats();
    const a = clientOn(owned, true);
    const b = clientOn(borrowed, false);
    await a.close();
    await b.close();
    expect(owned.closed).toBe(true);
    expect(borrowed.closed).toBe(false);
    expect(borrowed.subscriptions.size).toBe(0);
    await expect(b.lease('gemini-cli')).rejects.toThrow("client 'my-bot' is closed");
  });

  describe('trace propagation', () => {
    const exporter = new InMemorySpanExporter();

    it('sends no trace headers when no OpenTelemetry SDK is registered', async () => {
      const nats = new FakeNats();
      await clientOn(nats).withToken('gemini-cli', () => Promise.resolve(1));
      expect(nats.sent.every((s) => s.headers === undefined)).toBe(true);
    });

    describe('with an SDK', () => {
      beforeAll(() => {
        trace.setGlobalTracerProvider(
          new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
        );
        propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      });
      afterAll(() => {
        trace.disable();
        propagation.disable();
        context.disable();
      });
      beforeEach(() => exporter.reset());

      it('injects traceparent of a client span "lease <provider>/<pool>" into the request', async () => {
        const nats = new FakeNats();
        const lease = await clientOn(nats).lease('gemini-cli', { model: 'gemini-2.5-pro' });
        const [span] = exporter.getFinishedSpans();
        expect(span?.name).toBe('lease gemini-cli/default');
        expect(span?.kind).toBe(SpanKind.CLIENT);
        expect(span?.instrumentationScope.name).toBe('@broker/client');
        expect(span?.attributes).toMatchObject({
          'broker.provider': 'gemini-cli',
          'broker.pool': 'default',
          'broker.client': 'my-bot',
          'broker.model': 'gemini-2.5-pro',
          'broker.lease_id': lease.leaseId,
          'broker.credential_id': 'cred-a',
          'broker.outcome': 'ok',
        });
        const traceparent = nats.sent[0]?.headers?.get('traceparent');
        const { traceId, spanId } = span!.spanContext();
        expect(traceparent).toBe(`00-${traceId}-${spanId}-01`);
      });

      it('withToken puts lease, call and reports under one trace, and no span holds the token', async () => {
        const nats = new FakeNats();
        await clientOn(nats).withToken('gemini-cli', (_token, lease) => {
          if (lease.credentialId === 'cred-a') throw new ProviderHttpError(429);
          return Promise.resolve('ok');
        });
        const spans = exporter.getFinishedSpans();
        expect(spans.map((s) => s.name).sort()).toEqual([
          'lease gemini-cli/default',
          'lease gemini-cli/default',
          'report gemini-cli/default',
          'report gemini-cli/default',
          'withToken gemini-cli/default',
        ]);
        const root = spans.find((s) => s.name.startsWith('withToken'))!;
        for (const span of spans) {
          expect(span.spanContext().traceId).toBe(root.spanContext().traceId);
          if (span !== root) expect(span.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
        }
        const traceIds = nats.sent.map((s) => s.headers?.get('traceparent').split('-')[1]);
        expect(new Set(traceIds)).toEqual(new Set([root.spanContext().traceId]));
        expect(JSON.stringify(spans.map((s) => [s.attributes, s.status]))).not.toContain(
          'token-of',
        );
      });

      it('marks the lease span failed with the broker code', async () => {
        const client = clientOn(
          new FakeNats(() => ({ ok: false, error: { code: 'NO_CREDENTIALS', message: 'none' } })),
        );
        await expect(client.lease('gemini-cli')).rejects.toBeInstanceOf(NoCredentialsError);
        const [span] = exporter.getFinishedSpans();
        expect(span?.status).toEqual({ code: 2, message: 'NO_CREDENTIALS: none' });
        expect(span?.attributes['broker.error_code']).toBe('NO_CREDENTIALS');
      });
    });
  });
});
