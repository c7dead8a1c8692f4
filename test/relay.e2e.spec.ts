import pg from 'pg';
import { createDataSource, PostgresEventStore } from '@broker/event-store';
import {
  addCredential,
  BrokerHarness,
  metricValue,
  PrivateNats,
  waitFor,
  type ServiceProcess,
} from '@broker/testing';

/** Positions in the order JetStream holds them, read with an ephemeral consumer from the start. */
const relayed = async (broker: BrokerHarness): Promise<number[]> => {
  const stream = `${broker.root.replace(/\./g, '_').toUpperCase()}_EVENTS`;
  const jsm = await broker.nats.jetstreamManager();
  const info = await jsm.streams.info(stream).catch(() => undefined);
  if (info === undefined) return [];
  const total = info.state.messages;
  // An ordered consumer: ephemeral, from the first message, in stream order.
  const consumer = await broker.nats.jetstream().consumers.get(stream);
  const positions: number[] = [];
  while (positions.length < total) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
    let got = 0;
    for await (const message of batch) {
      positions.push(Number(message.headers?.get('Broker-Position')));
      got += 1;
    }
    if (got === 0) break;
  }
  return positions;
};

const committed = async (broker: BrokerHarness): Promise<number[]> => {
  const db = new pg.Client({ connectionString: broker.databaseUrl });
  await db.connect();
  const rows = await db.query<{ p: string }>(
    'SELECT global_position AS p FROM events ORDER BY transaction_id, global_position',
  );
  await db.end();
  return rows.rows.map((r) => Number(r.p));
};

describe('relay - every committed event on JetStream, in commit order, once', () => {
  let broker: BrokerHarness;
  beforeEach(async () => {
    broker = await BrokerHarness.create();
  });
  afterEach(() => broker.destroy());

  it('publishes the log in commit order and survives a crash of the relaying replica without duplicates', async () => {
    const first = await broker.start();
    for (const id of ['r1', 'r2', 'r3']) await addCredential(broker, id);
    for (let i = 0; i < 6; i += 1) {
      const lease = (await broker.lease('gemini-cli', 'default', 'bot'))['lease'] as {
        leaseId: string;
      };
      await broker.report('bot', { leaseId: lease.leaseId, outcome: 'failure', status: 503 });
    }
    await waitFor(
      'the relay to catch up',
      async () => (await relayed(broker)).length === (await committed(broker)).length,
    );
    expect(await relayed(broker)).toEqual(await committed(broker));

    await first.stop('SIGKILL');
    broker.services.length = 0;
    const [a, b] = await Promise.all([broker.start(), broker.start()]);
    await addCredential(broker, 'r4');
    await broker.admin('credentials.revoke', { id: 'r1' });
    await waitFor(
      'the new relay to catch up',
      async () => (await relayed(broker)).length === (await committed(broker)).length,
    );
    const positions = await relayed(broker);
    expect(positions).toEqual(await committed(broker));
    expect(new Set(positions).size).toBe(positions.length);
    const active = [a, b].filter((s) => s?.lines.some((l) => l.msg === 'relay active'));
    expect(active).toHaveLength(1);
  });
});

describe('relay - NATS killed and restarted', () => {
  let nats: PrivateNats;
  let broker: BrokerHarness;

  beforeAll(async () => {
    nats = await PrivateNats.start();
    broker = await BrokerHarness.create({ natsUrl: nats.url });
  });

  afterAll(async () => {
    await broker.destroy();
    await nats.destroy();
  });

  it('events committed while NATS is down are relayed once it is back, each position once, in order', async () => {
    await broker.start();
    for (const id of ['n1', 'n2']) await addCredential(broker, id);
    await waitFor(
      'the relay',
      async () => (await relayed(broker)).length === (await committed(broker)).length,
    );

    await nats.kill();
    // The log goes on without NATS: appends straight to Postgres, as any writer's would.
    const source = await createDataSource({ url: broker.databaseUrl, poolSize: 2 }).initialize();
    const store = new PostgresEventStore(source);
    for (let i = 0; i < 20; i += 1) {
      await store.append(`outage-${i % 4}`, 'any', [
        { type: 'test.tick.v1', data: { i }, metadata: { actor: 'test' } },
      ]);
    }
    await source.destroy();
    await nats.restart();

    await waitFor(
      'the backlog to be relayed',
      async () =>
        (await relayed(broker).catch(() => [])).length === (await committed(broker)).length,
      30_000,
    );
    const positions = await relayed(broker);
    expect(positions).toEqual(await committed(broker));
    expect(new Set(positions).size).toBe(positions.length);
  }, 90_000);
  it('RELIABILITY 12: a transaction left open holds the relay back visibly; after it ends the relay catches up, skipping nothing', async () => {
    const service = await broker.start();
    await addCredential(broker, 'before');
    await waitFor(
      'the relay to catch up',
      async () => (await relayed(broker)).length === (await committed(broker)).length,
    );
    const gauge = async (s: ServiceProcess, name: string) =>
      metricValue((await broker.ops(s, '/metrics')).body, name) ?? -1;

    // A transaction with an id, left open in the broker's own database: every reader stops below it.
    const open = new pg.Client({ connectionString: broker.databaseUrl });
    await open.connect();
    try {
      await open.query('BEGIN');
      await open.query('SELECT txid_current()');
      for (const id of ['held1', 'held2', 'held3']) await addCredential(broker, id);
      const held = (await committed(broker)).length - (await relayed(broker)).length;
      expect(held).toBeGreaterThanOrEqual(3);
      await waitFor('the held-back events and the relay lag in /metrics', async () => {
        return (
          (await gauge(service, 'broker_log_held_back_events')) >= 3 &&
          (await gauge(service, 'broker_relay_lag_events')) >= 3 &&
          (await gauge(service, 'broker_log_held_back_seconds')) > 0 &&
          (await gauge(service, 'broker_log_oldest_transaction_seconds')) > 0
        );
      });
    } finally {
      await open.query('COMMIT');
      await open.end();
    }
    await waitFor(
      'the relay to catch up after the commit',
      async () =>
        (await relayed(broker)).length === (await committed(broker)).length &&
        (await gauge(service, 'broker_relay_lag_events')) === 0,
    );
    // Every committed position on the stream once, in commit order.
    expect(await relayed(broker)).toEqual(await committed(broker));
  });
});
