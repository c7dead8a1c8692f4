import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  brokerWithOAuthServer,
  MockOAuthServer,
  REPO_ROOT,
  type BrokerHarness,
} from '@broker/testing';
import { runOauthctl, type Run } from './support/oauthctl.js';

const FIXTURES = join(REPO_ROOT, 'libs/domain/src/import/fixtures');

const oauthctl = runOauthctl;

/** The subcommands a help text lists under "Commands:", without `help` itself. */
const subcommandsIn = (help: string): string[] => {
  const at = help.indexOf('\nCommands:\n');
  if (at < 0) return [];
  return help
    .slice(at)
    .split('\n')
    .slice(2)
    .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
};

/** Every command that does something (the leaves of the tree), found from the CLI's own help. */
const leafCommands = async (path: string[] = []): Promise<string[][]> => {
  const help = await oauthctl([...path, '--help']);
  expect({ path, code: help.code, stderr: help.stderr }).toEqual({ path, code: 0, stderr: '' });
  expect(help.stdout).toContain(`Usage: oauthctl ${path.join(' ')}`.trimEnd());
  const subs = subcommandsIn(help.stdout);
  if (subs.length === 0) {
    expect({ path, json: help.stdout.includes('--json') }).toEqual({ path, json: true });
    return [path];
  }
  const leaves: string[][] = [];
  for (const sub of subs) leaves.push(...(await leafCommands([...path, sub])));
  return leaves;
};

describe('oauthctl - every command has help and machine output', () => {
  let server: MockOAuthServer;
  let broker: BrokerHarness;
  let receiver: Server;
  let receiverUrl: string;
  let env: Record<string, string>;
  let leaves: string[][];

  beforeAll(async () => {
    leaves = await leafCommands();
    server = await MockOAuthServer.start();
    receiver = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    broker = await brokerWithOAuthServer(server, {
      alerting: { allowPrivateWebhookTargets: true },
    });
    await Promise.all([
      broker.start(),
      broker.start('refresh-scheduler'),
      broker.start('alerting'),
    ]);
    const grant = server.issueGrant();
    env = {
      ...broker.serviceEnv,
      ACCESS: 'ya29.every-command-access',
      REFRESH: grant.refreshToken,
    };
  });

  afterAll(async () => {
    await broker?.destroy();
    await server?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('finds every command from the help and each leaf documents --json', () => {
    expect(leaves.length).toBeGreaterThanOrEqual(20);
    expect(leaves).toContainEqual(['webhooks', 'redeliver']);
  });

  it('every command except the interactive login runs with --json and prints parseable JSON', async () => {
    const one = (run: Run): unknown => {
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      return JSON.parse(run.stdout) as unknown;
    };
    const lines = (run: Run): unknown[] => {
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      return run.stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as unknown);
    };
    const ran = new Set<string>();
    const cli = async (args: string[]): Promise<Run> => {
      const path = leaves.find((leaf) => leaf.every((word, i) => args[i] === word));
      if (path !== undefined) ran.add(path.join(' '));
      return oauthctl([...args, '--json'], env);
    };

    // Accounts in: from flags and from a token file; then the state commands read them.
    const added = one(
      await cli([
        'add',
        '--provider',
        'gemini-cli',
        '--id',
        'every1',
        '--access-token-env',
        'ACCESS',
        '--refresh-token-env',
        'REFRESH',
        '--expires-in',
        '3600',
      ]),
    );
    expect(added).toMatchObject({ credential: { id: 'every1' } });
    const imported = lines(
      await cli(['import', '--id', 'every2', join(FIXTURES, 'gcloud.authorized_user.json')]),
    );
    expect(imported).toEqual([expect.objectContaining({ credential: expect.anything() })]);
    for (const read of [['status'], ['list'], ['stats'], ['schedule'], ['alerts']])
      expect(one(await cli(read))).toEqual(expect.any(Object));

    const lease = await broker.lease('gemini-cli', 'default', 'every-bot');
    expect(lease.ok).toBe(true);
    expect(lines(await cli(['audit', '--client', 'every-bot']))).toHaveLength(1);

    expect(one(await cli(['refresh', 'every1']))).toMatchObject({
      credential: { id: 'every1', refreshCount: 1 },
    });
    expect(
      one(
        await cli([
          'rotate',
          'every1',
          '--successor',
          join(FIXTURES, 'gcloud.authorized_user.json'),
          '--successor-id',
          'every3',
        ]),
      ),
    ).toMatchObject({ successor: { id: 'every3' } });
    expect(one(await cli(['decommission', 'every2']))).toMatchObject({
      credential: { id: 'every2' },
    });
    expect(one(await cli(['revoke', 'every3']))).toMatchObject({ credential: { id: 'every3' } });

    // Webhooks, end to end: add, look, sign, rotate, deliveries, redeliver, remove.
    const hook = one(
      await cli(['webhooks', 'add', receiverUrl, '--id', 'every-hook', '--events', 'all']),
    );
    expect(hook).toMatchObject({
      webhook: { id: 'every-hook' },
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(one(await cli(['webhooks', 'list']))).toEqual(expect.any(Object));
    expect(one(await cli(['webhooks', 'test', 'every-hook']))).toEqual(expect.any(Object));
    expect(one(await cli(['webhooks', 'rotate-secret', 'every-hook']))).toEqual(expect.any(Object));
    expect(one(await cli(['webhooks', 'deliveries']))).toEqual(expect.any(Object));
    expect(one(await cli(['webhooks', 'redeliver', '--all']))).toEqual(expect.any(Object));
    expect(one(await cli(['webhooks', 'remove', 'every-hook']))).toEqual(expect.any(Object));

    expect(one(await cli(['replay', '--verify']))).toEqual(expect.any(Object));

    // `login` opens a browser or waits for a device code: oauthctl.e2e drives it against the server.
    const untested = leaves.map((path) => path.join(' ')).filter((name) => !ran.has(name));
    expect(untested).toEqual(['login']);
  });
});
