import {
  AckPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type NatsConnection,
  type StreamInfo,
} from 'nats';

/** JetStream names may not contain dots: `oauth` → `OAUTH`, `e2e-ab.c` → `E2E-AB_C`. */
export const streamPrefix = (subjectRoot: string): string =>
  subjectRoot.replace(/\./g, '_').toUpperCase();

/**
 * How long a pull consumer's request for messages lives (`consume({ expires })`);
 * the server heartbeats every half of it, and two missed heartbeats make nats.js
 * pull again. A stream's or consumer's leader that dies (or steps down) takes the
 * outstanding pull with it: with nats.js's default of 30 s, consumption stalled
 * for ~30 s after a NATS node's loss (test/cluster.e2e.spec.ts); with 5 s it
 * resumes within ~5 s, for one small pull request every 5 s per consumer.
 */
export const PULL_EXPIRES_MS = 5_000;

export const commandStreamName = (subjectRoot: string): string =>
  `${streamPrefix(subjectRoot)}_CMD`;

/*
 * Every stream and consumer is created with the configured replica count
 * (`BROKER_JETSTREAM_REPLICAS`): 1 on a single server, 3 on a cluster, where
 * JetStream keeps each on three nodes and a node's loss loses nothing.
 */

/**
 * The work queue the scheduler writes commands to and the token service takes
 * them from: each command is delivered to one consumer and removed when acked.
 * A re-sent command with the same message id inside the window is dropped.
 */
export const ensureCommandStream = async (
  nats: NatsConnection,
  subjectRoot: string,
  replicas: number,
): Promise<string> => {
  const jsm = await nats.jetstreamManager();
  const name = commandStreamName(subjectRoot);
  const config = {
    name,
    subjects: [`${subjectRoot}.v1.cmd.>`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(10 * 60_000),
    max_age: nanos(24 * 3600_000),
    num_replicas: replicas,
  };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch {
    await jsm.streams.add(config);
  }
  return name;
};

/** A durable pull consumer on the command stream: unacked commands come back after `ackWaitMs`. */
export const ensureCommandConsumer = async (
  nats: NatsConnection,
  subjectRoot: string,
  durable: string,
  ackWaitMs: number,
  maxDeliver: number,
  replicas: number,
): Promise<void> => {
  const jsm = await nats.jetstreamManager();
  const stream = commandStreamName(subjectRoot);
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_deliver: maxDeliver,
    num_replicas: replicas,
  });
};

export const eventStreamName = (subjectRoot: string): string =>
  `${streamPrefix(subjectRoot)}_EVENTS`;

/**
 * The stream every committed event is relayed to, under `<root>.v1.events.<type>`.
 * Message ids are event ids, so a re-publish inside the window is dropped.
 * With a replica count, an existing stream is brought to it (whichever service
 * created it first); `undefined` (a caller that does not know it yet) creates a
 * missing stream with one replica and leaves an existing one as it is.
 */
export const ensureEventStream = async (
  nats: NatsConnection,
  subjectRoot: string,
  replicas: number | undefined,
): Promise<string> => {
  const jsm = await nats.jetstreamManager();
  const name = eventStreamName(subjectRoot);
  let existing: StreamInfo;
  try {
    existing = await jsm.streams.info(name);
  } catch {
    await jsm.streams.add({
      name,
      subjects: [`${subjectRoot}.v1.events.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(10 * 60_000),
      num_replicas: replicas ?? 1,
    });
    return name;
  }
  if (replicas !== undefined && existing.config.num_replicas !== replicas)
    await jsm.streams.update(name, { ...existing.config, num_replicas: replicas });
  return name;
};
