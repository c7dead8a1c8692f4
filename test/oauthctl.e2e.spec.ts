import { join } from 'node:path';
import {
  BrokerHarness,
  MockOAuthServer,
  REPO_ROOT,
  ServiceProcess,
  waitFor,
} from '@broker/testing';

const FIXTURES = join(REPO_ROOT, 'libs/domain/src/import/fixtures');

interface Listed {
  id: string;
  provider: string;
  hasRefreshToken: boolean;
}

describe('oauthctl - getting accounts in', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;

  beforeAll(async () => {
    server = await MockOAuthServer.start({
      clients: [
        { id: 'test-client', secret: 'test-secret', auth: ['body', 'basic'] },
        { id: 'public-client', auth: 'none' },
      ],
      behaviour: { deviceIntervalSeconds: 0.05 },
    });
    const providers = {
      'gemini-cli': {
        tokenUrl: server.tokenUrl,
        authorizeUrl: server.authorizeUrl,
        clientId: 'test-client',
        clientSecret: 'test-secret',
        clientAuth: 'body',
      },
      'qwen-code': {
        tokenUrl: server.tokenUrl,
        deviceAuthorizationUrl: server.deviceAuthorizationUrl,
        clientId: 'public-client',
        clientAuth: 'none',
      },
    };
    broker = await BrokerHarness.create({ config: { providers } });
    await broker.start();
  });

  afterAll(async () => {
    await broker.destroy();
    await server.close();
  });

  const oauthctl = async (args: string[], env: Record<string, string> = {}) => {
    const cli = ServiceProcess.start('oauthctl', { ...broker.serviceEnv, ...env }, args);
    const exit = await cli.exited;
    return { code: exit.code, output: cli.rawOutput.join('\n') };
  };

  const listed = async (): Promise<Listed[]> =>
    (await broker.admin('credentials.list'))['credentials'] as Listed[];

  it('imports each format from files shaped like the real ones, detecting the provider by content', async () => {
    const files: [string, string][] = [
      ['gemini-cli.oauth_creds.json', 'gemini-cli'],
      ['gcloud.authorized_user.json', 'gemini-cli'],
      ['qwen-code.oauth_creds.json', 'qwen-code'],
      ['claude-code.credentials.json', 'anthropic'],
      ['codex.auth.json', 'openai-codex'],
      ['llxprt.gemini.json', 'gemini-cli'],
    ];
    for (const [file, provider] of files) {
      const id = `imp-${file.split('.')[0] ?? 'x'}-${provider}`;
      const result = await oauthctl(['import', join(FIXTURES, file), '--id', id]);
      expect({ file, code: result.code, output: result.output }).toEqual({
        file,
        code: 0,
        output: expect.stringContaining(`[ok]`),
      });
      expect((await listed()).find((c) => c.id === id)?.provider).toBe(provider);
    }
    const seed = await oauthctl([
      'import',
      join(FIXTURES, 'seed.expires-at.json'),
      '--provider',
      'gemini-cli',
      '--id',
      'imp-seed',
    ]);
    expect(seed.code).toBe(0);
  });

  it('imports from an environment variable holding the JSON, and warns about a file without a refresh token', async () => {
    const { readFileSync } = await import('node:fs');
    const json = readFileSync(join(FIXTURES, 'gemini-cli.no-refresh-token.json'), 'utf8');
    const result = await oauthctl(
      ['import', '--from-env', 'GEMINI_CLI_OAUTH_CREDENTIALS', '--id', 'from-env'],
      {
        GEMINI_CLI_OAUTH_CREDENTIALS: json,
      },
    );
    expect(result.code).toBe(0);
    expect(result.output).toContain('[warn] from-env:');
    expect(result.output).toMatch(/refresh token/);
    expect((await listed()).find((c) => c.id === 'from-env')?.hasRefreshToken).toBe(false);
  });

  it('refuses broken and partial files with a message naming what is missing, and never echoes a token', async () => {
    const broken = await oauthctl([
      'import',
      join(FIXTURES, 'gemini-cli.no-expiry-date.broken.json'),
    ]);
    expect(broken.code).toBe(1);
    expect(broken.output).toContain('[error]');
    expect(broken.output).toContain('expiry_date');
    const alien = await oauthctl(['import', join(FIXTURES, 'not-a-token-file.json')]);
    expect(alien.code).toBe(1);
    expect(alien.output).toContain('not a recognised token file');
    const missing = await oauthctl(['import', join(FIXTURES, 'does-not-exist.json')]);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('ENOENT');
    const { readFileSync } = await import('node:fs');
    const secret = JSON.parse(
      readFileSync(join(FIXTURES, 'gemini-cli.no-expiry-date.broken.json'), 'utf8'),
    ) as { access_token?: string };
    if (secret.access_token !== undefined) expect(broken.output).not.toContain(secret.access_token);
  });

  it('login runs the authorization code flow with PKCE on a loopback redirect and adds the account', async () => {
    const cli = ServiceProcess.start('oauthctl', broker.serviceEnv, [
      'login',
      'gemini-cli',
      '--id',
      'logged-in',
      '--no-browser',
      '--timeout',
      '30',
    ]);
    const line = await cli.waitForLog(
      (l) => typeof l.msg === 'string' && l.msg.startsWith(server.authorizeUrl),
    );
    // The "browser": follow the provider's redirect to the CLI's loopback listener.
    const authorize = await fetch(line.msg as string, { redirect: 'manual' });
    expect(authorize.status).toBe(302);
    const callback = authorize.headers.get('location') as string;
    expect(callback).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth2callback\?code=/);
    expect((await fetch(callback)).status).toBe(200);
    expect((await cli.exited).code).toBe(0);
    expect(cli.rawOutput.join('\n')).toContain('[ok] logged in: added logged-in');
    expect(server.authorizeRequests.at(-1)?.codeChallengeMethod).toBe('S256');
    const account = (await listed()).find((c) => c.id === 'logged-in');
    expect(account?.hasRefreshToken).toBe(true);
    const lease = await broker.lease('gemini-cli', 'default', 'bot', {
      exclude: (await listed()).filter((c) => c.id !== 'logged-in').map((c) => c.id),
    });
    expect(server.validAccessToken((lease['lease'] as { accessToken: string }).accessToken)).toBe(
      true,
    );
  });

  it('login runs the device code flow for Qwen and adds the account once the code is confirmed', async () => {
    const cli = ServiceProcess.start('oauthctl', broker.serviceEnv, [
      'login',
      'qwen-code',
      '--id',
      'qwen-login',
      '--no-browser',
      '--timeout',
      '30',
    ]);
    const prompt = await cli.waitForLog(
      (l) => typeof l.msg === 'string' && l.msg.includes('confirm the code'),
    );
    const userCode = /confirm the code (\S+):/.exec(prompt.msg as string)?.[1] as string;
    server.approveDevice(userCode);
    expect((await cli.exited).code).toBe(0);
    await waitFor('the account', async () =>
      (await listed()).some((c) => c.id === 'qwen-login' && c.provider === 'qwen-code'),
    );
  });

  it('rotate adds the successor from its token file to the old credential’s pool', async () => {
    const added = await broker.admin('credentials.add', {
      provider: 'gemini-cli',
      pool: 'team',
      id: 'rot-old',
      accessToken: 'still-good',
      refreshToken: server.issueGrant().refreshToken,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(added.ok).toBe(true);
    const rotated = await oauthctl([
      'rotate',
      'rot-old',
      '--successor',
      join(FIXTURES, 'llxprt.gemini.json'),
      '--successor-id',
      'rot-new',
      '--grace-days',
      '2',
    ]);
    expect(rotated.output).toContain('[ok] rot-old rotated to rot-new');
    expect(rotated.code).toBe(0);
    const team = (await broker.admin('credentials.list', { pool: 'team' }))[
      'credentials'
    ] as Listed[];
    expect(team.map((c) => c.id).sort()).toEqual(['rot-new', 'rot-old']);
    const again = await oauthctl([
      'rotate',
      'rot-old',
      '--successor',
      join(FIXTURES, 'llxprt.gemini.json'),
    ]);
    expect(again.code).toBe(1);
    expect(again.output).toContain("already rotated to 'rot-new'");
  });
});
