import { UsageError } from '../cli/exit-codes.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const count = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** A span in the largest unit that still reads precisely: seconds, minutes (< 2 h), hours (< 2 days), days. */
const span = (ms: number): string => {
  if (ms < MINUTE) return count(Math.floor(ms / SECOND), 'second');
  if (ms < 2 * HOUR) return count(Math.floor(ms / MINUTE), 'minute');
  if (ms < 2 * DAY) return count(Math.floor(ms / HOUR), 'hour');
  return count(Math.floor(ms / DAY), 'day');
};

/**
 * `in 59 minutes`, `3 hours ago`, `now`. Rounded down, so that a token never
 * looks valid for longer than it is.
 */
export const relativeTime = (at: number, now: number): string => {
  const ms = at - now;
  if (Math.abs(ms) < SECOND) return 'now';
  return ms > 0 ? `in ${span(ms)}` : `${span(-ms)} ago`;
};

const clockFormat = (timeZone: string | undefined) =>
  new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(timeZone === undefined ? {} : { timeZone }),
  });

const dayFormat = (timeZone: string | undefined) =>
  new Intl.DateTimeFormat('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    ...(timeZone === undefined ? {} : { timeZone }),
  });

/** `10:42` on the same day as `now`, else `3 Jan 2026 10:42`; local time unless a zone is given. */
export const clockTime = (at: number, now: number, timeZone?: string): string => {
  const time = clockFormat(timeZone).format(at);
  const day = dayFormat(timeZone);
  return day.format(at) === day.format(now) ? time : `${day.format(at)} ${time}`;
};

const UNITS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };
const RELATIVE = /^(\d+(?:\.\d+)?)\s*([smhdw])$/;

/**
 * A moment given on the command line: ISO 8601 (`2026-01-01T10:00:00Z`, `2026-01-01`)
 * or how long ago (`90s`, `30m`, `2h`, `7d`, `1w`).
 */
export const parseInstant = (text: string, now: number, what: string): number => {
  const relative = RELATIVE.exec(text.trim());
  if (relative !== null) {
    return now - Number(relative[1]) * (UNITS[relative[2] as string] as number);
  }
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const at = iso.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(at))
    throw new UsageError(
      `${what}: '${text}' is neither an ISO 8601 time (2026-01-01T10:00:00Z) nor a time ago (30m, 2h, 7d)`,
    );
  return at;
};
