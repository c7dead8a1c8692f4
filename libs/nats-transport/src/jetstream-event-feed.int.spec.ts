import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import { loadRuntimeConfig } from '@broker/config';
import {
  createDataSource,
  ensureDatabase,
  LOG_START,
  migrate,
  PostgresEventStore,
  type LogCheckpoint,
  type StoredEvent,
} from '@broker/event-store';
import {
  createTestDatabase,
  ensureNats,
  NATS_URL,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@broker/testing';
import { connectNats } from './connect.js';
import { JetStreamEventFeed } from './jetstream-event-feed.js';
import { ensureEventStream, eventStreamName, streamPrefix } from './jetstream.js';
import { relayedBody, relayedHeaders } from './relayed-event.js';
import type { SetAsideMessage } from './set-aside.js';

jest.setTimeout(45_000);

/**
 * The relayed log's consumer against a real NATS and Postgres, the relay played
 * by the test: it appends events to the log and publishes them as the relay does.
 */
describe('JetStreamEventFeed: commit order, retries in place, set aside', () => {
  let nats: NatsConnection;
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  const roots: string[] = [];
  const feeds: JetStreamEventFeed[] = [];

  beforeAll(async () => {
    await ensureNats();
    nats = await connectNats(loadRuntimeConfig({ NATS_URL }), 'feed-int');
    db = await createTestDatabase('feed_int');
    await ensureDatabase(db.url);
    dataSource = createDataSource({ url: db.url, poolSize: 4 });
    await dataSource.initialize();
    await migrate(dataSource);
    store = new PostgresEventStore(dataSource);
  });

  afterAll(async () => {
    for (const feed of feeds) await feed.stop();
    const jsm = await nats.jetstreamManager();
    const prefixes = roots.map((r) => `${streamPrefix(r)}_`);
    for (const stream of await jsm.streams.list().next())
      if (prefixes.some((p) => stream.config.name.startsWith(p)))
        await jsm.streams.delete(stream.config.name);
    await nats.close();
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db?.drop();
  });

  /** Appends `count` events, each in a transaction of its own, and returns them in commit order. */
  const append = async (count: number): Promise<StoredEvent[]> => {
    const stored: StoredEvent[] = [];
    for (let i = 0; i < count; i += 1)
      stored.push(
        ...(await store.append(`thing-${randomUUID()}`, 0, [
          { type: 'thing.happened.v1', data: { i }, metadata: {} },
        ])),
      );
    return stored;
  };

  const setUp = async () => {
    const root = uniqueName('feed-int').replace(/_/g, '-');
    roots.push(root);
    await ensureEventStream(nats, root, 1);
    const js = nats.jetstream();
    let previous: LogCheckpoint = LOG_START;
    const publish = async (event: StoredEvent, after = previous) => {
      const h = natsHeaders();
      for (const [name, value] of relayedHeaders(event, after)) h.set(name, value);
      await js.publish(`${root}.v1.events.${event.type}`, relayedBody(event), {
        msgID: event.eventId,
        headers: h,
      });
      previous = { transactionId: event.transactionId, globalPosition: event.globalPosition };
    };
    const applied: number[] = [];
    const setAside: SetAsideMessage[] = [];
    const feed = (fail: (event: StoredEvent, attempt: number) => boolean) => {
      const attempts = new Map<number, number>();
      const f = new JetStreamEventFeed({
        nats,
        subjectRoot: root,
        durable: 'follower',
        replicas: 1,
        log: store,
        onError: () => undefined,
        onSetAside: (record) => {
          setAside.push(record);
        },
        maxAttempts: 3,
        retryDelayMs: 20,
      });
      feeds.push(f);
      const start = () =>
        f.start(LOG_START, (events) => {
          for (const event of events) {
            const attempt = (attempts.get(event.globalPosition) ?? 0) + 1;
            attempts.set(event.globalPosition, attempt);
            if (fail(event, attempt)) throw new Error(`apply of ${event.globalPosition} failed`);
            applied.push(event.globalPosition);
          }
        });
      return { feed: f, start };
    };
    const settled = async () => {
      const jsm = await nats.jetstreamManager();
      await waitFor('the consumer to settle every message', async () => {
        const info = await jsm.consumers.info(eventStreamName(root), 'follower');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      });
    };
    return { root, publish, applied, setAside, feed, settled };
  };

  it('applies an event whose first apply fails exactly once, before anything after it', async () => {
    const t = await setUp();
    const events = await append(5);
    const second = events[1] as StoredEvent;
    const { feed, start } = t.feed((e, attempt) => e.eventId === second.eventId && attempt === 1);
    await start();
    for (const event of events) await t.publish(event);
    await waitFor('every event applied', () => Promise.resolve(t.applied.length >= 5));
    await t.settled();
    expect(t.applied).toEqual(events.map((e) => e.globalPosition));
    expect(t.setAside).toEqual([]);
    expect(feed.checkpoint.globalPosition).toBe(events[4]?.globalPosition);
  });

  it('sets a poison event aside after its attempts, records it, and applies what follows', async () => {
    const t = await setUp();
    const events = await append(4);
    const poison = events[1] as StoredEvent;
    const { start } = t.feed((e) => e.eventId === poison.eventId);
    await start();
    await t.publish(events[0] as StoredEvent);
    // A message nobody can read, on the events subject: set aside at once.
    await nats.jetstream().publish(`${t.root}.v1.events.garbage`, 'not json {', {
      msgID: randomUUID(),
    });
    for (const event of events.slice(1)) await t.publish(event);
    await waitFor('the events after the poison applied', () =>
      Promise.resolve(t.applied.length >= 3),
    );
    await t.settled();
    expect(t.applied).toEqual(events.filter((e) => e !== poison).map((e) => e.globalPosition));
    expect(t.setAside).toEqual([
      expect.objectContaining({
        consumer: 'follower',
        subject: `${t.root}.v1.events.garbage`,
        reason: 'the body is not JSON',
        streamSequence: 2,
      }),
      expect.objectContaining({
        consumer: 'follower',
        attempts: 3,
        reason: `apply of ${poison.globalPosition} failed`,
        streamSequence: 3,
        event: expect.objectContaining({
          eventId: poison.eventId,
          globalPosition: poison.globalPosition,
        }) as unknown,
      }),
    ]);
  });

  it('reads from Postgres an event the stream does not hold, in its place', async () => {
    const t = await setUp();
    const events = await append(4);
    const { start } = t.feed(() => false);
    await start();
    await t.publish(events[0] as StoredEvent);
    // The third names the second as its predecessor, but the second never reaches the stream.
    await t.publish(events[2] as StoredEvent, {
      transactionId: (events[1] as StoredEvent).transactionId,
      globalPosition: (events[1] as StoredEvent).globalPosition,
    });
    await t.publish(events[3] as StoredEvent);
    await waitFor('every event applied', () => Promise.resolve(t.applied.length >= 4));
    await t.settled();
    expect(t.applied).toEqual(events.map((e) => e.globalPosition));
  });

  it('gives the consumer a max_deliver, also to one made before it had one', async () => {
    const t = await setUp();
    const jsm = await nats.jetstreamManager();
    await jsm.consumers.add(eventStreamName(t.root), {
      durable_name: 'follower',
      ack_policy: 'explicit' as never,
    });
    const { start } = t.feed(() => false);
    await start();
    const info = await jsm.consumers.info(eventStreamName(t.root), 'follower');
    expect(info.config.max_deliver).toBe(10);
  });
});
