#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { loadRuntimeConfig } from '@broker/config';
import { ProviderRegistry } from '@broker/providers';
import { BrokerClient } from './broker-client.js';
import { importFiles, readTokenDocument } from './commands/import.js';
import { login } from './commands/login.js';
import { formatScheduleEntry, type ScheduleListReply } from './commands/schedule.js';

const print = (line: string) => process.stdout.write(`${line}\n`);

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};

/** Runs a command against the broker and closes the connection whatever happens. */
const withBroker = async (
  work: (broker: BrokerClient) => Promise<number | void>,
): Promise<void> => {
  const broker = await BrokerClient.connect(loadRuntimeConfig());
  try {
    const failures = await work(broker);
    if (typeof failures === 'number' && failures > 0) process.exitCode = 1;
  } finally {
    await broker.close();
  }
};

const program = new Command()
  .name('oauthctl')
  .description(
    'Operate the OAuth token broker over NATS (NATS_URL, BROKER_SUBJECT_ROOT, BROKER_CONFIG as the services)',
  )
  .showHelpAfterError();

program
  .command('import')
  .description(
    'import token files the CLIs wrote (Gemini CLI, gcloud, Qwen Code, Claude Code, Codex, llxprt); "-" reads stdin',
  )
  .argument('[files...]', 'token files')
  .option('--provider <name>', 'provider, when the file does not say')
  .option('--pool <name>', 'pool to add to', 'default')
  .option('--id <id>', 'credential id (numbered when several files)')
  .option('--label <text>', 'label shown in listings')
  .option('--from-env <VAR>', 'also import from an environment variable holding the JSON or a path')
  .action(
    async (
      files: string[],
      options: { provider?: string; pool?: string; id?: string; label?: string; fromEnv?: string },
    ) => {
      if (files.length === 0 && options.fromEnv === undefined)
        throw new InvalidArgumentError('name at least one file or --from-env');
      await withBroker((broker) => importFiles(broker, files, options, print));
    },
  );

program
  .command('login')
  .description(
    'sign in to a provider (browser with PKCE on a loopback redirect, or device code) and add the account',
  )
  .argument('<provider>', 'provider name, e.g. gemini-cli, anthropic, openai-codex, qwen-code')
  .option('--id <id>', 'credential id')
  .option('--pool <name>', 'pool to add to', 'default')
  .option('--label <text>', 'label shown in listings')
  .option('--port <port>', 'loopback port for the redirect (0: any free port)', integer, 0)
  .option('--no-browser', 'only print the URL')
  .option('--timeout <seconds>', 'how long to wait for the sign-in', integer, 300)
  .action(
    async (
      name: string,
      options: {
        id?: string;
        pool?: string;
        label?: string;
        port: number;
        browser: boolean;
        timeout: number;
      },
    ) => {
      const config = loadRuntimeConfig();
      const provider = new ProviderRegistry(config.file.providers).get(name);
      if (provider === undefined) throw new InvalidArgumentError(`unknown provider '${name}'`);
      await withBroker((broker) =>
        login(broker, provider, { ...options, timeoutMs: options.timeout * 1000 }, print),
      );
    },
  );

program
  .command('refresh')
  .description('refresh a credential now')
  .argument('<id>', 'credential id')
  .action(async (id: string) => {
    await withBroker(async (broker) => {
      const reply = (await broker.admin('credentials.refresh', { id })) as unknown as {
        credential: { expiresAt: string };
      };
      print(`[ok] ${id} refreshed (expires ${reply.credential.expiresAt})`);
    });
  });

program
  .command('rotate')
  .description(
    'add a successor to a credential from its token file; both serve for the grace period, then the old one is decommissioned',
  )
  .argument('<id>', 'credential to rotate')
  .requiredOption('--successor <file>', "the new account's token file ('-' for stdin)")
  .option('--successor-id <id>', 'id for the new credential')
  .option('--grace-days <days>', 'how long both serve (the pool setting by default)', Number)
  .action(
    async (
      id: string,
      options: { successor: string; successorId?: string; graceDays?: number },
    ) => {
      const { text } = readTokenDocument(options.successor);
      await withBroker(async (broker) => {
        const reply = (await broker.admin('credentials.rotate', {
          id,
          successorDocument: text,
          ...(options.successorId === undefined ? {} : { successorId: options.successorId }),
          ...(options.graceDays === undefined ? {} : { graceDays: options.graceDays }),
        })) as unknown as { successor: { id: string } };
        print(
          `[ok] ${id} rotated to ${reply.successor.id}; both serve until the grace period ends`,
        );
      });
    },
  );

program
  .command('schedule')
  .description('next refresh per account, its strategy and why (from the refresh scheduler)')
  .option('--provider <name>', 'only this provider')
  .option('--json', 'print the reply as JSON')
  .action(async (options: { provider?: string; json?: boolean }) => {
    await withBroker(async (broker) => {
      const reply = (await broker.admin(
        'schedule.list',
        options.provider === undefined ? {} : { provider: options.provider },
      )) as unknown as ScheduleListReply;
      if (options.json === true) {
        print(JSON.stringify(reply, null, 2));
        return;
      }
      print(`leader: ${reply.leader.holder} (term ${reply.leader.term})`);
      for (const entry of reply.schedule) print(formatScheduleEntry(entry, Date.now()));
    });
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`oauthctl: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
