import {
  addCredential,
  BrokerHarness,
  PrivateNats,
  waitFor,
  type ServiceProcess,
} from '@broker/testing';
import { assertInvariants, NatsTap } from './invariants.js';
import { LeaseLoad } from './lease-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RELIABILITY fault 3: nats-server (a private one, with its own JetStream store)
 * killed and restarted on the same port while leases flow and events are appended.
 */
describe('faults - NATS killed and restarted under load', () => {
  let nats: PrivateNats;
  let broker: BrokerHarness;

  afterAll(async () => {
    await broker?.destroy();
    await nats?.destroy();
  });

  it('services reconnect; the relay and the consumers resume from their checkpoints; no event skipped or applied twice', async () => {
    nats = await PrivateNats.start();
    broker = await BrokerHarness.create({ natsUrl: nats.url });
    const services: ServiceProcess[] = [
      await broker.start(),
      await broker.start('refresh-scheduler'),
      await broker.start('alerting'),
    ];
    for (const id of ['n-a', 'n-b']) await addCredential(broker, id);
    const tap = new NatsTap(broker);
    const load = new LeaseLoad(broker, { concurrency: 4, timeoutMs: 1000 });
    // Events keep being appended: a new credential every 200 ms, whoever is listening.
    // Each attempt has an id of its own: an add whose reply the outage lost may have committed.
    let adding = true;
    let added = 0;
    let attempts = 0;
    const adder = (async () => {
      while (adding) {
        attempts += 1;
        const reply = await addCredential(broker, `n-${attempts}`).catch(() => undefined);
        if (reply?.ok === true) added += 1;
        await sleep(200);
      }
    })();
    try {
      await sleep(2000);
      await nats.kill();
      await sleep(3000);
      await nats.restart();
      const restartedAt = Date.now();
      await waitFor(
        'leases to flow again',
        () => Promise.resolve(load.okSince(restartedAt) > 20),
        20_000,
      );
      const addedAfter = added;
      await waitFor('appends to go on', () => Promise.resolve(added > addedAfter + 5), 20_000);
    } finally {
      // Stopped whatever happened: a loop left running would keep jest from exiting.
      adding = false;
      await adder;
      await load.stop();
      tap.close();
    }

    for (const service of services) expect(service.child.exitCode).toBeNull();
    await assertInvariants({
      broker,
      services,
      leases: load.leases,
      errorReplies: load.errorReplies,
      tap,
    });
    // Both consumers of the relayed log are durable and were not recreated from the start.
    const jsm = await broker.nats.jetstreamManager();
    const stream = `${broker.root.replace(/\./g, '_').toUpperCase()}_EVENTS`;
    const durables = (await jsm.consumers.list(stream).next())
      .map((c) => c.config.durable_name)
      .sort();
    expect(durables).toEqual(['alerting-alerting-3', 'refresh-scheduler-refresh-scheduler-2']);
  }, 120_000);
});
