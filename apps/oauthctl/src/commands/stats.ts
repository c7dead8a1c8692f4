import type { CredentialMetrics } from '@broker/contracts';
import { JSON_HELP, type Register } from '../cli/context.js';
import { groupByPool } from '../format/status-line.js';
import { table } from '../format/table.js';
import { relativeTime } from '../format/time.js';

const number = new Intl.NumberFormat('en-US');

/** One account's numbers as table cells: leases, requests, success rate, tokens, last used. */
export const statsCells = (metrics: CredentialMetrics, now: number): string[] => [
  number.format(metrics.leases),
  number.format(metrics.requests),
  metrics.successRate === null ? '—' : `${(metrics.successRate * 100).toFixed(1)}%`,
  number.format(metrics.tokensUsed),
  metrics.lastUsedAt === null ? 'never' : relativeTime(Date.parse(metrics.lastUsedAt), now),
];

/** Sums a pool's accounts into one row, the success rate weighted by requests. */
export const poolTotals = (all: readonly CredentialMetrics[]): CredentialMetrics => {
  const sum = (pick: (m: CredentialMetrics) => number) => all.reduce((n, m) => n + pick(m), 0);
  const requests = sum((m) => m.requests);
  const successes = sum((m) => m.successes);
  const lastUsed = all
    .map((m) => m.lastUsedAt)
    .filter((at): at is string => at !== null)
    .sort()
    .at(-1);
  return {
    leases: sum((m) => m.leases),
    requests,
    successes,
    failures: sum((m) => m.failures),
    successRate: requests === 0 ? null : successes / requests,
    byStatus: {},
    tokensUsed: sum((m) => m.tokensUsed),
    averageLatencyMs: null,
    lastUsedAt: lastUsed ?? null,
  };
};

const HEADER = ['ACCOUNT', 'LEASES', 'REQUESTS', 'SUCCESS', 'TOKENS', 'LAST USED'];

export const registerStats: Register = (program, context) => {
  program
    .command('stats')
    .description(
      'usage per account, like the desktop clients’ bucket statistics: leases, requests, success rate, tokens used, last used',
    )
    .option('--provider <name>', 'only this provider')
    .option('--pool <name>', 'only this pool')
    .option('--json', JSON_HELP)
    .action(async (options: { provider?: string; pool?: string; json?: boolean }) => {
      const out = context.output(options);
      const reply = {
        credentials: await context.withBroker((broker) =>
          broker.credentialStatus({
            ...(options.provider === undefined ? {} : { provider: options.provider }),
            ...(options.pool === undefined ? {} : { pool: options.pool }),
          }),
        ),
      };
      if (out.json) {
        out.document({
          ok: true,
          credentials: reply.credentials.map((entry) => ({
            id: entry.credential.id,
            provider: entry.credential.provider,
            pool: entry.credential.pool,
            metrics: entry.metrics,
          })),
        });
        return;
      }
      const now = context.now();
      for (const group of groupByPool(reply.credentials)) {
        out.line(out.paint(`${group.provider}/${group.pool}`, 'bold'));
        const rows = group.members.map((m) => [m.credential.id, ...statsCells(m.metrics, now)]);
        const total = [
          '(pool)',
          ...statsCells(poolTotals(group.members.map((m) => m.metrics)), now),
        ];
        for (const line of table([HEADER, ...rows, total], '  ')) out.line(line);
      }
    });
};
