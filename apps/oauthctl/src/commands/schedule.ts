import type { AdminReply, ScheduleEntry } from '@broker/contracts';
import { JSON_HELP, type Register } from '../cli/context.js';

export type ScheduleListReply = AdminReply<'schedule.list'>;

const inWords = (ms: number): string => {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const span = minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
  return ms >= 0 ? `in ${span}` : `${span} overdue`;
};

/** One line per account: `work1  refresh in 12 min (default: 5 min before expiry)`. */
export const formatScheduleEntry = (entry: ScheduleEntry, now: number): string => {
  const when = entry.refreshing
    ? 'refreshing now'
    : entry.nextRefreshAt === null
      ? 'no refresh'
      : `refresh ${inWords(Date.parse(entry.nextRefreshAt) - now)}`;
  return `${entry.credentialId.padEnd(24)} ${when} (${entry.reason})`;
};

export const registerSchedule: Register = (program, context) => {
  program
    .command('schedule')
    .description('next refresh per account, its strategy and why (from the refresh scheduler)')
    .option('--provider <name>', 'only this provider')
    .option('--json', JSON_HELP)
    .action(async (options: { provider?: string; json?: boolean }) => {
      const out = context.output(options);
      const reply = await context.withBroker((broker) =>
        broker.call(
          'schedule.list',
          options.provider === undefined ? {} : { provider: options.provider },
        ),
      );
      if (out.json) {
        out.document(reply);
        return;
      }
      out.line(`leader: ${reply.leader.holder} (term ${reply.leader.term})`);
      const now = context.now();
      for (const entry of reply.schedule) out.line(formatScheduleEntry(entry, now));
    });
};
