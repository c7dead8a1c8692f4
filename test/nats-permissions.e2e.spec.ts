import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection, type NatsError } from 'nats';
import { BrokerClient, clientInboxPrefix } from '@broker/client';
import { AdminVerbs } from '@broker/contracts';
import {
  addCredential,
  BrokerHarness,
  deployNatsUsers,
  localNatsConfig,
  PrivateNats,
  waitFor,
  type Reply,
} from '@broker/testing';

// RELIABILITY scenario 20 (issue 8 item 9): a NATS user leases another client's
// pool, calls admin subjects or publishes on another's report subject: denied by
// NATS permissions, and the handler never runs. The server runs deploy/nats.conf
// with the REAL deploy/nats-auth.conf (see localNatsConfig); the services run as
// their own users, the test's harness as `admin`, with the shipped subject root.

const ROOT = 'oauth';
const CLIENT = 'example-bot';

interface LeaseBody {
  leaseId: string;
  credentialId: string;
  accessToken: string;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The whole message the server sends back: the subject, nothing of any body or reply. */
const denied = (operation: 'Publish' | 'Subscription', subject: string): RegExp =>
  new RegExp(
    `^'Permissions Violation for ${operation} to "${subject.replace(/[.*>]/g, '\\$&')}"'$`,
  );

describe('NATS permissions of deploy/nats-auth.conf (scenario 20)', () => {
  const passwords = Object.fromEntries(
    // nats-server parses a variable's value as config: a password starts with a letter.
    deployNatsUsers().map((u) => [u.passwordVariable, `p${randomBytes(12).toString('hex')}`]),
  );
  const passwordOf = (user: string): string => {
    const entry = deployNatsUsers().find((u) => u.user === user);
    if (entry === undefined) throw new Error(`deploy/nats-auth.conf has no user '${user}'`);
    return passwords[entry.passwordVariable] as string;
  };
  let server: PrivateNats;
  let broker: BrokerHarness;
  let client: NatsConnection;

  const request = async (nc: NatsConnection, subject: string, body: unknown): Promise<Reply> =>
    (await nc.request(subject, JSON.stringify(body), { timeout: 3000 })).json<Reply>();

  const refusal = async (
    nc: NatsConnection,
    subject: string,
    body: unknown,
  ): Promise<NatsError> => {
    const error = await request(nc, subject, body).then(
      () => new Error(`${subject}: answered, but the permissions should have refused it`),
      (e: unknown) => e,
    );
    return error as NatsError;
  };

  const auditRows = async (client_: string): Promise<unknown[]> =>
    (await broker.admin('audit.leases', { client: client_ }))['leases'] as unknown[];

  const credential = async (id: string): Promise<{ status: string; state: string }> =>
    (await broker.admin('credentials.get', { id }))['credential'] as {
      status: string;
      state: string;
    };

  beforeAll(async () => {
    server = await PrivateNats.start({ configFile: localNatsConfig('nats.conf'), env: passwords });
    broker = await BrokerHarness.create({
      natsUrl: server.url,
      natsUser: { user: 'admin', pass: passwordOf('admin') },
      subjectRoot: ROOT,
    });
    for (const app of ['token-service', 'refresh-scheduler', 'alerting'])
      await broker.start(app, { NATS_USER: app, NATS_PASS: passwordOf(app) });
    for (const id of ['perm-a', 'perm-b']) expect((await addCredential(broker, id)).ok).toBe(true);
    client = await connect({
      servers: server.url,
      user: CLIENT,
      pass: passwordOf(CLIENT),
      inboxPrefix: clientInboxPrefix(CLIENT),
    });
  });

  afterAll(async () => {
    await client?.close();
    await broker?.destroy();
    await server?.destroy();
  });

  it('refuses to start without the passwords it reads from the environment', async () => {
    await expect(PrivateNats.start({ configFile: localNatsConfig('nats.conf') })).rejects.toThrow(
      /variable reference for 'NATS_[A-Z_]+_PASS' .*can not be found/,
    );
  });

  it('lets the example client, through libs/client as it connects by default, lease from its own pool and report as itself', async () => {
    const library = await BrokerClient.create({
      client: CLIENT,
      subjectRoot: ROOT,
      connect: { servers: server.url, user: CLIENT, pass: passwordOf(CLIENT) },
    });
    try {
      const lease = await library.lease('gemini-cli', { reuse: false });
      expect(lease.accessToken).toBe(`access-${lease.credentialId}`);
      await library.report(lease, { outcome: 'success' });
    } finally {
      await library.close();
    }
    expect(await auditRows(CLIENT)).toHaveLength(1);
  });

  it('denies leasing as another client: no handler ran, so no audit row; the error holds no token', async () => {
    const subject = `${ROOT}.v1.lease.gemini-cli.default.other-bot`;
    const error = await refusal(client, subject, {});
    expect(error.code).toBe('PERMISSIONS_VIOLATION');
    expect(error.message).toMatch(denied('Publish', subject));
    expect(error.message).not.toMatch(/access-|refresh-|perm-a|perm-b/);
    expect(await auditRows('other-bot')).toEqual([]);
    expect(await auditRows(CLIENT)).toHaveLength(1);
  });

  it('denies reporting on another client’s subject, even with that client’s lease id', async () => {
    // other-bot's real lease, taken by the operator; the example client learns its id.
    const theirs = (await broker.lease('gemini-cli', 'default', 'other-bot'))['lease'] as LeaseBody;
    const subject = `${ROOT}.v1.report.other-bot`;
    const error = await refusal(client, subject, {
      leaseId: theirs.leaseId,
      outcome: 'failure',
      status: 429,
      retryAfterMs: 600_000,
    });
    expect(error.message).toMatch(denied('Publish', subject));
    // Had the report handler run, the 429 would have put the credential in cooling.
    expect((await credential(theirs.credentialId)).state).toBe('ok');
  });

  it('denies every admin verb: a revoke and an add do nothing', async () => {
    const revoke = await refusal(client, `${ROOT}.v1.admin.credentials.revoke`, { id: 'perm-a' });
    expect(revoke.message).toMatch(denied('Publish', `${ROOT}.v1.admin.credentials.revoke`));
    expect((await credential('perm-a')).status).toBe('active');

    const add = await refusal(client, `${ROOT}.v1.admin.credentials.add`, {
      provider: 'gemini-cli',
      id: 'planted',
      accessToken: 'planted-access',
      refreshToken: 'planted-refresh',
    });
    expect(add.message).toMatch(denied('Publish', `${ROOT}.v1.admin.credentials.add`));
    expect((await broker.admin('credentials.get', { id: 'planted' })).ok).toBe(false);

    for (const verb of Object.keys(AdminVerbs)) {
      const subject = `${ROOT}.v1.admin.${verb}`;
      expect((await refusal(client, subject, {})).message).toMatch(denied('Publish', subject));
    }
  });

  it('denies forging refresh commands and events', async () => {
    const jsm = await broker.nats.jetstreamManager();
    const before = (await jsm.streams.info('OAUTH_CMD')).state.last_seq;
    for (const subject of [`${ROOT}.v1.cmd.refresh`, `${ROOT}.v1.events.credential.revoked.v1`])
      expect((await refusal(client, subject, { id: 'perm-a' })).message).toMatch(
        denied('Publish', subject),
      );
    expect((await jsm.streams.info('OAUTH_CMD')).state.last_seq).toBe(before);
  });

  it('denies reading other clients’ replies, requests and the event stream', async () => {
    for (const subject of ['_INBOX.>', `${ROOT}.v1.lease.>`, `${ROOT}.v1.events.>`, '>']) {
      const subscription = client.subscribe(subject);
      const outcome = await Promise.race([
        (async () => {
          for await (const message of subscription) return `received on ${message.subject}`;
          return 'closed without an error';
        })().catch((error: unknown) => error as NatsError),
        sleep(2000).then(() => `subscribed to ${subject}, no refusal within 2 s`),
      ]);
      subscription.unsubscribe();
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as NatsError).message).toMatch(denied('Subscription', subject));
    }
    // A client on the shared `_INBOX` gets no answer at all: it must use its own prefix.
    const plain = await connect({ servers: server.url, user: CLIENT, pass: passwordOf(CLIENT) });
    const error = await refusal(plain, `${ROOT}.v1.lease.gemini-cli.default.${CLIENT}`, {});
    expect(error.message).toMatch(/^'Permissions Violation for Subscription to "_INBOX\.[^"]+"'$/);
    await plain.close();
  });

  it('leaves the services, under their own users, answering every admin verb and relaying the log', async () => {
    // Each verb answers (ok or a validation error): every service could subscribe to its verbs.
    for (const verb of Object.keys(AdminVerbs)) {
      const reply = await broker.admin(verb, {});
      expect(typeof reply.ok).toBe('boolean');
    }
    await waitFor(
      'the scheduler (its own user) to follow both credentials from JetStream',
      async () => ((await broker.admin('schedule.list', {}))['schedule'] as unknown[]).length >= 2,
    );
    const jsm = await broker.nats.jetstreamManager();
    await waitFor(
      'the relay (token-service user) to fill the event stream',
      async () => (await jsm.streams.info('OAUTH_EVENTS')).state.messages > 0,
    );
    for (const service of broker.services) {
      expect(service.child.exitCode).toBeNull();
      expect(service.rawOutput.join('\n')).not.toMatch(/Permissions Violation/i);
    }
  });
});
