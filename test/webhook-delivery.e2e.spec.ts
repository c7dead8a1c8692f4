import {
  addCredential,
  BrokerHarness,
  waitFor,
  WebhookReceiver,
  writeConfig,
  type Reply,
} from '@broker/testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HINT = 'set alerting.allowPrivateWebhookTargets to allow private targets';

interface Delivery {
  id: string;
  webhookId: string;
  type: string;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
}

const deliveriesOf = async (broker: BrokerHarness): Promise<Delivery[]> =>
  (await broker.admin('webhooks.deliveries', { limit: 50 }))['deliveries'] as Delivery[];

const typeOf = (body: string) => (JSON.parse(body) as { type: string }).type;

/** How the delivery worker treats what receivers do: rate limits, resets, targets gone private, filters. */
describe('webhook delivery - receivers that push back, targets refused at connect time, event filters', () => {
  let broker: BrokerHarness;
  const receivers: WebhookReceiver[] = [];
  const receiver = async () => {
    const started = await WebhookReceiver.start();
    receivers.push(started);
    return started;
  };

  afterEach(async () => {
    await broker?.destroy();
    await Promise.all(receivers.splice(0).map((r) => r.down()));
  });

  it("honours a 429's Retry-After over the schedule and retries a reset connection, with one webhook-id", async () => {
    const hook = await receiver();
    broker = await BrokerHarness.create({
      config: { alerting: { allowPrivateWebhookTargets: true } },
    });
    await broker.start('alerting', { BROKER_TEST_CLOCK: '1' });
    await broker.admin('webhooks.add', { url: hook.url, id: 'ops' });
    hook.answer = () => (res) => {
      res.writeHead(429, { 'retry-after': '3600' });
      res.end();
    };
    const t0 = Date.now();
    const limited = await broker.admin('webhooks.test', { id: 'ops' });
    const first = limited['delivery'] as Delivery;
    expect(first).toMatchObject({ state: 'pending', attempts: 1, lastStatus: 429 });
    // The schedule's next slot is 5 s; the receiver asked for an hour.
    const retryAt = Date.parse(first.nextAttemptAt!);
    expect(retryAt).toBeGreaterThanOrEqual(t0 + 3_600_000);

    hook.answer = () => (res) => res.socket?.destroy();
    await broker.setClock(retryAt - 60_000);
    await sleep(2_000);
    expect((await deliveriesOf(broker))[0]).toMatchObject({ attempts: 1 });
    expect(hook.received).toHaveLength(1);

    await broker.setClock(retryAt + 1_000);
    await waitFor('the attempt after Retry-After', async () => {
      return (await deliveriesOf(broker))[0]?.attempts === 2;
    });
    const reset = (await deliveriesOf(broker))[0]!;
    expect(reset).toMatchObject({ state: 'pending', lastStatus: null });
    expect(reset.lastError).toMatch(/^ECONNRESET: /);
    // A reset is retried on the schedule (its second slot, 5 min ±10 %), not given up.
    const resetRetryAt = Date.parse(reset.nextAttemptAt!);
    expect(resetRetryAt - (retryAt + 1_000)).toBeGreaterThanOrEqual(0.9 * 5 * 60_000);

    hook.answer = () => 200;
    await broker.setClock(resetRetryAt + 1_000);
    await waitFor('the delivery', async () => {
      return (await deliveriesOf(broker))[0]?.state === 'delivered';
    });
    expect((await deliveriesOf(broker))[0]).toMatchObject({ attempts: 3, lastStatus: 200 });
    expect(hook.received).toHaveLength(3);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([first.id]));
  });

  it('refuses, at delivery time, targets added while private ones were allowed once alerting restarts with the setting off', async () => {
    const hook = await receiver();
    broker = await BrokerHarness.create({
      config: { alerting: { allowPrivateWebhookTargets: true } },
    });
    await Promise.all([broker.start(), broker.start('alerting')]);
    const byName = hook.url.replace('127.0.0.1', 'localhost');
    expect(await broker.admin('webhooks.add', { url: hook.url, id: 'literal' })).toMatchObject({
      ok: true,
    });
    expect(await broker.admin('webhooks.add', { url: byName, id: 'by-name' })).toMatchObject({
      ok: true,
    });

    await broker.services[1]!.stop();
    broker.services.splice(1, 1);
    await broker.start('alerting', { BROKER_CONFIG: writeConfig({ alerting: {} }) });
    await addCredential(broker, 'short', {
      refreshToken: undefined,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await waitFor('an attempt to each endpoint', async () => {
      const all = await deliveriesOf(broker);
      return all.length === 2 && all.every((d) => d.attempts >= 1);
    });
    const all = await deliveriesOf(broker);
    const of = (id: string) => all.find((d) => d.webhookId === id)!;
    expect(of('literal')).toMatchObject({
      type: 'expiry_warning',
      state: 'pending',
      lastStatus: null,
      lastError: `refused at connect time: 127.0.0.1 is a loopback address; ${HINT}`,
    });
    expect(of('by-name')).toMatchObject({ type: 'expiry_warning', state: 'pending' });
    expect(of('by-name').lastError).toMatch(
      new RegExp(
        `^refused at connect time: (127\\.0\\.0\\.1|::1) is a loopback address \\(localhost resolved to it\\); ${HINT}$`,
      ),
    );
    expect(hook.received).toHaveLength(0);
  });

  it('sends each endpoint only the events it takes; `resolved` takes the resolutions of every type', async () => {
    const [pools, everything, recoveries] = [await receiver(), await receiver(), await receiver()];
    broker = await BrokerHarness.create({
      config: { alerting: { allowPrivateWebhookTargets: true } },
    });
    await Promise.all([broker.start(), broker.start('alerting')]);
    const add = (id: string, url: string, events: string[]): Promise<Reply> =>
      broker.admin('webhooks.add', { id, url, events });
    expect(await add('pools', pools.url, ['pool_exhausted'])).toMatchObject({ ok: true });
    expect(await add('everything', everything.url, ['all'])).toMatchObject({ ok: true });
    expect(await add('recoveries', recoveries.url, ['resolved'])).toMatchObject({ ok: true });

    await addCredential(broker, 'short', {
      refreshToken: undefined,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await waitFor('the expiry warning', () => Promise.resolve(everything.received.length === 1));
    await broker.admin('credentials.decommission', { id: 'short', reason: 'replaced' });
    await waitFor('the resolutions', () =>
      Promise.resolve(everything.received.length === 2 && recoveries.received.length === 1),
    );

    expect(everything.received.map((r) => typeOf(r.body))).toEqual(['expiry_warning', 'resolved']);
    expect(recoveries.received.map((r) => JSON.parse(r.body) as unknown)).toMatchObject([
      { type: 'resolved', credential_id: 'short', details: { alert_type: 'expiry_warning' } },
    ]);
    // Deliveries are queued with the alert's change, so the queue shows every one there is.
    const queued = await deliveriesOf(broker);
    expect(queued.map((d) => `${d.webhookId}:${d.type}`).sort()).toEqual([
      'everything:expiry_warning',
      'everything:resolved',
      'recoveries:resolved',
    ]);
    expect(pools.received).toHaveLength(0);
  });
});
