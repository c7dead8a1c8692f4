import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BrokerHarness,
  MockOAuthServer,
  OtlpReceiver,
  ServiceProcess,
  waitFor,
} from '@broker/testing';

const CANARY_ACCESS = 'ya29.canary-access-5b8e0d41f2';
const CANARY_SECRET = 'canary-client-secret-9c2d7a';
const CLIENT_ID = 'canary-client';
const BASIC = Buffer.from(`${CLIENT_ID}:${CANARY_SECRET}`).toString('base64');
const WEBHOOK_KEY = Buffer.from('canary-webhook-signing-key-4e1f').toString('base64');
const WEBHOOK_SECRET = `whsec_${WEBHOOK_KEY}`;
/** A receiver URL whose path is a secret, as Slack's and Discord's are. */
const WEBHOOK_PATH_SECRET = 'T0CANARY/B0CANARY/canarypathsecret7d1';

/**
 * Secrets must never reach a log line or a span: an import and refreshes (one
 * failing, with the client secret in a Basic `Authorization` header) run through
 * the real services at debug level, then every captured line is searched for
 * planted canaries and for every token the OAuth server issued.
 */
describe('log redaction - no token, refresh token, client secret or Authorization value in logs or spans', () => {
  let server: MockOAuthServer;
  let receiver: OtlpReceiver;
  let broker: BrokerHarness;
  const dir = mkdtempSync(join(tmpdir(), 'broker-redaction-'));
  const outputs: string[] = [];
  let hooks: Server;
  const hookRequests: string[] = [];

  beforeAll(async () => {
    server = await MockOAuthServer.start({
      clients: [{ id: CLIENT_ID, secret: CANARY_SECRET, auth: 'basic' }],
    });
    receiver = await OtlpReceiver.start();
    broker = await BrokerHarness.create({
      config: {
        providers: {
          'gemini-cli': {
            tokenUrl: server.tokenUrl,
            clientId: CLIENT_ID,
            clientSecret: CANARY_SECRET,
            clientAuth: 'basic',
          },
        },
        refresh: { timeoutMs: 2000, lockTtlMs: 5000 },
        alerting: { allowPrivateWebhookTargets: true },
      },
      env: { LOG_LEVEL: 'debug', ...receiver.env },
    });
    await broker.start();
    await broker.start('refresh-scheduler');
    await broker.start('alerting');
    hooks = createServer((req, res) => {
      hookRequests.push(req.url ?? '');
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  }, 60_000);

  afterAll(async () => {
    await broker?.destroy();
    await new Promise((resolve) => hooks?.close(resolve));
    await receiver?.close();
    await server?.close();
  });

  it('imports (CLI and admin subject), refreshes after a failure, leases: the logs and spans hold no secret', async () => {
    // An import through oauthctl: gcloud's authorized_user file, client secret included.
    const gcloud = server.issueGrant();
    const file = join(dir, 'application_default_credentials.json');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'authorized_user',
        client_id: CLIENT_ID,
        client_secret: CANARY_SECRET,
        refresh_token: gcloud.refreshToken,
      }),
    );
    const cli = ServiceProcess.start('oauthctl', broker.serviceEnv, [
      'import',
      file,
      '--id',
      'canary-gcloud',
    ]);
    expect((await cli.exited).code).toBe(0);
    outputs.push(...cli.rawOutput);

    // An import over the admin subject: a Gemini CLI oauth_creds.json with a live access token.
    const gemini = server.issueGrant();
    const imported = await broker.admin('credentials.import', {
      id: 'canary-gemini',
      document: {
        access_token: CANARY_ACCESS,
        refresh_token: gemini.refreshToken,
        scope: 'https://www.googleapis.com/auth/cloud-platform',
        token_type: 'Bearer',
        expiry_date: Date.now() + 3600_000,
      },
    });
    expect(imported.ok).toBe(true);

    // A refresh that fails (its error logged), then one that succeeds, with Basic client auth.
    server.failNext(1, 503, { error: 'temporarily_unavailable' });
    const failed = await broker.admin('credentials.refresh', { id: 'canary-gemini' });
    expect(failed.ok).toBe(false);
    await waitFor('the refresh to succeed', async () => {
      const reply = await broker.admin('credentials.refresh', { id: 'canary-gemini' });
      return reply.ok;
    });
    await waitFor('the gcloud credential to get its first access token', async () => {
      const reply = await broker.admin('credentials.refresh', { id: 'canary-gcloud' });
      return reply.ok;
    });
    // A webhook whose secret and URL path are canaries: added, sent a signed test, rotated.
    const url = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/services/${WEBHOOK_PATH_SECRET}`;
    const hook = await broker.admin('webhooks.add', {
      url,
      id: 'canary-hook',
      secret: WEBHOOK_SECRET,
    });
    expect(hook.ok).toBe(true);
    expect((await broker.admin('webhooks.test', { id: 'canary-hook' })).ok).toBe(true);
    expect((await broker.admin('webhooks.rotate-secret', { id: 'canary-hook' })).ok).toBe(true);
    expect(hookRequests).toContain(`/services/${WEBHOOK_PATH_SECRET}`);

    const lease = await broker.lease('gemini-cli', 'default', 'canary-bot');
    expect(lease.ok).toBe(true);
    const leased = (lease['lease'] as { accessToken: string }).accessToken;
    expect(server.issuedTokens).toContain(leased);
    expect(server.tokenRequests.some((r) => r.status === 503)).toBe(true);
    expect(server.refreshRequests.length).toBeGreaterThanOrEqual(3);

    // Let the services log what follows (relay, scheduler, usage) and export their spans.
    await new Promise((r) => setTimeout(r, 1500));
    for (const service of broker.services) outputs.push(...service.rawOutput);
    const logs = outputs.join('\n');
    const spans = receiver.bodies.join('\n');
    expect(logs).toContain('credential refreshed'); // the logs are really there
    expect(logs).toContain('refresh failed');
    expect(logs).toMatch(/canary-hook/); // alerting logged the endpoint it was given
    expect(spans).toContain('canary-gemini'); // and so are the spans

    const secrets = [
      CANARY_ACCESS,
      CANARY_SECRET,
      BASIC,
      WEBHOOK_KEY,
      WEBHOOK_PATH_SECRET,
      gcloud.refreshToken,
      gemini.refreshToken,
      ...server.issuedTokens,
      ...broker.keys.split(',').map((key) => key.split(':')[1] as string),
    ];
    for (const secret of secrets) {
      expect({ secret, inLogs: logs.includes(secret) }).toEqual({ secret, inLogs: false });
      expect({ secret, inSpans: spans.includes(secret) }).toEqual({ secret, inSpans: false });
    }
    expect(logs).not.toMatch(/"authorization":"(?!\[redacted\])/i);
  });
});
