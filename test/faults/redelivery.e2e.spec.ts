import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { headers as natsHeaders, type JsMsg } from 'nats';
import {
  addCredential,
  brokerWithOAuthServer,
  type BrokerHarness,
  MockOAuthServer,
  waitFor,
  type ServiceProcess,
} from '@broker/testing';
import { assertInvariants, checkNoLostEvent, NatsTap } from './invariants.js';

const streamOf = (broker: BrokerHarness, kind: 'CMD' | 'EVENTS') =>
  `${broker.root.replace(/\./g, '_').toUpperCase()}_${kind}`;

/** The relayed message holding one global position, read from the start of the stream. */
const relayedMessage = async (broker: BrokerHarness, position: number): Promise<JsMsg> => {
  const consumer = await broker.nats.jetstream().consumers.get(streamOf(broker, 'EVENTS'));
  for (;;) {
    const message = await consumer.next({ expires: 2000 });
    if (message === null) throw new Error(`position ${position} is not on the stream`);
    if (Number(message.headers?.get('Broker-Position')) === position) return message;
  }
};

/** RELIABILITY fault 4: JetStream delivers a command twice and an event twice; each is applied once. */
describe('faults - JetStream redelivery', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;

  afterAll(async () => {
    await broker?.destroy();
    await server?.close();
  });

  it('a refresh command sent twice refreshes once; an event delivered again is not applied again', async () => {
    server = await MockOAuthServer.start();
    broker = await brokerWithOAuthServer(server, { refresh: { timeoutMs: 1000, lockTtlMs: 3000 } });
    const services: ServiceProcess[] = [
      await broker.start(),
      await broker.start('refresh-scheduler'),
    ];
    const grant = server.issueGrant();
    await addCredential(broker, 'twice', {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(grant.expiresAt).toISOString(),
    });
    const tap = new NatsTap(broker);

    // The same refresh, sent twice under different message ids (a scheduler re-send), so
    // JetStream's deduplication does not hide the second one: both are delivered.
    const js = broker.nats.jetstream();
    const command = () => ({
      commandId: randomUUID(),
      credentialId: 'twice',
      reason: 'scheduled',
      knownRefreshCount: 0,
      dueAt: new Date().toISOString(),
      issuedAt: new Date().toISOString(),
      issuedBy: 'fault-test',
    });
    for (const body of [command(), command()]) {
      const ack = await js.publish(broker.subject('cmd.refresh'), JSON.stringify(body), {
        msgID: body.commandId,
      });
      expect(ack.duplicate).toBe(false);
    }
    const jsm = await broker.nats.jetstreamManager();
    await waitFor('both commands to be acknowledged', async () => {
      const info = await jsm.consumers.info(streamOf(broker, 'CMD'), 'token-service');
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= 2;
    });
    const detail = await broker.admin('credentials.get', { id: 'twice' });
    expect((detail['credential'] as { refreshCount: number }).refreshCount).toBe(1);
    expect(server.refreshRequests).toHaveLength(1);

    // The credential's first event, delivered to the consumers again after the refresh: as a
    // relay re-publish past the deduplication window would. Applied again, it would undo the
    // refresh in the scheduler's state (lastRefreshAt back to null).
    const db = new pg.Client({ connectionString: broker.databaseUrl });
    await db.connect();
    const added = await db.query<{ p: string }>(
      `SELECT global_position AS p FROM events WHERE stream_id = 'credential-twice' AND stream_version = 1`,
    );
    await db.end();
    const position = Number(added.rows[0]?.p);
    await checkNoLostEvent({ broker, services, leases: [], errorReplies: [] });
    const original = await relayedMessage(broker, position);
    const again = natsHeaders();
    for (const [key, values] of original.headers ?? [])
      for (const v of values) again.append(key, v);
    // With the relay's own message id, JetStream drops it ...
    const dropped = await js.publish(original.subject, original.data, {
      msgID: original.headers?.get('Nats-Msg-Id') || JSON.parse(original.string()).eventId,
      headers: again,
    });
    expect(dropped.duplicate).toBe(true);
    // ... and under a new one it is delivered again.
    const delivered = await js.publish(original.subject, original.data, {
      msgID: randomUUID(),
      headers: again,
    });
    expect(delivered.duplicate).toBe(false);

    await waitFor('the scheduler to take the duplicate', async () => {
      const info = await jsm.consumers.info(
        streamOf(broker, 'EVENTS'),
        'refresh-scheduler-refresh-scheduler-2',
      );
      return (
        info.num_pending === 0 &&
        info.num_ack_pending === 0 &&
        info.delivered.stream_seq === delivered.seq
      );
    });
    const schedule = (await broker.admin('schedule.list'))['schedule'] as {
      credentialId: string;
      lastRefreshAt: string | null;
    }[];
    expect(schedule.find((e) => e.credentialId === 'twice')?.lastRefreshAt).not.toBeNull();
    expect(
      services[1]?.lines.some((l) => l.msg === 'applying a relayed event failed; retrying'),
    ).toBe(false);
    tap.close();

    // The checker sees the duplicate on the stream unless told it was the test's own.
    await expect(
      checkNoLostEvent({ broker, services, leases: [], errorReplies: [] }),
    ).rejects.toThrow('I3');
    await assertInvariants({
      broker,
      services,
      leases: [],
      errorReplies: [],
      servers: [server],
      canaries: server.issuedRefreshTokens,
      tap,
      injectedDuplicates: [position],
    });
  }, 60_000);
});
