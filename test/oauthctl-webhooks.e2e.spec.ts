import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { addCredential, BrokerHarness, REPO_ROOT, waitFor, WebhookReceiver } from '@broker/testing';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('oauthctl webhooks and alerts', () => {
  let broker: BrokerHarness;
  let receiver: WebhookReceiver;

  const oauthctl = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(REPO_ROOT, 'dist/apps/oauthctl/src/main.js'), ...args],
        { cwd: REPO_ROOT, env: { ...process.env, ...broker.serviceEnv } },
        (error, stdout, stderr) =>
          resolve({
            code: error === null ? 0 : ((error as { code?: number }).code ?? null),
            stdout,
            stderr,
          }),
      );
    });

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
});
