import { InvalidArgumentError } from 'commander';
import type { AdminReply, AuditLease } from '@broker/contracts';
import type { BrokerClient } from '../cli/broker-client.js';
import { JSON_LINES_HELP, type Register } from '../cli/context.js';
import { UsageError } from '../cli/exit-codes.js';
import { AUDIT_CSV_HEADER, auditCsvRow } from '../format/audit-csv.js';
import { csvRow } from '../format/csv.js';
import { parseInstant } from '../format/time.js';

export interface AuditQuery {
  readonly client?: string;
  readonly credentialId?: string;
  readonly from?: string;
  readonly to?: string;
}

/** Every lease the query matches, page by page, oldest first; stops after `limit` if given. */
export async function* auditLeases(
  broker: BrokerClient,
  query: AuditQuery,
  pageSize: number,
  limit?: number,
): AsyncGenerator<AuditLease> {
  let after: string | null = null;
  let given = 0;
  do {
    const want = limit === undefined ? pageSize : Math.min(pageSize, limit - given);
    if (want <= 0) return;
    const page: AdminReply<'audit.leases'> = await broker.call('audit.leases', {
      ...query,
      limit: want,
      ...(after === null ? {} : { after }),
    });
    for (const lease of page.leases) {
      given += 1;
      yield lease;
    }
    after = page.next;
  } while (after !== null);
}

const positive = (max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
  return n;
};

interface AuditOptions {
  client?: string;
  credential?: string;
  since?: string;
  until?: string;
  csv?: boolean;
  json?: boolean;
  limit?: number;
  pageSize: number;
}

export const registerAudit: Register = (program, context) => {
  program
    .command('audit')
    .description(
      'who held which account’s token when, and why it was chosen: every lease, oldest first',
    )
    .option('--client <name>', 'only leases of this client')
    .option('--credential <id>', 'only leases of this account')
    .option('--since <time>', 'from this time on, inclusive: ISO 8601 or ago (30m, 2h, 7d)')
    .option('--until <time>', 'before this time, exclusive: ISO 8601 or ago (30m, 2h, 7d)')
    .option('--csv', 'CSV with a header row instead of JSON lines')
    .option('--json', `${JSON_LINES_HELP} (the default)`)
    .option('--limit <n>', 'at most this many leases', positive(Number.MAX_SAFE_INTEGER))
    .option('--page-size <n>', 'leases asked for per request', positive(10_000), 1000)
    .addHelpText(
      'after',
      `
Each JSON line is one lease: leaseId, client, provider, pool, credentialId, leasedAt,
expiresAt, model, replica, and selection (policy, position, candidates, halfOpenTrial,
skipped: the accounts passed over and why).

Example: which clients held work1 in the last two hours, as CSV
  oauthctl audit --credential work1 --since 2h --csv`,
    )
    .action(async (options: AuditOptions) => {
      if (options.csv === true && options.json === true)
        throw new UsageError('choose one of --csv and --json');
      const now = context.now();
      const query: AuditQuery = {
        ...(options.client === undefined ? {} : { client: options.client }),
        ...(options.credential === undefined ? {} : { credentialId: options.credential }),
        ...(options.since === undefined
          ? {}
          : { from: new Date(parseInstant(options.since, now, '--since')).toISOString() }),
        ...(options.until === undefined
          ? {}
          : { to: new Date(parseInstant(options.until, now, '--until')).toISOString() }),
      };
      const write = (text: string) => process.stdout.write(text);
      await context.withBroker(async (broker) => {
        if (options.csv === true) write(csvRow(AUDIT_CSV_HEADER));
        for await (const lease of auditLeases(broker, query, options.pageSize, options.limit))
          write(options.csv === true ? auditCsvRow(lease) : `${JSON.stringify(lease)}\n`);
      });
    });
};
