import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import pg from 'pg';
import {
  BrokerClient,
  BrokerNoRespondersError,
  FailoverExhaustedError,
  NoCredentialsError,
  ProviderHttpError,
  UnknownProviderError,
} from '@broker/client';
import {
  addCredential,
  BrokerHarness,
  FakeProviderApi,
  NATS_URL,
  REPO_ROOT,
  type Reply,
} from '@broker/testing';
import { summarize } from '../examples/summarizer/src/summarize.js';

const COOLDOWN_SECONDS = 60;
const LIMITED = 'acct-limited';

interface Health {
  coolingUntil: string | null;
  modelCooldowns: Record<string, string>;
}
interface AuditRow {
  leaseId: string;
  credentialId: string;
}

describe('TypeScript client - withToken against the real token service and a fake provider API', () => {
  let broker: BrokerHarness;
  let api: FakeProviderApi;
  const clients: BrokerClient[] = [];

  const clientNamed = async (client: string): Promise<BrokerClient> => {
    const created = await BrokerClient.create({
      connection: broker.nats,
      subjectRoot: broker.root,
      client,
    });
    clients.push(created);
    return created;
  };

  /** One call to the fake API with a leased token: throws a ProviderHttpError on an error status. */
  const callApi = async (token: string): Promise<string> => {
    const response = await fetch(`${api.url}/v1internal:generateContent`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    if (!response.ok) throw ProviderHttpError.fromResponse(response);
    return 'ok';
  };

  const credential = async (id: string) => {
    const reply = await broker.admin('credentials.get', { id });
    return reply as Reply & { credential: { state: string }; health: Health };
  };

  const leasesOf = async (client: string): Promise<AuditRow[]> =>
    (await broker.admin('audit.leases', { client, limit: 1000 }))['leases'] as AuditRow[];

  beforeAll(async () => {
    api = await FakeProviderApi.start((token) =>
      token === `access-${LIMITED}` || token.startsWith('access-busy-')
        ? { status: 429, retryAfterSeconds: COOLDOWN_SECONDS }
        : undefined,
    );
    broker = await BrokerHarness.create();
    await broker.start();
    for (const id of [LIMITED, 'acct-ok-1', 'acct-ok-2'])
      expect((await addCredential(broker, id)).ok).toBe(true);
    for (const id of ['busy-1', 'busy-2', 'busy-3', 'busy-4'])
      expect((await addCredential(broker, id, { pool: 'busy' })).ok).toBe(true);
    expect((await addCredential(broker, 'keep-1', { pool: 'keep' })).ok).toBe(true);
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await broker.destroy();
    await api.close();
  });

  it('reports the 429, fails over to the next account and succeeds; the limited account is called once in its cooldown', async () => {
    const client = await clientNamed('failover-bot');
    const before = Date.now();
    for (let i = 0; i < 9; i += 1) {
      // A new lease per call, so that round-robin would come back to the limited account.
      await expect(client.withToken('gemini-cli', callApi, { reuse: false })).resolves.toBe('ok');
    }
    expect(api.callsWith(`access-${LIMITED}`)).toBe(1);
    expect(api.callsWith('access-acct-ok-1')).toBeGreaterThan(0);
    expect(api.callsWith('access-acct-ok-2')).toBeGreaterThan(0);

    const limited = await credential(LIMITED);
    expect(limited.credential.state).toBe('cooling');
    const coolingUntil = Date.parse(limited.health.coolingUntil ?? '');
    expect(coolingUntil).toBeGreaterThanOrEqual(before + (COOLDOWN_SECONDS - 1) * 1000);
    expect(coolingUntil).toBeLessThanOrEqual(Date.now() + COOLDOWN_SECONDS * 1000);

    // Nine calls and one failover: ten leases in the audit, one of them on the limited account.
    const audit = await leasesOf('failover-bot');
    expect(audit).toHaveLength(10);
    expect(audit.filter((l) => l.credentialId === LIMITED)).toHaveLength(1);
  });

  it('keeps a lease for the calls that follow, instead of leasing per call', async () => {
    const client = await clientNamed('keeper-bot');
    for (let i = 0; i < 5; i += 1) await client.withToken('gemini-cli', callApi, { pool: 'keep' });
    expect(api.callsWith('access-keep-1')).toBe(5);
    expect(await leasesOf('keeper-bot')).toHaveLength(1);
    expect(client.keptLeases).toBe(1);
  });

  it('when every account answers 429, gives up after 3 attempts on 3 accounts with a typed error', async () => {
    const client = await clientNamed('busy-bot');
    const error = await client
      .withToken('gemini-cli', callApi, { pool: 'busy' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailoverExhaustedError);
    const exhausted = error as FailoverExhaustedError;
    expect(exhausted.code).toBe('FAILOVER_EXHAUSTED');
    expect(exhausted.attempts).toHaveLength(3);
    expect(new Set(exhausted.attempts.map((a) => a.credentialId)).size).toBe(3);
    for (const attempt of exhausted.attempts) {
      expect(attempt.status).toBe(429);
      expect(attempt.retryAfterMs).toBe(COOLDOWN_SECONDS * 1000);
    }
    expect(exhausted.message).toMatch(/^gemini-cli\/busy: 3 attempts failed \(busy-\d 429/);
    expect(JSON.stringify({ ...exhausted, message: exhausted.message })).not.toContain('access-');
    expect(api.calls.filter((c) => c.token.startsWith('access-busy-'))).toHaveLength(3);
    for (const attempt of exhausted.attempts)
      expect((await credential(attempt.credentialId)).credential.state).toBe('cooling');
  });

  it('answers a pool that does not exist, an unknown provider and a wrong subject root with typed errors', async () => {
    const client = await clientNamed('lost-bot');
    const noPool = await client
      .lease('gemini-cli', { pool: 'no-such-pool' })
      .catch((e: unknown) => e);
    expect(noPool).toBeInstanceOf(NoCredentialsError);
    expect(noPool).toMatchObject({ code: 'NO_CREDENTIALS' });
    expect((noPool as Error).message).toContain('gemini-cli/no-such-pool');
    await expect(
      client.withToken('gemini-cli', callApi, { pool: 'no-such-pool' }),
    ).rejects.toBeInstanceOf(NoCredentialsError);
    await expect(client.lease('no-such-provider')).rejects.toBeInstanceOf(UnknownProviderError);

    const elsewhere = await BrokerClient.create({
      connection: broker.nats,
      subjectRoot: `${broker.root}-nobody`,
      client: 'lost-bot',
    });
    clients.push(elsewhere);
    await expect(elsewhere.lease('gemini-cli')).rejects.toBeInstanceOf(BrokerNoRespondersError);
  });

  it('the trace context of the client span reaches the token service: the audit row has its trace id', async () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const client = await clientNamed('traced-bot');
      const lease = await client.lease('gemini-cli', { pool: 'keep', reuse: false });
      const span = exporter.getFinishedSpans().find((s) => s.name === 'lease gemini-cli/keep');
      expect(span).toBeDefined();
      const db = new pg.Client({ connectionString: broker.databaseUrl });
      await db.connect();
      try {
        const { rows } = await db.query<{ trace_id: string | null }>(
          'SELECT trace_id FROM lease_audit WHERE lease_id = $1',
          [lease.leaseId],
        );
        expect(rows).toEqual([{ trace_id: span!.spanContext().traceId }]);
      } finally {
        await db.end();
      }
    } finally {
      trace.disable();
      propagation.disable();
    }
  });

  describe('examples/summarizer', () => {
    it('its summarize() sends the Code Assist request with a leased token', async () => {
      const client = await clientNamed('summarizer-lib');
      const config = { endpoint: `${api.url}/v1internal`, model: 'gemini-2.5-flash' };
      const summaries: string[] = [];
      for (let i = 0; i < 3; i += 1) summaries.push(await summarize(client, 'Some text.', config));
      expect(summaries).toEqual([api.summary, api.summary, api.summary]);
      const body = api.calls.at(-1)?.body as { model: string; request: unknown };
      expect(body.model).toBe('gemini-2.5-flash');
      expect(JSON.stringify(body.request)).toContain('Some text.');
    });

    const runExample = (entry: string, client: string) =>
      promisify(execFile)(
        process.execPath,
        [join(REPO_ROOT, 'dist/examples/summarizer/src', entry), 'A long text to summarise.'],
        {
          env: {
            ...process.env,
            NATS_URL,
            BROKER_SUBJECT_ROOT: broker.root,
            BROKER_CLIENT: client,
            CODE_ASSIST_ENDPOINT: `${api.url}/v1internal`,
          },
          // A connection left open would keep the process alive until this kills it.
          timeout: 20_000,
        },
      );

    it('runs as a process from the build, prints the summary and exits', async () => {
      const { stdout } = await runExample('main.js', 'summarizer');
      expect(stdout).toBe(`${api.summary}\n`);
      expect(await leasesOf('summarizer')).toHaveLength(1);
    });

    it('runs inside a Nest application: BrokerClientModule injects the client and closes its connection on shutdown', async () => {
      const { stdout } = await runExample('nest-main.js', 'summarizer-nest');
      expect(stdout).toBe(`${api.summary}\n`);
      expect(await leasesOf('summarizer-nest')).toHaveLength(1);
    });
  });
});
