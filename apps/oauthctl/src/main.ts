#!/usr/bin/env node
import { Command } from 'commander';
import type { Register } from './cli/context.js';
import { processContext } from './cli/process-context.js';
import {
  AdminError,
  EXIT_CODES_HELP,
  exitCodeFor,
  isCommanderParseError,
  VerificationFailed,
} from './cli/exit-codes.js';
import { registerAdd } from './commands/add.js';
import { registerAudit } from './commands/audit.js';
import { registerCredentialActions } from './commands/credential-actions.js';
import { registerImport } from './commands/import.js';
import { registerList } from './commands/list.js';
import { registerLogin } from './commands/login.js';
import { registerReplay } from './commands/replay.js';
import { registerSchedule } from './commands/schedule.js';
import { registerStats } from './commands/stats.js';
import { registerStatus } from './commands/status.js';
import { registerAlerts, registerWebhooks } from './commands/webhooks.js';

const program = new Command()
  .name('oauthctl')
  .description(
    'Operate the OAuth token broker over NATS (NATS_URL, BROKER_SUBJECT_ROOT, BROKER_CONFIG as the services; DATABASE_URL for replay)',
  )
  .showHelpAfterError()
  .exitOverride() // before the commands, so that they inherit it: exit codes are decided below
  .addHelpText(
    'after',
    `
Every command takes --json for machine output and --help for its options.
Colours only when standard output is a terminal and NO_COLOR is not set.

${EXIT_CODES_HELP}`,
  );

const commands: Register[] = [
  registerStatus,
  registerList,
  registerStats,
  registerAdd,
  registerImport,
  registerLogin,
  registerCredentialActions,
  registerSchedule,
  registerAudit,
  registerReplay,
  registerWebhooks,
  registerAlerts,
];
const context = processContext();
for (const register of commands) register(program, context);

// `oauthctl audit | head`: a reader that stops early is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const wantsJson = process.argv.includes('--json');

program.parseAsync(process.argv).then(
  () => undefined,
  (error: unknown) => {
    process.exitCode = exitCodeFor(error);
    // Commander printed its own parse errors and help; a verification printed its report.
    if (isCommanderParseError(error) || error instanceof VerificationFailed) return;
    const code =
      error instanceof AdminError
        ? error.code
        : (({ 2: 'USAGE', 3: 'UNREACHABLE' } as Record<number, string>)[process.exitCode] ??
          'ERROR');
    const message = error instanceof AdminError ? error.detail : (error as Error).message;
    if (wantsJson)
      process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
    process.stderr.write(`oauthctl: ${error instanceof Error ? error.message : String(error)}\n`);
  },
);
