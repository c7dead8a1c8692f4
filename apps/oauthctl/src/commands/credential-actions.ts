import { readTokenDocument } from './import.js';
import { JSON_HELP, type Register } from '../cli/context.js';

/** `refresh`, `rotate`, `decommission`, `revoke`: one verb on one credential, one line of result. */
export const registerCredentialActions: Register = (program, context) => {
  program
    .command('refresh')
    .description('refresh a credential now (joins a refresh another replica is running)')
    .argument('<id>', 'credential id')
    .option('--json', JSON_HELP)
    .action(async (id: string, options: { json?: boolean }) => {
      const out = context.output(options);
      const reply = await context.withBroker((broker) =>
        broker.call('credentials.refresh', { id }),
      );
      if (out.json) out.document(reply);
      else
        out.line(
          `${out.paint('[ok]', 'green')} ${id} refreshed (expires ${reply.credential.expiresAt})`,
        );
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
    .option('--json', JSON_HELP)
    .action(
      async (
        id: string,
        options: { successor: string; successorId?: string; graceDays?: number; json?: boolean },
      ) => {
        const out = context.output(options);
        const { text } = readTokenDocument(options.successor);
        const reply = await context.withBroker((broker) =>
          broker.call('credentials.rotate', {
            id,
            successorDocument: text,
            ...(options.successorId === undefined ? {} : { successorId: options.successorId }),
            ...(options.graceDays === undefined ? {} : { graceDays: options.graceDays }),
          }),
        );
        if (out.json) out.document(reply);
        else
          out.line(
            `${out.paint('[ok]', 'green')} ${id} rotated to ${reply.successor.id}; both serve until the grace period ends`,
          );
      },
    );

  for (const [verb, word, what] of [
    [
      'decommission',
      'decommissioned',
      'take an account out of rotation for good (e.g. after rotating it); lease holders get a notice',
    ],
    [
      'revoke',
      'revoked',
      'stop serving an account at once (leaked, closed); lease holders get a notice',
    ],
  ] as const) {
    program
      .command(verb)
      .description(what)
      .argument('<id>', 'credential id')
      .option('--reason <text>', 'why, kept in the log and shown by status')
      .option('--json', JSON_HELP)
      .action(async (id: string, options: { reason?: string; json?: boolean }) => {
        const out = context.output(options);
        const reply = await context.withBroker((broker) =>
          broker.call(`credentials.${verb}`, {
            id,
            ...(options.reason === undefined ? {} : { reason: options.reason }),
          }),
        );
        if (out.json) out.document(reply);
        else
          out.line(
            `${out.paint('[ok]', 'green')} ${id} ${word}: ${reply.credential.statusReason ?? word}`,
          );
      });
  }
};
