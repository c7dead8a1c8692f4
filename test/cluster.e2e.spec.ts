import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import {
  addCredential,
  BrokerHarness,
  deployNatsUsers,
  localNatsConfig,
  MockOAuthServer,
  PrivateNatsCluster,
  waitFor,
} from '@broker/testing';
import { LeaseLoad, type LeaseLoadResult } from './support/lease-load.js';

// Issue 9 item 3: three nats-servers clustered on loopback (deploy/nats-cluster.conf
// with the real users and permissions; nats-server 2.9 does not know
// `sync_interval`, so localNatsConfig drops it), streams with three replicas,
// two token services on different nodes, a scheduler and alerting. Under a
// steady lease load one node is SIGKILLed and later restarted on the same ports
// and store.

const ROOT = 'oauth';
const REPLICAS = 3;
/** Leases per second from a client on the surviving nodes, and from one on the node killed. */
const LEASES_PER_SECOND = 250;
const VICTIM_CLIENT_PER_SECOND = 50;
const BEFORE_KILL_MS = 8_000;
const DOWN_MS = 10_000;
const AFTER_RESTART_MS = 8_000;
/**
 * Longest gap between two successful leases we accept. Measured on this 2-core
 * machine: 0.2-0.3 s for both clients (the killed node's client reconnects in
 * about 250 ms); the bound is that with margin, above the 2 s request timeout.
 */
const MAX_PAUSE_MS = 3_000;
/**
 * How late a proactive refresh may be. Measured: 0.1-0.3 s without an outage;
 * when the killed node leads the command stream and its consumer, commands sent
 * during the outage wait until the consumer has a new leader and the pull is
 * renewed: 8.8-10.3 s late with a 10 s outage, 12.1 s with a 30 s one
 * (PULL_EXPIRES_MS 5 s); ~40 s with nats.js's default 30 s pull expiry.
 */
const MAX_REFRESH_LATENESS_MS = 20_000;
/** Credentials the scheduler refreshes one after another across the outage. */
const DUE = 6;
const DUE_SPACING_MS = 4_000;
const BUFFER_SECONDS = 600;

// libs/nats-transport cannot be loaded by jest (its index pulls in ESM-only Nest
// packages): the names of the streams the services create.
const eventStreamName = (root: string) => `${root.toUpperCase()}_EVENTS`;
const commandStreamName = (root: string) => `${root.toUpperCase()}_CMD`;

interface Led {
  readonly what: string;
  readonly stepdown: string;
  readonly leader: () => Promise<string | undefined>;
}

/** Steps leaders down until `node` leads both streams and every consumer of them. */
const leadEverythingFrom = async (nats: NatsConnection, node: string): Promise<void> => {
  const jsm = await nats.jetstreamManager();
  const targets: Led[] = [];
  for (const stream of [commandStreamName(ROOT), eventStreamName(ROOT)]) {
    targets.push({
      what: stream,
      stepdown: `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`,
      leader: async () => (await jsm.streams.info(stream)).cluster?.leader,
    });
    for (const consumer of await jsm.consumers.list(stream).next())
      targets.push({
        what: `${stream} consumer ${consumer.name}`,
        stepdown: `$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer.name}`,
        leader: async () => (await jsm.consumers.info(stream, consumer.name)).cluster?.leader,
      });
  }
  for (const target of targets) {
    await waitFor(
      `${node} to lead ${target.what}`,
      async () => {
        const leader = await target.leader().catch(() => undefined);
        if (leader === node) return true;
        if (leader !== undefined)
          await nats.request(target.stepdown, '', { timeout: 5000 }).catch(() => undefined);
        await sleep(500);
        return false;
      },
      60_000,
    );
  }
};

/** Which node leads each stream and consumer, for the log. */
const jetStreamLeaders = async (nats: NatsConnection): Promise<string> => {
  const jsm = await nats.jetstreamManager();
  const found: string[] = [];
  for (const stream of [commandStreamName(ROOT), eventStreamName(ROOT)]) {
    found.push(`${stream} ${(await jsm.streams.info(stream)).cluster?.leader ?? '?'}`);
    for (const consumer of await jsm.consumers.list(stream).next())
      found.push(`${consumer.name} ${consumer.cluster?.leader ?? '?'}`);
  }
  return found.join(', ');
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Relayed {
  readonly positions: number[];
}

/** Positions on the event stream in stream order, read with an ephemeral ordered consumer. */
const relayed = async (nats: NatsConnection): Promise<Relayed> => {
  const stream = eventStreamName(ROOT);
  const info = await (await nats.jetstreamManager()).streams.info(stream);
  const consumer = await nats.jetstream().consumers.get(stream);
  const positions: number[] = [];
  while (positions.length < info.state.messages) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
    let got = 0;
    for await (const message of batch) {
      positions.push(Number(message.headers?.get('Broker-Position')));
      got += 1;
    }
    if (got === 0) break;
  }
  return { positions };
};

