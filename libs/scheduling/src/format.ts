/** Durations as operators read them in `schedule.list` and `oauthctl schedule`. */

const trim = (value: number): string => value.toFixed(1).replace(/\.0$/, '');

/** 45 s, 7.5 min, 2.5 h. */
export const formatSeconds = (seconds: number): string => {
  const s = Math.max(0, seconds);
  if (s < 120) return `${trim(s)} s`;
  if (s < 2 * 3600) return `${trim(s / 60)} min`;
  return `${trim(s / 3600)} h`;
};

/** 850 ms, 1.2 s. */
export const formatLatency = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${trim(ms / 1000)} s`;

export const formatPercent = (fraction: number): string => `${trim(fraction * 100)} %`;
