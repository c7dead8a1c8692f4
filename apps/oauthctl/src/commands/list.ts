import type { CredentialView } from '@broker/contracts';
import { JSON_HELP, type Register } from '../cli/context.js';
import { table } from '../format/table.js';
import { relativeTime } from '../format/time.js';

export const listRows = (credentials: readonly CredentialView[], now: number): string[][] => [
  ['ID', 'PROVIDER/POOL', 'STATUS', 'STATE', 'EXPIRES', 'LABEL'],
  ...credentials.map((c) => [
    c.id,
    `${c.provider}/${c.pool}`,
    c.status,
    c.state,
    relativeTime(Date.parse(c.expiresAt), now),
    c.label ?? '',
  ]),
];

export const registerList: Register = (program, context) => {
  program
    .command('list')
    .description('every account: id, provider/pool, status, expiry and label (never a token)')
    .option('--provider <name>', 'only this provider')
    .option('--pool <name>', 'only this pool')
    .option('--json', JSON_HELP)
    .action(async (options: { provider?: string; pool?: string; json?: boolean }) => {
      const out = context.output(options);
      const reply = await context.withBroker((broker) =>
        broker.call('credentials.list', {
          ...(options.provider === undefined ? {} : { provider: options.provider }),
          ...(options.pool === undefined ? {} : { pool: options.pool }),
        }),
      );
      if (out.json) {
        out.document(reply);
        return;
      }
      for (const line of table(listRows(reply.credentials, context.now()))) out.line(line);
    });
};
