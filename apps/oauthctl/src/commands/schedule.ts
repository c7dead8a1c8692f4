import type { AdminReply, ScheduleEntry } from '@broker/contracts';

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
