import { JSON_HELP, type Register } from '../cli/context.js';
import type { ReplayOptions } from './replay-run.js';

export const registerReplay: Register = (program, context) => {
  program
    .command('replay')
    .description(
      'fold the whole event log from Postgres with the services’ own evolve, checking every stream’s hash chain',
    )
    .option(
      '--verify',
      'check every hash chain, that every event parses and folds, and that the folded credentials match the live token service and the folded alerts and webhook endpoints the live alerting service; exit 4 naming the first bad event',
    )
    .option('--no-live', 'with --verify: do not compare with the live services')
    .option(
      '--until <time>',
      'the state of every credential and alert at that moment, from the events recorded up to it (ISO 8601 or ago: 2h)',
    )
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      `
Reads DATABASE_URL (default postgres://postgres@127.0.0.1:5432/oauth_broker) and,
for the comparison, asks the token service and the alerting service over NATS
(exit 3 if either does not answer). With --until, the chains are checked up to
that moment and the state is not compared with the live one.`,
    )
    .action(async (options: ReplayOptions) => {
      const { runReplay } = await import('./replay-run.js');
      await runReplay(options, context);
    });
};
