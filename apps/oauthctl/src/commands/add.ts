import { InvalidArgumentError } from 'commander';
import { UsageError } from '../cli/exit-codes.js';
import { JSON_HELP, type Register } from '../cli/context.js';
import { parseInstant, relativeTime } from '../format/time.js';

export interface AddOptions {
  readonly provider: string;
  readonly pool?: string;
  readonly id?: string;
  readonly label?: string;
  readonly accessTokenEnv: string;
  readonly refreshTokenEnv?: string;
  readonly clientSecretEnv?: string;
  readonly clientId?: string;
  readonly expiresAt?: string;
  readonly expiresIn?: number;
  readonly scopes?: string;
  readonly priority?: number;
  readonly tokenType?: string;
  readonly json?: boolean;
}

const secretFrom = (variable: string, env: NodeJS.ProcessEnv, flag: string): string => {
  const value = env[variable];
  if (value === undefined || value.trim() === '')
    throw new UsageError(`${flag}: environment variable ${variable} is not set`);
  return value.trim();
};

/** The `credentials.add` body from the flags; tokens come from environment variables. */
export const addRequest = (
  options: AddOptions,
  env: NodeJS.ProcessEnv,
  now: number,
): Record<string, unknown> => {
  if ((options.expiresAt === undefined) === (options.expiresIn === undefined))
    throw new UsageError('give exactly one of --expires-at and --expires-in');
  const expiresAt =
    options.expiresIn !== undefined
      ? now + options.expiresIn * 1000
      : parseInstant(options.expiresAt as string, now, '--expires-at');
  return {
    provider: options.provider,
    ...(options.pool === undefined ? {} : { pool: options.pool }),
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.label === undefined ? {} : { label: options.label }),
    accessToken: secretFrom(options.accessTokenEnv, env, '--access-token-env'),
    ...(options.refreshTokenEnv === undefined
      ? {}
      : { refreshToken: secretFrom(options.refreshTokenEnv, env, '--refresh-token-env') }),
    ...(options.clientSecretEnv === undefined
      ? {}
      : { clientSecret: secretFrom(options.clientSecretEnv, env, '--client-secret-env') }),
    ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
    expiresAt: new Date(expiresAt).toISOString(),
    ...(options.scopes === undefined
      ? {}
      : { scopes: options.scopes.split(/[\s,]+/).filter((s) => s !== '') }),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...(options.tokenType === undefined ? {} : { tokenType: options.tokenType }),
  };
};

const wholeNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be a whole number');
  return n;
};

export const registerAdd: Register = (program, context) => {
  program
    .command('add')
    .description(
      'add an account from flags; its tokens come from environment variables, never from the command line',
    )
    .requiredOption('--provider <name>', 'provider, e.g. gemini-cli, anthropic, openai-codex')
    .requiredOption('--access-token-env <VAR>', 'environment variable holding the access token')
    .option('--refresh-token-env <VAR>', 'environment variable holding the refresh token')
    .option('--client-secret-env <VAR>', 'environment variable holding an OAuth client secret')
    .option('--client-id <id>', 'OAuth client id, when not the provider’s')
    .option('--expires-at <time>', 'when the access token expires (ISO 8601)')
    .option('--expires-in <seconds>', 'or how long it is still valid', wholeNumber)
    .option('--id <id>', 'credential id (generated when absent)')
    .option('--pool <name>', 'pool to add to', 'default')
    .option('--label <text>', 'label shown in listings, e.g. the account’s e-mail')
    .option('--scopes <list>', 'scopes, separated by commas or spaces')
    .option('--priority <n>', 'priority for pools that select by priority', wholeNumber)
    .option('--token-type <type>', 'token type', 'Bearer')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      `
Example:
  ACCESS=ya29... REFRESH=1//0g... oauthctl add --provider gemini-cli --id work1 \\
    --access-token-env ACCESS --refresh-token-env REFRESH --expires-in 3599`,
    )
    .action(async (options: AddOptions) => {
      const out = context.output(options);
      const now = context.now();
      const request = addRequest(options, process.env, now);
      const reply = await context.withBroker((broker) => broker.call('credentials.add', request));
      if (out.json) {
        out.document(reply);
        return;
      }
      const c = reply.credential;
      out.line(
        `${out.paint('[ok]', 'green')} added ${c.id} (${c.provider}/${c.pool}, expires ${relativeTime(Date.parse(c.expiresAt), now)})`,
      );
    });
};
