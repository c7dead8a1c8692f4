import { readFileSync } from 'node:fs';
import { AdminError, type BrokerClient } from '../cli/broker-client.js';
import { JSON_LINES_HELP, type Register } from '../cli/context.js';
import { ExitCode, UnreachableError, UsageError } from '../cli/exit-codes.js';
import type { Output } from '../cli/output.js';

export interface ImportOptions {
  readonly provider?: string;
  readonly pool?: string;
  readonly id?: string;
  readonly label?: string;
  readonly fromEnv?: string;
}

/**
 * A token file's text from a path, `-` (standard input) or an environment
 * variable holding either the JSON itself or a path to it.
 */
export const readTokenDocument = (
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): { name: string; text: string } => {
  if (source === '-') return { name: 'standard input', text: readFileSync(0, 'utf8') };
  if (source.startsWith('env:')) {
    const variable = source.slice(4);
    const value = env[variable];
    if (value === undefined || value.trim() === '')
      throw new Error(`environment variable ${variable} is not set`);
    return value.trim().startsWith('{')
      ? { name: `$${variable}`, text: value }
      : { name: `${value} (from $${variable})`, text: readFileSync(value, 'utf8') };
  }
  return { name: source, text: readFileSync(source, 'utf8') };
};

export const importFiles = async (
  broker: BrokerClient,
  sources: readonly string[],
  options: ImportOptions,
  out: Output,
): Promise<number> => {
  let failed = 0;
  const all = options.fromEnv === undefined ? sources : [...sources, `env:${options.fromEnv}`];
  for (const [index, source] of all.entries()) {
    try {
      const { name, text } = readTokenDocument(source);
      const id =
        options.id === undefined
          ? undefined
          : all.length > 1
            ? `${options.id}-${index + 1}`
            : options.id;
      const reply = await broker.call('credentials.import', {
        document: text,
        ...(options.provider === undefined ? {} : { provider: options.provider }),
        ...(options.pool === undefined ? {} : { pool: options.pool }),
        ...(id === undefined ? {} : { id }),
        ...(options.label === undefined ? {} : { label: options.label }),
      });
      const c = reply.credential;
      if (out.json) {
        out.document({ ok: true, source: name, credential: c, warnings: reply.warnings });
        continue;
      }
      out.line(
        `${out.paint('[ok]', 'green')} ${name}: imported ${c.id} (${c.provider}/${c.pool}, expires ${c.expiresAt})`,
      );
      for (const warning of reply.warnings)
        out.line(`${out.paint('[warn]', 'yellow')} ${c.id}: ${warning}`);
    } catch (error) {
      // An unreachable broker is not one bad file: stop and say so.
      if (error instanceof UnreachableError) throw error;
      failed += 1;
      const code = error instanceof AdminError ? error.code : 'INVALID_FILE';
      const message = error instanceof AdminError ? error.detail : (error as Error).message;
      if (out.json) out.document({ ok: false, source, error: { code, message } });
      else
        out.line(
          `${out.paint('[error]', 'red')} ${source}: ${code === 'INVALID_FILE' ? message : `${code}: ${message}`}`,
        );
    }
  }
  return failed;
};

export const registerImport: Register = (program, context) => {
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
    .option(
      '--from-env <VAR>',
      'also import from an environment variable holding the JSON or a path',
    )
    .option('--json', `${JSON_LINES_HELP}, one per file`)
    .action(async (files: string[], options: ImportOptions & { json?: boolean }) => {
      if (files.length === 0 && options.fromEnv === undefined)
        throw new UsageError('name at least one file or --from-env');
      const out = context.output(options);
      const failed = await context.withBroker((broker) => importFiles(broker, files, options, out));
      if (failed > 0) process.exitCode = ExitCode.brokerError;
    });
};