describe('NATS cluster: a node SIGKILLed and restarted under lease load', () => {
  const passwords = Object.fromEntries(
    deployNatsUsers().map((u) => [u.passwordVariable, `p${randomBytes(12).toString('hex')}`]),
  );
  const passwordOf = (user: string): string =>
    passwords[deployNatsUsers().find((u) => u.user === user)?.passwordVariable ?? ''] as string;
  let cluster: PrivateNatsCluster;
  let oauth: MockOAuthServer;
  let broker: BrokerHarness;
  let db: pg.Client;
  let victimClient: NatsConnection | undefined;

  afterAll(async () => {
    await victimClient?.close();
    await db?.end();
    await broker?.destroy();
    await cluster?.destroy();
    await oauth?.close();
  });

  it('leases pause briefly, every event reaches every consumer once, every lease is audited, no refresh token is used twice', async () => {
    const startedAt = Date.now();
    oauth = await MockOAuthServer.start();
    cluster = await PrivateNatsCluster.start({
      configFile: localNatsConfig('nats-cluster.conf'),
      env: passwords,
    });
    const admin = { user: 'admin', pass: passwordOf('admin') };

    const setup = await connect({ servers: cluster.urls().split(','), ...admin });
    await waitFor(
      'the JetStream cluster to elect a meta leader',
      () =>
        setup.jetstreamManager().then(
          (m) => m.getAccountInfo().then(() => true),
          () => false,
        ),
      30_000,
    );
    // The node to kill: made to lead every stream and consumer below, the worst case.
    const victim = 0;
    const survivors = [1, 2];
    await setup.close();

    broker = await BrokerHarness.create({
      // The harness (and the load) speaks to the surviving nodes: the pause measured is the broker's.
      natsUrl: cluster.urls(survivors),
      natsUser: admin,
      subjectRoot: ROOT,
      env: { BROKER_JETSTREAM_REPLICAS: String(REPLICAS) },
      config: {
        providers: {
          'gemini-cli': {
            tokenUrl: oauth.tokenUrl,
            clientId: 'test-client',
            clientSecret: 'test-secret',
            clientAuth: 'body',
          },
        },
        pools: {
          'gemini-cli/default': {
            refreshStrategy: { bufferSeconds: BUFFER_SECONDS, jitterSeconds: 0 },
          },
        },
        refresh: { timeoutMs: 2000, lockTtlMs: 5000 },
        usage: { windowSeconds: 1 },
      },
    });
    const as = (app: string) => ({ NATS_USER: app, NATS_PASS: passwordOf(app) });
    // token-service-1 knows only the victim (it learns the others from the cluster, as
    // nats.js does); token-service-2 lists the survivors, so the two sit on different nodes.
    await broker.start('token-service', {
      ...as('token-service'),
      NATS_URL: cluster.urls([victim]),
    });
    await broker.start('token-service', {
      ...as('token-service'),
      NATS_URL: cluster.urls(survivors),
    });
    await broker.start('refresh-scheduler', {
      ...as('refresh-scheduler'),
      NATS_URL: cluster.urls(),
    });
    await broker.start('alerting', {
      ...as('alerting'),
      NATS_URL: cluster.urls([victim, ...survivors]),
    });
    // The services created their streams and durable consumers themselves, replicated as configured.
    const jsm = await broker.nats.jetstreamManager();
    for (const stream of [eventStreamName(ROOT), commandStreamName(ROOT)]) {
      expect({ stream, replicas: (await jsm.streams.info(stream)).config.num_replicas }).toEqual({
        stream,
        replicas: REPLICAS,
      });
      for (const consumer of await jsm.consumers.list(stream).next())
        expect({ consumer: consumer.name, replicas: consumer.config.num_replicas }).toEqual({
          consumer: consumer.name,
          replicas: REPLICAS,
        });
    }
    await leadEverythingFrom(broker.nats, PrivateNatsCluster.nodeName(victim));
    db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();

    for (let i = 0; i < 4; i += 1) {
      const grant = oauth.issueGrant();
      expect(
        (
          await addCredential(broker, `steady-${i}`, {
            accessToken: grant.accessToken,
            refreshToken: grant.refreshToken,
            expiresAt: new Date(grant.expiresAt).toISOString(),
          })
        ).ok,
      ).toBe(true);
    }
    // Due for a proactive refresh one after another: before, during and after the outage.
    const loadStartsAt = Date.now() + 2000;
    const dueTimes: number[] = [];
    const dueByToken = new Map<string, number>();
    for (let i = 0; i < DUE; i += 1) {
      const grant = oauth.issueGrant();
      const dueAt = loadStartsAt + 2000 + i * DUE_SPACING_MS;
      dueTimes.push(dueAt);
      dueByToken.set(grant.refreshToken, dueAt);
      expect(
        (
          await addCredential(broker, `due-${i}`, {
            accessToken: grant.accessToken,
            refreshToken: grant.refreshToken,
            expiresAt: new Date(dueAt + BUFFER_SECONDS * 1000).toISOString(),
          })
        ).ok,
      ).toBe(true);
    }
    await sleep(Math.max(0, loadStartsAt - Date.now()));

    const subject = broker.subject('lease.gemini-cli.default.load');
    const load = LeaseLoad.start(broker.nats, subject, {
      perSecond: LEASES_PER_SECOND,
      timeoutMs: 2000,
    });
    // A client on the node to be killed: its pause includes its own reconnect elsewhere.
    victimClient = await connect({
      servers: cluster.node(victim).url,
      ...admin,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    const victimLoad = LeaseLoad.start(victimClient, subject, {
      perSecond: VICTIM_CLIENT_PER_SECOND,
      timeoutMs: 2000,
    });
    // Admin writes through the outage: more committed events for the relay and the consumers.
    let extra = 0;
    const writer = setInterval(() => {
      const id = `extra-${(extra += 1)}`;
      void addCredential(broker, id, { pool: 'extra', refreshToken: undefined }).catch(
        () => undefined,
      );
    }, 250);

    await sleep(BEFORE_KILL_MS);
    const leaders = await jetStreamLeaders(broker.nats);
    const killedAt = Date.now();
    await cluster.node(victim).kill();
    await sleep(DOWN_MS);
    const restartedAt = Date.now();
    await cluster.node(victim).restart();
    await sleep(AFTER_RESTART_MS);
    clearInterval(writer);
    const [result, victimResult] = await Promise.all([load.stop(), victimLoad.stop()]);

    const window = (at: number) => `${((at - killedAt) / 1000).toFixed(1)} s after the kill`;
    const summary = (name: string, r: LeaseLoadResult) => {
      const pause = r.longestPause();
      const errors = [...r.errors].map(([k, v]) => `${k}: ${v}`).join(', ');
      return `  ${name}: leases ok ${r.ok.length}, failed ${r.failed}${errors === '' ? '' : ` (${errors})`}; longest pause between successes ${pause.ms} ms, from ${window(pause.from)}`;
    };
    console.log(
      [
        `cluster test: killed ${PrivateNatsCluster.nodeName(victim)} (leader of every stream and consumer), restarted ${window(restartedAt)}; leaders before the kill: ${leaders}`,
        summary(`client on the survivors, ${LEASES_PER_SECOND}/s`, result),
        summary(`client on the killed node, ${VICTIM_CLIENT_PER_SECOND}/s`, victimResult),
      ].join('\n'),
    );
    for (const [r, perSecond] of [
      [result, LEASES_PER_SECOND],
      [victimResult, VICTIM_CLIENT_PER_SECOND],
    ] as const) {
      expect(r.longestPause().ms).toBeLessThan(MAX_PAUSE_MS);
      expect(r.ok.length).toBeGreaterThan(
        (perSecond * (BEFORE_KILL_MS + DOWN_MS + AFTER_RESTART_MS)) / 1000 / 2,
      );
    }
    // Leases kept succeeding on both replicas after the kill: token-service-1 found another node.
    const served = await db.query<{ replica: string; n: string }>(
      `SELECT replica, count(*) AS n FROM lease_audit WHERE leased_at > $1 GROUP BY replica`,
      [new Date(killedAt + DOWN_MS / 2)],
    );
    expect(served.rows.map((r) => r.replica).sort()).toEqual([
      'token-service-1',
      'token-service-2',
    ]);

    // No lease was replied ok without its audit row.
    const audited = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM lease_audit WHERE lease_id = ANY($1::uuid[])',
      [[...result.ok, ...victimResult.ok].map((l) => l.leaseId)],
    );
    expect(Number(audited.rows[0]?.n)).toBe(result.ok.length + victimResult.ok.length);

    // No refresh token presented twice, and every due credential refreshed.
    await waitFor(
      'every due credential to be refreshed',
      () => Promise.resolve(oauth.refreshRequests.length >= DUE),
      60_000,
    );
    const presented = oauth.refreshRequests.map((r) => r.refreshToken);
    // Refreshes go scheduler → command stream → token service: through the outage too.
    const ofDue = oauth.refreshRequests.filter((r) => dueByToken.has(r.refreshToken));
    const lateness = ofDue.map((r) => r.at - (dueByToken.get(r.refreshToken) as number));
    // A refresh presenting a token the broker got from an earlier refresh: wasteful, not unsafe
    // (each token is still presented once, below). Seen once in a loaded run, right after the
    // commands queued during the outage were delivered; bounded here and listed.
    const again = oauth.refreshRequests.filter((r) => !dueByToken.has(r.refreshToken));
    console.log(
      `  refreshes at ${oauth.refreshRequests.map((r) => window(r.at)).join(', ')}; due at ${dueTimes.map((at) => window(at)).join(', ')}; late by ${lateness.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}; refreshes of an already refreshed token: ${again.map((r) => window(r.at)).join(', ') || 'none'}`,
    );
    expect(new Set(ofDue.map((r) => r.refreshToken)).size).toBe(DUE);
    expect(Math.max(...lateness)).toBeLessThan(MAX_REFRESH_LATENESS_MS);
    expect(again.length).toBeLessThanOrEqual(1);
    expect(new Set(presented).size).toBe(presented.length);
    expect(oauth.reuseDetected).toBe(false);

    // Every committed event on the stream once, in commit order; every durable consumer has them all.
    const committed = async () =>
      (
        await db.query<{ p: string }>(
          'SELECT global_position AS p FROM events ORDER BY transaction_id, global_position',
        )
      ).rows.map((r) => Number(r.p));
    await waitFor(
      'the relay to catch up',
      async () =>
        (await relayed(broker.nats).catch(() => ({ positions: [] }))).positions.length ===
        (await committed()).length,
      30_000,
    );
    const positions = (await relayed(broker.nats)).positions;
    expect(positions).toEqual(await committed());
    expect(new Set(positions).size).toBe(positions.length);

    const streamInfo = await (
      await broker.nats.jetstreamManager()
    ).streams.info(eventStreamName(ROOT));
    const lastSeq = streamInfo.state.last_seq;
    const manager = await broker.nats.jetstreamManager();
    let durables: { name: string; redelivered: number }[] = [];
    await waitFor(
      'the scheduler and alerting consumers to ack every event',
      async () => {
        const infos = await manager.consumers.list(eventStreamName(ROOT)).next();
        durables = infos
          .filter((c) => c.config.durable_name !== undefined)
          .map((c) => ({ name: c.name, redelivered: c.num_redelivered }));
        return (
          infos.length >= 2 &&
          infos.every(
            (c) =>
              c.ack_floor.stream_seq === lastSeq && c.num_pending === 0 && c.num_ack_pending === 0,
          )
        );
      },
      30_000,
    );
    expect(durables.map((d) => d.name.replace(/-\d+$/, '')).sort()).toEqual([
      'alerting-alerting',
      'refresh-scheduler-refresh-scheduler',
    ]);
    // The scheduler applied the credentials added during the outage.
    const plan = (await broker.admin('schedule.list'))['schedule'] as { credentialId: string }[];
    const known = new Set(plan.map((s) => s.credentialId));
    for (let i = 0; i < DUE; i += 1) expect(known).toContain(`due-${i}`);
    console.log(
      `  events ${positions.length}, consumers ${durables.map((d) => `${d.name} redelivered ${d.redelivered}`).join(', ')}; refreshes ${presented.length} at ${oauth.refreshRequests.map((r) => window(r.at).replace(' after the kill', '')).join(', ')} after the kill; test ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
    );
  }, 180_000);
});
