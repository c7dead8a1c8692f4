import { ROOT_CONTEXT, trace, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { headers as natsHeaders, type Msg, type MsgHdrs } from 'nats';
import pg from 'pg';
import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  OtlpReceiver,
  type ReceivedSpan,
  waitFor,
  WebhookReceiver,
} from '@broker/testing';

const SPAN_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
const CANARY_ACCESS = 'canary-trace-access-7f3a91c2';

const isPostgres = (span: ReceivedSpan): boolean =>
  (span.attributes['db.system.name'] ?? span.attributes['db.system']) === 'postgresql';
const statementOf = (span: ReceivedSpan): string => {
  const text = span.attributes['db.query.text'] ?? span.attributes['db.statement'];
  return typeof text === 'string' ? text : '';
};

/** The spans of one trace, printed when an expectation about them fails. */
const describeTrace = (spans: readonly ReceivedSpan[]): string =>
  spans.map((s) => `${s.service} ${s.name} ${s.spanId} <- ${s.parentSpanId ?? 'root'}`).join('\n');

describe('tracing - one trace per lease and per scheduled refresh, exported over OTLP', () => {
  let receiver: OtlpReceiver;
  let server: MockOAuthServer;
  let broker: BrokerHarness;
  let client: BasicTracerProvider;
  const w3c = new W3CTraceContextPropagator();

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(
      server,
      {
        pools: { 'gemini-cli/default': { refreshStrategy: 'conservative' } },
        refresh: { timeoutMs: 2000, lockTtlMs: 5000 },
        alerting: { allowPrivateWebhookTargets: true },
      },
      receiver.env,
    );
    const tokenService = await broker.start();
    expect(tokenService.lines.find((l) => l.msg === 'ready')?.['tracing']).toBe(true);
    await broker.start('refresh-scheduler');
    // The test's own client: an in-process tracer provider (its span is the trace's root; the
    // OTLP exporter cannot run inside jest's VM, so the test checks the links against its ids).
    client = new BasicTracerProvider();
  }, 60_000);

  afterAll(async () => {
    await client?.shutdown();
    await broker?.destroy();
    await server?.close();
    await receiver?.close();
  });

  /** Every span exported anywhere: none may hold a token, a refresh token or the client secret. */
  const expectNoSecretExported = (secrets: readonly string[]) => {
    const exported = receiver.bodies.join('\n');
    for (const secret of secrets) expect(exported).not.toContain(secret);
  };

  it('a client lease: client span -> token-service server span -> Postgres audit insert, one trace', async () => {
    await addCredential(broker, 'traced', { accessToken: CANARY_ACCESS });
    const span: Span = client.getTracer('test-client').startSpan('client lease');
    const h = natsHeaders();
    w3c.inject(trace.setSpan(ROOT_CONTEXT, span), h, {
      set: (c: MsgHdrs, k: string, v: string) => c.set(k, v),
    });
    const reply = (
      await broker.nats.request(broker.subject('lease.gemini-cli.default.traced-bot'), '{}', {
        headers: h,
        timeout: 5000,
      })
    ).json<{ ok: boolean; lease: { leaseId: string; accessToken: string } }>();
    span.end();
    expect(reply.ok).toBe(true);
    expect(reply.lease.accessToken).toBe(CANARY_ACCESS);
    const { traceId, spanId } = span.spanContext();

    let spans: ReceivedSpan[] = [];
    await waitFor('the lease trace', () => {
      spans = receiver.trace(traceId);
      return Promise.resolve(
        spans.some((s) => isPostgres(s) && statementOf(s).includes('lease_audit')),
      );
    });

    const handling = spans.find(
      (s) => s.service === 'token-service' && s.kind === SPAN_KIND.SERVER,
    );
    expect(handling).toBeDefined();
    expect(handling?.parentSpanId).toBe(spanId);
    expect(handling?.name).toBe('lease gemini-cli/default');
    expect(handling?.attributes).toMatchObject({
      'broker.provider': 'gemini-cli',
      'broker.pool': 'default',
      'broker.client': 'traced-bot',
      'broker.lease_id': reply.lease.leaseId,
      'broker.credential_id': 'traced',
      'broker.outcome': 'ok',
    });

    const insert = spans.find(
      (s) => isPostgres(s) && statementOf(s).includes('INSERT INTO lease_audit'),
    );
    expect(insert?.service).toBe('token-service');
    // insert -> (any spans of the token service) -> handling -> the client's span
    const chain = receiver.ancestors(insert as ReceivedSpan);
    expect(chain[chain.length - 1]).toBe(handling);
    expect(chain.every((s) => s.service === 'token-service')).toBe(true);

    // The audit row names the same trace.
    const db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ trace_id: string }>(
        'SELECT trace_id FROM lease_audit WHERE lease_id = $1',
        [reply.lease.leaseId],
      );
      expect(rows[0]?.trace_id).toBe(traceId);
    } finally {
      await db.end();
    }
    expectNoSecretExported([CANARY_ACCESS, `refresh-traced`, 'test-secret']);
  });

  it('a scheduled refresh: scheduler decision -> command -> token service -> provider HTTP call -> appended event -> relay, one trace', async () => {
    const relayed: Msg[] = [];
    const subscription = broker.nats.subscribe(broker.subject('events.credential.refreshed.v1'), {
      callback: (_error, msg) => relayed.push(msg),
    });
    const grant = server.issueGrant();
    await addCredential(broker, 'due-soon', {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    });
    await waitFor(
      'the scheduled refresh',
      () => Promise.resolve(server.refreshRequests.length === 1),
      20_000,
    );

    let decision: ReceivedSpan | undefined;
    let spans: ReceivedSpan[] = [];
    const refreshTraced = (): boolean => {
      decision = receiver.spans.find(
        (s) =>
          s.service === 'refresh-scheduler' &&
          s.name === 'refresh due gemini-cli/default' &&
          s.attributes['broker.credential_id'] === 'due-soon',
      );
      if (decision === undefined) return false;
      spans = receiver.trace(decision.traceId);
      return spans.some((s) => s.name === 'relay credential.refreshed.v1');
    };
    await waitFor('the refresh trace, relay included', () => Promise.resolve(refreshTraced()));
    const trail = describeTrace(spans);
    const byParent = (parent: ReceivedSpan | undefined, match: (s: ReceivedSpan) => boolean) => {
      const found = spans.find((s) => s.parentSpanId === parent?.spanId && match(s));
      if (found === undefined)
        throw new Error(`missing span under ${parent?.name}; trace:\n${trail}`);
      return found;
    };

    expect(decision?.kind).toBe(SPAN_KIND.PRODUCER);
    expect(decision?.parentSpanId).toBeUndefined();
    const command = byParent(decision, (s) => s.name === 'command refresh');
    expect(command.service).toBe('token-service');
    expect(command.kind).toBe(SPAN_KIND.CONSUMER);
    expect(command.attributes['broker.outcome']).toBe('refreshed');

    const refresh = byParent(command, (s) => s.name === 'refresh gemini-cli');
    expect(refresh.attributes).toMatchObject({
      'broker.credential_id': 'due-soon',
      'broker.reason': 'scheduled',
      'broker.outcome': 'refreshed',
    });
    const http = byParent(refresh, (s) => s.kind === SPAN_KIND.CLIENT && !isPostgres(s));
    expect(String(http.attributes['url.full'])).toBe(server.tokenUrl);
    expect(http.attributes['http.response.status_code']).toBe(200);

    const append = byParent(
      refresh,
      (s) =>
        s.name === 'events append' &&
        s.attributes['broker.event_type'] === 'credential.refreshed.v1',
    );
    byParent(append, (s) => isPostgres(s) && statementOf(s).includes('INSERT INTO events'));

    // The event's metadata carried the trace to the relay, and the relay to JetStream's headers.
    const relay = byParent(append, (s) => s.name === 'relay credential.refreshed.v1');
    expect(relay.kind).toBe(SPAN_KIND.PRODUCER);
    await waitFor('the relayed event', () => Promise.resolve(relayed.length > 0), 5000);
    subscription.unsubscribe();
    const message = relayed[0] as Msg;
    const carried = trace.getSpanContext(
      w3c.extract(ROOT_CONTEXT, message.headers, {
        keys: () => ['traceparent', 'tracestate'],
        get: (h: MsgHdrs | undefined, k: string) => h?.get(k) || undefined,
      }),
    );
    expect(carried).toMatchObject({ traceId: decision?.traceId, spanId: relay.spanId });
    const metadata = message.json<{ metadata: { traceparent?: string } }>().metadata;
    expect(metadata.traceparent).toContain(`-${append.spanId}-`);
    expect(metadata.traceparent).toContain(decision?.traceId);

    expectNoSecretExported([...server.issuedTokens, 'test-secret']);
  });

  it('a scheduled refresh refused for good: ... -> appended event -> alert -> webhook delivery, one trace', async () => {
    const hooks = await WebhookReceiver.start();
    try {
      await broker.start('alerting');
      expect((await broker.admin('webhooks.add', { url: hooks.url, id: 'traced' })).ok).toBe(true);
      const grant = server.issueGrant();
      server.invalidGrantNext(1);
      await addCredential(broker, 'doomed', {
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      });
      let spans: ReceivedSpan[] = [];
      const delivered = (): boolean => {
        const deliver = receiver.spans.find(
          (s) => s.service === 'alerting' && s.name === 'webhook deliver',
        );
        if (deliver === undefined) return false;
        spans = receiver.trace(deliver.traceId);
        return true;
      };
      await waitFor('the webhook delivery span', () => Promise.resolve(delivered()), 30_000);
      const trail = describeTrace(spans);
      const parentOf = (span: ReceivedSpan) => {
        const found = spans.find((s) => s.spanId === span.parentSpanId);
        if (found === undefined) throw new Error(`no parent of ${span.name}; trace:\n${trail}`);
        return found;
      };
      const deliver = spans.find((s) => s.name === 'webhook deliver') as ReceivedSpan;
      expect(deliver.kind).toBe(SPAN_KIND.CLIENT);
      expect(deliver.attributes).toMatchObject({
        'webhook.id': 'traced',
        'http.response.status_code': 204,
      });
      expect(JSON.stringify(deliver.attributes)).not.toContain('/hooks/broker');
      const alert = parentOf(deliver);
      expect(alert.name).toMatch(/^alert (reauth_required|refresh)$/);
      expect(alert.service).toBe('alerting');
      // The alert continues the trace of the event that caused it, appended by the token
      // service's refresh, which the scheduler's decision started.
      const cause = parentOf(alert);
      expect(cause).toMatchObject({ name: 'events append', service: 'token-service' });
      const chain = receiver.ancestors(cause);
      expect(chain.map((s) => s.name)).toEqual(
        expect.arrayContaining([
          'refresh gemini-cli',
          'command refresh',
          'refresh due gemini-cli/default',
        ]),
      );
      expect(chain[chain.length - 1]?.service).toBe('refresh-scheduler');
      const sent = hooks.received.find((r) => r.headers['webhook-id'] !== undefined);
      expect(sent).toBeDefined();
      expectNoSecretExported([...server.issuedTokens, 'test-secret']);
    } finally {
      await hooks.down();
    }
  });
});
