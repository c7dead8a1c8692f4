import type { NatsConnection } from 'nats';
import { loadRuntimeConfig } from '@broker/config';
import { LOG_START } from '@broker/event-store';
import { ensureNats, freePort, NATS_URL, uniqueName } from '@broker/testing';
import { connectNats } from './connect.js';
import { JetStreamEventFeed } from './jetstream-event-feed.js';
import {
  commandStreamName,
  ensureCommandConsumer,
  ensureCommandStream,
  ensureEventStream,
  eventStreamName,
  streamPrefix,
} from './jetstream.js';

// The machine's nats-server is a single server: JetStream refuses more than one
// replica there, which shows that the configured count reaches the server.
const REFUSED = /replicas > 1 not supported in non-clustered mode/;

describe('JetStream streams and consumers with the configured replica count (local nats-server)', () => {
  let nats: NatsConnection;
  const roots: string[] = [];
  const root = () => {
    const name = uniqueName('js-int').replace(/_/g, '-');
    roots.push(name);
    return name;
  };

  beforeAll(async () => {
    await ensureNats();
    nats = await connectNats(loadRuntimeConfig({ NATS_URL }), 'jetstream-int');
  });

  afterAll(async () => {
    const jsm = await nats.jetstreamManager();
    const prefixes = roots.map((r) => `${streamPrefix(r)}_`);
    for (const stream of await jsm.streams.list().next())
      if (prefixes.some((p) => stream.config.name.startsWith(p)))
        await jsm.streams.delete(stream.config.name);
    await nats.close();
  });

  it('connects through a comma-separated NATS_URL whose first server is down', async () => {
    const dead = await freePort();
    const config = loadRuntimeConfig({ NATS_URL: `nats://127.0.0.1:${dead}, ${NATS_URL}` });
    const other = await connectNats(config, 'server-list-int');
    expect(other.getServer()).toBe('127.0.0.1:4222');
    await other.close();
  });

  it('creates the command stream and its consumer with the replica count given', async () => {
    const r = root();
    const jsm = await nats.jetstreamManager();
    await ensureCommandStream(nats, r, 1);
    expect((await jsm.streams.info(commandStreamName(r))).config.num_replicas).toBe(1);
    await ensureCommandConsumer(nats, r, 'worker', 30_000, 5, 1);
    expect((await jsm.consumers.info(commandStreamName(r), 'worker')).config.num_replicas).toBe(1);

    await expect(ensureCommandStream(nats, root(), 3)).rejects.toThrow(REFUSED);
    await expect(ensureCommandConsumer(nats, r, 'worker-r3', 30_000, 5, 3)).rejects.toThrow(
      REFUSED,
    );
  });

  it('creates the event stream and each follower’s durable consumer with the replica count given', async () => {
    const r = root();
    const jsm = await nats.jetstreamManager();
    await ensureEventStream(nats, r, 1);
    expect((await jsm.streams.info(eventStreamName(r))).config.num_replicas).toBe(1);
    await expect(ensureEventStream(nats, root(), 3)).rejects.toThrow(REFUSED);
    // An existing stream is brought to the count given, whoever created it; `undefined` leaves
    // it alone. (nats-server 2.9 stores a count it cannot place on an update of one server.)
    const other = root();
    const replicasOf = async () =>
      (await jsm.streams.info(eventStreamName(other))).config.num_replicas;
    await ensureEventStream(nats, other, undefined);
    expect(await replicasOf()).toBe(1);
    await ensureEventStream(nats, other, 3);
    expect(await replicasOf()).toBe(3);
    await ensureEventStream(nats, other, undefined);
    expect(await replicasOf()).toBe(3);

    const feed = (durable: string, replicas: number) =>
      new JetStreamEventFeed({
        nats,
        subjectRoot: r,
        durable,
        replicas,
        log: { readAll: () => Promise.resolve([]) },
        onError: () => undefined,
        onSetAside: () => undefined,
      });
    const one = feed('follower-r1', 1);
    await one.start(LOG_START, () => Promise.resolve());
    expect((await jsm.consumers.info(eventStreamName(r), 'follower-r1')).config.num_replicas).toBe(
      1,
    );
    await one.stop();
    await expect(feed('follower-r3', 3).start(LOG_START, () => Promise.resolve())).rejects.toThrow(
      REFUSED,
    );
  });
});
