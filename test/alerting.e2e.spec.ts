import { Webhook } from 'standardwebhooks';
import {
  addCredential,
  BrokerHarness,
  brokerWithOAuthServer,
  metricValue,
  MockOAuthServer,
  waitFor,
  WebhookReceiver,
  type ReceivedWebhook,
  type ServiceProcess,
} from '@broker/testing';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwkG8dZzcCRUs=';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = (check: () => boolean | Promise<boolean>, o: { timeoutMs: number; what: string }) =>
  waitFor(o.what, async () => check(), o.timeoutMs);

const alerting = (receiver: WebhookReceiver, extra: Record<string, unknown> = {}) => ({
  usage: { windowSeconds: 0.2 },
  alerting: {
    minRequests: 20,
    allowPrivateWebhookTargets: true,
    webhooks: [{ url: receiver.url, secret: SECRET, events: ['all'] }],
    ...extra,
  },
});

const bodyOf = (r: ReceivedWebhook) =>
  JSON.parse(r.body) as {
    type: string;
    credential_id: string | null;
    message: string;
    details: Record<string, unknown>;
  };

/** Waits until the receiver holds `count` webhooks of a type, then a little longer to see no more come. */
const expectExactly = async (
  receiver: WebhookReceiver,
  type: string,
  count: number,
  extra: (r: ReceivedWebhook) => boolean = () => true,
) => {
  const matching = () => receiver.ofType(type).filter(extra);
  await until(() => matching().length >= count, {
    timeoutMs: 15_000,
    what: `${count} '${type}' webhooks`,
  });
  await sleep(1_500);
  expect(matching()).toHaveLength(count);
  return matching();
};

/** Waits until the alerting service has folded the whole log (its consumer lag is 0). */
const alertingCaughtUp = (broker: BrokerHarness, service: ServiceProcess) =>
  until(
    async () =>
      metricValue((await broker.ops(service, '/metrics')).body, 'broker_consumer_lag_events', {
        consumer: 'alerting',
      }) === 0,
    { timeoutMs: 15_000, what: 'alerting to fold the log' },
  );

const verify = (r: ReceivedWebhook) =>
  new Webhook(SECRET).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

