import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { addCredential, BrokerHarness, waitFor, WebhookReceiver } from '@broker/testing';
import { runOauthctl, type Run } from './support/oauthctl.js';

describe('oauthctl webhooks and alerts', () => {
  let broker: BrokerHarness;
  let receiver: WebhookReceiver;

  const oauthctl = (args: string[]): Promise<Run> => runOauthctl(args, broker.serviceEnv);

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    broker = await BrokerHarness.create({
      config: { alerting: { allowPrivateWebhookTargets: true } },
    });
    await Promise.all([broker.start(), broker.start('alerting')]);
  });

  afterAll(async () => {
    await broker.destroy();
    await receiver.down();
  });

  it('adds an endpoint, shows its secret once, tests it with a signature that verifies, lists it without secrets', async () => {
    const added = await oauthctl([
      'webhooks',
      'add',
      receiver.url,
      '--events',
      'expiry_warning,resolved',
      '--id',
      'ops',
      '--json',
    ]);
    expect(added.code).toBe(0);
    const { secret, webhook } = JSON.parse(added.stdout) as {
      secret: string;
      webhook: { id: string; events: string[] };
    };
    expect(webhook).toMatchObject({ id: 'ops', events: ['expiry_warning', 'resolved'] });

    const tested = await oauthctl(['webhooks', 'test', 'ops']);
    expect(tested).toMatchObject({ code: 0 });
    expect(tested.stdout).toMatch(/^\[ok\] msg_\w+ {2}ops {2}test {2}1 attempt {2}delivered/);
    const [sent] = receiver.received;
    expect(
      new Webhook(secret).verify(sent!.body, sent!.headers as Record<string, string>),
    ).toMatchObject({ type: 'test' });

    const listed = await oauthctl(['webhooks', 'list']);
    expect(listed.stdout).toContain('ops  http://127.0.0.1:');
    expect(listed.stdout + (await oauthctl(['webhooks', 'list', '--json'])).stdout).not.toContain(
      secret,
    );
  });

  it('shows a firing alert and its delivery, and redelivers a dead one', async () => {
    receiver.answer = () => 404;
    await addCredential(broker, 'short', {
      refreshToken: undefined,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await waitFor('the expiry warning', async () =>
      (await oauthctl(['alerts', '--firing'])).stdout.includes('expiry_warning short'),
    );
    const alerts = JSON.parse((await oauthctl(['alerts', '--json'])).stdout) as {
      alerts: { type: string; state: string }[];
    };
    expect(alerts.alerts).toMatchObject([{ type: 'expiry_warning', state: 'firing' }]);

    await waitFor('a dead delivery', async () =>
      (await oauthctl(['webhooks', 'deliveries', '--state', 'dead'])).stdout.includes(
        'receiver answered 404',
      ),
    );
    receiver.answer = () => 204;
    const again = await oauthctl(['webhooks', 'redeliver', '--all', '--json']);
    expect(again.code).toBe(0);
    const [redelivered] = (JSON.parse(again.stdout) as { deliveries: { id: string }[] }).deliveries;
    await waitFor('the redelivery', () =>
      Promise.resolve(
        receiver.received.some(
          (r) => r.status === 204 && r.headers['webhook-id'] === redelivered!.id,
        ),
      ),
    );
    expect(
      receiver.received
        .filter((r) => r.headers['webhook-id'] === redelivered!.id)
        .map((r) => r.status),
    ).toEqual([404, 204]);
  });

  it('refuses bad input with a usage error and an unknown endpoint with a broker error', async () => {
    expect(
      await oauthctl(['webhooks', 'add', receiver.url, '--events', 'everything']),
    ).toMatchObject({ code: 2 });
    expect(await oauthctl(['webhooks', 'redeliver'])).toMatchObject({ code: 2 });
    const unknown = await oauthctl(['webhooks', 'test', 'nope', '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_WEBHOOK' },
    });
  });

  it('documents that `resolved` takes the resolutions of every alert type', async () => {
    const help = await oauthctl(['webhooks', 'add', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('resolved (the resolutions of every type)');
  });

  it('rotates a secret: the test event carries two v1 signatures, the old and the new secret both verify', async () => {
    const pathSecret = 'p4th-s3cret-9f2c';
    const added = await oauthctl([
      'webhooks',
      'add',
      `${receiver.url}/${pathSecret}`,
      '--id',
      'rotating',
      '--json',
    ]);
    expect(added.code).toBe(0);
    const oldSecret = (JSON.parse(added.stdout) as { secret: string }).secret;
    const rotated = await oauthctl(['webhooks', 'rotate-secret', 'rotating', '--json']);
    expect(rotated.code).toBe(0);
    const { secret: newSecret, webhook } = JSON.parse(rotated.stdout) as {
      secret: string;
      webhook: { previousSecretValidUntil: string | null };
    };
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(Date.parse(webhook.previousSecretValidUntil!)).toBeGreaterThan(Date.now());

    const before = receiver.received.length;
    expect(await oauthctl(['webhooks', 'test', 'rotating'])).toMatchObject({ code: 0 });
    expect(receiver.received).toHaveLength(before + 1);
    const sent = receiver.received[before]!;
    const signatures = String(sent.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    for (const signature of signatures) expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    const headers = sent.headers as Record<string, string>;
    for (const secret of [oldSecret, newSecret])
      expect(new Webhook(secret).verify(sent.body, headers)).toMatchObject({ type: 'test' });
    expect(() =>
      new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwkG8dZzcCRUs=').verify(sent.body, headers),
    ).toThrow();

    // At rest, secrets and the URL's path are ciphertext: not in the events, nor in any other table.
    const dump = await databaseText(broker.databaseUrl);
    expect(dump).toContain('webhook.secret-rotated.v1');
    expect(dump).toContain('rotating');
    for (const secret of [oldSecret, newSecret]) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice('whsec_'.length));
    }
    expect(dump).not.toContain(pathSecret);
  });
});

/** Every row of every table of the broker's database, as text. */
const databaseText = async (databaseUrl: string): Promise<string> => {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows: tables } = await db.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['events', 'webhook_deliveries']),
    );
    const dumps: string[] = [];
    for (const { name } of tables) {
      const { rows } = await db.query<{ dump: string | null }>(
        `SELECT string_agg(t::text, E'\\n') AS dump FROM "${name}" t`,
      );
      dumps.push(rows[0]?.dump ?? '');
    }
    return dumps.join('\n');
  } finally {
    await db.end();
  }
};