describe('alerting - rules fire and resolve once, as signed webhooks', () => {
  let receiver: WebhookReceiver;
  let broker: BrokerHarness;
  let server: MockOAuthServer | undefined;

  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });

  afterEach(async () => {
    await broker?.destroy();
    await receiver.down();
    await server?.close();
    server = undefined;
  });

  it('failure rate: 40 reports with 15 failures fire one alert, more failures do not repeat it, a recovery resolves it once', async () => {
    broker = await BrokerHarness.create({ config: alerting(receiver) });
    await Promise.all([broker.start(), broker.start('alerting')]);
    await addCredential(broker, 'work1');
    const call = async (failure: boolean) => {
      const lease = await broker.lease('gemini-cli', 'default', 'bot');
      expect(lease.ok).toBe(true);
      const leaseId = (lease['lease'] as { leaseId: string }).leaseId;
      const report = await broker.report('bot', {
        leaseId,
        outcome: failure ? 'failure' : 'success',
        ...(failure ? { status: 500 } : {}),
      });
      expect(report.ok).toBe(true);
    };
    // 15 of 40 fail, never two in a row, so the account stays healthy and only the rate is high.
    for (let i = 0; i < 40; i += 1) await call([0, 3, 5].includes(i % 8));
    const [fired] = await expectExactly(receiver, 'failure', 1);
    // It fires as soon as the window holds enough requests with too many failures.
    const first = bodyOf(fired!);
    expect(first).toMatchObject({
      type: 'failure',
      credential_id: 'work1',
      details: { provider: 'gemini-cli' },
    });
    expect(first.message).toMatch(/^High failure rate detected: \d+\.\d%$/);
    const {
      total_requests: total,
      error_count: errors,
      failure_rate: rate,
    } = first.details as Record<string, number>;
    expect(total).toBeGreaterThanOrEqual(20);
    expect(rate).toBeGreaterThan(0.25);
    expect(rate).toBeCloseTo(errors! / total!, 3);
    expect(verify(fired!)).toMatchObject({ type: 'failure' });
    expect(() =>
      new Webhook(SECRET).verify(
        fired!.body.replace('work1', 'work2'),
        fired!.headers as Record<string, string>,
      ),
    ).toThrow();

    for (let i = 0; i < 10; i += 1) await call(i % 2 === 0);
    await sleep(1_000);
    expect(receiver.ofType('failure')).toHaveLength(1);

    for (let i = 0; i < 30; i += 1) await call(false);
    const [resolved] = await expectExactly(receiver, 'resolved', 1);
    expect(bodyOf(resolved!)).toMatchObject({
      type: 'resolved',
      credential_id: 'work1',
      details: { alert_type: 'failure', alert_id: bodyOf(fired!).details['alert_id'] },
    });
    expect(receiver.ofType('failure')).toHaveLength(1);
    const alerts = await broker.admin('alerts.list');
    expect(alerts['alerts']).toMatchObject([{ key: 'failure:work1', state: 'resolved' }]);
  });

  it('re-authorisation after invalid_grant fires once with the refresh failure, and resolves when the account is revoked', async () => {
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(server, alerting(receiver));
    await Promise.all([broker.start(), broker.start('alerting')]);
    const grant = server.issueGrant();
    await addCredential(broker, 'personal', {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
    });
    server.invalidGrantNext(1);
    await broker.admin('credentials.refresh', { id: 'personal' });
    const [reauth] = await expectExactly(receiver, 'reauth_required', 1);
    expect(bodyOf(reauth!)).toMatchObject({
      credential_id: 'personal',
      message: 'Re-authorisation required: invalid_grant',
      details: { error: 'invalid_grant' },
    });
    const [refresh] = await expectExactly(receiver, 'refresh', 1);
    expect(bodyOf(refresh!).details).toMatchObject({
      error: 'invalid_grant',
      error_kind: 'permanent',
    });

    await broker.admin('credentials.revoke', { id: 'personal', reason: 'account closed' });
    const resolved = await expectExactly(receiver, 'resolved', 2);
    expect(resolved.map((r) => bodyOf(r).details['alert_type']).sort()).toEqual([
      'reauth_required',
      'refresh',
    ]);
  });

  it('transient refresh failures fire one alert only after several in a row, and a good refresh resolves it', async () => {
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(server, {
      ...alerting(receiver),
      refresh: { timeoutMs: 1000, breakerThreshold: 100 },
    });
    await Promise.all([broker.start(), broker.start('alerting')]);
    const grant = server.issueGrant();
    await addCredential(broker, 'flaky', {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
    });
    server.failNext(100, 503);
    const failures = async () =>
      (
        (await broker.admin('credentials.get', { id: 'flaky' }))['health'] as {
          refreshFailures: number;
        }
      ).refreshFailures;
    // Each admin refresh makes at most one attempt (held while the backoff runs).
    const failUntil = async (n: number) => {
      while ((await failures()) < n) {
        await broker.admin('credentials.refresh', { id: 'flaky' });
        await sleep(100);
      }
      expect(await failures()).toBe(n);
    };
    await failUntil(2);
    // Two in a row are below `refreshFailuresToAlert` (3): once alerting has folded them, nothing fires.
    await alertingCaughtUp(broker, broker.services[1]!);
    await sleep(1_000);
    expect(receiver.ofType('refresh')).toHaveLength(0);
    expect(
      ((await broker.admin('alerts.list'))['alerts'] as { type: string }[]).filter(
        (a) => a.type === 'refresh',
      ),
    ).toEqual([]);
    await failUntil(3);
    const [fired] = await expectExactly(receiver, 'refresh', 1);
    expect(bodyOf(fired!).details).toMatchObject({ error_kind: 'transient', error: 'http_503' });
    expect(bodyOf(fired!).details['consecutive_failures']).toBeGreaterThanOrEqual(3);

    server.clearFaults();
    await until(async () => (await broker.admin('credentials.refresh', { id: 'flaky' })).ok, {
      timeoutMs: 20_000,
      what: 'a good refresh',
    });
    // The token nearing its end while refreshes failed was an expiry warning too; both resolve once.
    await expectExactly(
      receiver,
      'resolved',
      1,
      (r) => bodyOf(r).details['alert_type'] === 'refresh',
    );
    await expectExactly(
      receiver,
      'resolved',
      1,
      (r) => bodyOf(r).details['alert_type'] === 'expiry_warning',
    );
  });

  it('expiry warning with a controlled clock fires once when the token nears its end without a refresh token', async () => {
    broker = await BrokerHarness.create({ config: alerting(receiver) });
    await Promise.all([broker.start(), broker.start('alerting', { BROKER_TEST_CLOCK: '1' })]);
    const expiresAt = Date.now() + 2 * 86_400_000;
    const added = await addCredential(broker, 'short', {
      refreshToken: undefined,
      expiresAt: new Date(expiresAt).toISOString(),
    });
    expect(added.ok).toBe(true);
    await sleep(1_500);
    expect(receiver.ofType('expiry_warning')).toHaveLength(0);

    await broker.setClock(expiresAt - 3 * 3_600_000);
    const [warning] = await expectExactly(receiver, 'expiry_warning', 1);
    expect(bodyOf(warning!)).toMatchObject({
      credential_id: 'short',
      message: 'Token expires in 180 minutes and it has no refresh token',
      details: { has_refresh_token: false },
    });
    // A restart neither repeats the alert nor forgets it: it resolves once, later.
    await broker.services[1]!.stop();
    broker.services.splice(1, 1);
    await broker.start('alerting', { BROKER_TEST_CLOCK: '1' });
    await broker.setClock(expiresAt - 2 * 3_600_000);
    await sleep(1_500);
    expect(receiver.ofType('expiry_warning')).toHaveLength(1);
    await broker.admin('credentials.decommission', { id: 'short', reason: 'replaced' });
    const [resolved] = await expectExactly(receiver, 'resolved', 1);
    expect(bodyOf(resolved!).details['alert_type']).toBe('expiry_warning');
    expect(receiver.ofType('expiry_warning')).toHaveLength(1);
  });

  it('expiry warning fires once when a rotated credential is about to be decommissioned and its successor cannot take over', async () => {
    broker = await BrokerHarness.create({ config: alerting(receiver) });
    await Promise.all([broker.start(), broker.start('alerting')]);
    const farExpiry = new Date(Date.now() + 90 * 86_400_000).toISOString();
    await addCredential(broker, 'old', { expiresAt: farExpiry });
    const rotated = await broker.admin('credentials.rotate', {
      id: 'old',
      graceDays: 0.5,
      successor: { id: 'new', accessToken: 'a', refreshToken: 'r', expiresAt: farExpiry },
    });
    expect(rotated.ok).toBe(true);
    // Ending after its grace period is the plan while the successor serves.
    await alertingCaughtUp(broker, broker.services[1]!);
    await sleep(1_000);
    expect(receiver.ofType('expiry_warning')).toHaveLength(0);

    await broker.admin('credentials.revoke', { id: 'new', reason: 'leaked' });
    const [warning] = await expectExactly(receiver, 'expiry_warning', 1);
    expect(bodyOf(warning!)).toMatchObject({
      credential_id: 'old',
      details: { ends: 'rotation_grace', successor_id: 'new', successor_status: 'revoked' },
    });
    expect(bodyOf(warning!).message).toMatch(
      /^Credential ends in 7(19|20) minutes and its successor 'new' is revoked$/,
    );
    await broker.admin('credentials.decommission', { id: 'old', reason: 'replaced' });
    const [resolved] = await expectExactly(receiver, 'resolved', 1);
    expect(bodyOf(resolved!).details['alert_type']).toBe('expiry_warning');
  });

  it('pool exhausted fires when leases are refused and resolves once a lease is served again', async () => {
    broker = await BrokerHarness.create({ config: alerting(receiver) });
    await Promise.all([broker.start(), broker.start('alerting')]);
    await addCredential(broker, 'only');
    const lease = await broker.lease('gemini-cli', 'default', 'bot');
    const leaseId = (lease['lease'] as { leaseId: string }).leaseId;
    await broker.report('bot', { leaseId, outcome: 'failure', status: 429, retryAfterMs: 600_000 });
    for (let i = 0; i < 3; i += 1) {
      const refused = await broker.lease('gemini-cli', 'default', 'bot');
      expect(refused.error?.code).toBe('ALL_CREDENTIALS_UNAVAILABLE');
    }
    const [exhausted] = await expectExactly(receiver, 'pool_exhausted', 1);
    expect(bodyOf(exhausted!)).toMatchObject({
      credential_id: null,
      details: { provider: 'gemini-cli', pool: 'default', refused: 3 },
    });
    await addCredential(broker, 'second');
    await until(async () => (await broker.lease('gemini-cli', 'default', 'bot')).ok, {
      timeoutMs: 5_000,
      what: 'a lease from the new account',
    });
    const [resolved] = await expectExactly(receiver, 'resolved', 1);
    expect(bodyOf(resolved!).details['alert_type']).toBe('pool_exhausted');
  });

  it('rotation due fires once when the scheduler marks the account due, and resolves when a successor is added', async () => {
    const DAY = 86_400_000;
    broker = await BrokerHarness.create({
      config: {
        ...alerting(receiver),
        pools: { 'gemini-cli/default': { rotation: { intervalDays: 30, graceDays: 1 } } },
      },
      env: { BROKER_TEST_CLOCK: '1' },
    });
    await Promise.all([
      broker.start(),
      broker.start('refresh-scheduler'),
      broker.start('alerting'),
    ]);
    const start = Date.now();
    const farExpiry = new Date(start + 90 * DAY).toISOString();
    await addCredential(broker, 'old', { expiresAt: farExpiry });
    await sleep(1_000);
    expect(receiver.ofType('rotation')).toHaveLength(0);

    await broker.setClock(start + 31 * DAY);
    const [due] = await expectExactly(receiver, 'rotation', 1);
    expect(bodyOf(due!)).toMatchObject({
      credential_id: 'old',
      message: 'Rotation due: add a successor account',
    });

    const rotated = await broker.admin('credentials.rotate', {
      id: 'old',
      successor: {
        id: 'new',
        accessToken: 'access-new',
        refreshToken: 'refresh-new',
        expiresAt: farExpiry,
      },
    });
    expect(rotated.ok).toBe(true);
    const [resolved] = await expectExactly(receiver, 'resolved', 1);
    expect(bodyOf(resolved!).details['alert_type']).toBe('rotation');
  });

  it('a receiver that answers 500, then is down for an hour of clock time, gets one delivery with one webhook-id, across a restart', async () => {
    broker = await BrokerHarness.create({ config: alerting(receiver) });
    const clocked = { BROKER_TEST_CLOCK: '1' };
    await Promise.all([broker.start(), broker.start('alerting', clocked)]);
    const t0 = Date.now();
    const deliveries = async () =>
      (await broker.admin('webhooks.deliveries', { limit: 10 }))['deliveries'] as {
        id: string;
        attempts: number;
        state: string;
        lastError: string | null;
      }[];
    const attemptsMade = async (n: number) =>
      until(async () => (await deliveries())[0]?.attempts === n, {
        timeoutMs: 15_000,
        what: `attempt ${n}`,
      });

    receiver.answer = () => 500;
    await addCredential(broker, 'soon', {
      refreshToken: undefined,
      expiresAt: new Date(t0 + 3_600_000).toISOString(),
    });
    await attemptsMade(1);
    await broker.setClock(t0 + 10_000);
    await attemptsMade(2);
    await receiver.down();
    await broker.setClock(t0 + 7 * 60_000);
    await attemptsMade(3);
    expect((await deliveries())[0]?.lastError).toMatch(/ECONNREFUSED/);

    const alertingService = broker.services[1]!;
    await alertingService.stop();
    broker.services.splice(1, 1);
    await broker.start('alerting', clocked);
    await broker.setClock(t0 + 45 * 60_000);
    await attemptsMade(4);

    receiver.answer = () => 200;
    await receiver.up();
    await broker.setClock(t0 + (4 * 60 + 10) * 60_000);
    await until(async () => (await deliveries())[0]?.state === 'delivered', {
      timeoutMs: 15_000,
      what: 'the delivery',
    });

    const all = await deliveries();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ attempts: 5, state: 'delivered' });
    expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([all[0]!.id]),
    );
    // The same logical message each time, signed with a fresh timestamp that verifies.
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    for (const attempt of receiver.received)
      expect(verify(attempt)).toMatchObject({ type: 'expiry_warning' });
  });

  it('gives up early on a 4xx, dead-letters it, and redelivers it on demand with the same webhook-id', async () => {
    broker = await BrokerHarness.create({ config: alerting(receiver) });
    await broker.start('alerting');
    receiver.answer = () => 410;
    const added = await broker.admin('webhooks.add', { url: receiver.url, id: 'ops' });
    expect(added).toMatchObject({
      ok: true,
      webhook: { id: 'ops', origin: receiver.url.replace('/hooks/broker', '') },
    });
    expect(String(added['secret'])).toMatch(/^whsec_/);
    const test = await broker.admin('webhooks.test', { id: 'ops' });
    expect(test).toMatchObject({
      ok: true,
      delivery: {
        state: 'dead',
        attempts: 1,
        lastStatus: 410,
        deadReason: 'receiver answered 410: a 4xx other than 408 or 429 is not retried',
      },
    });
    const id = (test['delivery'] as { id: string }).id;
    receiver.answer = () => 200;
    const again = await broker.admin('webhooks.redeliver', { deliveryId: id });
    expect(again).toMatchObject({ ok: true, deliveries: [{ id, state: 'pending', attempts: 0 }] });
    await until(
      async () =>
        (
          (await broker.admin('webhooks.deliveries', { state: 'delivered' }))[
            'deliveries'
          ] as unknown[]
        ).length === 1,
      {
        timeoutMs: 10_000,
        what: 'the redelivery',
      },
    );
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([id, id]);
    const alertingService = broker.services[0]!;
    expect((await broker.ops(alertingService, '/readyz')).status).toBe(200);
    const metrics = (await broker.ops(alertingService, '/metrics')).body;
    expect(metricValue(metrics, 'broker_webhook_deliveries_total', { outcome: 'dead' })).toBe(1);
    expect(metricValue(metrics, 'broker_webhook_deliveries_total', { outcome: 'delivered' })).toBe(
      1,
    );
    const list = JSON.stringify(await broker.admin('webhooks.list'));
    expect(list).not.toContain(String(added['secret']));
    expect(list).not.toContain('/hooks/broker');
    expect(await broker.admin('webhooks.redeliver', { deliveryId: 'msg_nope' })).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_DELIVERY' },
    });
  });

  it('renders the same alert for Slack, and bounds a receiver that hangs or redirects', async () => {
    broker = await BrokerHarness.create({
      config: alerting(receiver, { webhooks: [], deliveryTimeoutMs: 500 }),
    });
    await broker.start('alerting');
    await broker.admin('webhooks.add', { url: receiver.url, id: 'chat', format: 'slack' });
    const slack = await broker.admin('webhooks.test', { id: 'chat' });
    expect(slack).toMatchObject({ ok: true, delivery: { state: 'delivered' } });
    expect(JSON.parse(receiver.received[0]!.body).text).toMatch(
      /^\[TEST\] broker: Test event for webhook 'chat'/,
    );

    receiver.answer = () => () => undefined; // never answers
    const started = Date.now();
    const hung = await broker.admin('webhooks.test', { id: 'chat' });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(hung).toMatchObject({
      delivery: { state: 'pending', lastError: 'timed out after 500 ms' },
    });

    receiver.answer = () => (res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
      res.end();
    };
    const before = receiver.received.length;
    const redirected = await broker.admin('webhooks.test', { id: 'chat' });
    expect(redirected).toMatchObject({ delivery: { state: 'pending', lastStatus: 302 } });
    expect(receiver.received.length - before).toBe(1);
  });

  it('refuses a webhook URL to a private address when the setting is off, with a clear error', async () => {
    broker = await BrokerHarness.create({ config: { alerting: {} } });
    await broker.start('alerting');
    for (const url of [
      receiver.url,
      'http://169.254.169.254/latest',
      'http://2130706433/x',
      'http://localhost:1/x',
    ]) {
      const reply = await broker.admin('webhooks.add', { url });
      expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
      expect(reply.error?.message).toMatch(
        /refused: .* address; set alerting.allowPrivateWebhookTargets to allow private targets/,
      );
    }
    expect(await broker.admin('webhooks.add', { url: 'ftp://example.com/x' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_REQUEST' },
    });
    expect((await broker.admin('webhooks.list'))['webhooks']).toEqual([]);
  });
});
