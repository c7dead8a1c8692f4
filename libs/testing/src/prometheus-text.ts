/** One sample of a Prometheus text exposition. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses `/metrics` text into samples (comments and HELP/TYPE lines skipped). */
export const parseMetrics = (text: string): MetricSample[] =>
  text.split('\n').flatMap((line) => {
    if (line.startsWith('#')) return [];
    const match = SAMPLE.exec(line);
    if (match === null) return [];
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL))
      labels[key as string] = (value as string).replace(/\\(.)/g, '$1');
    return [{ name: match[1] as string, labels, value: Number(match[3]) }];
  });

/**
 * The sum of a metric's samples whose labels include `labels`; undefined when
 * no sample matches (a gauge without a reading, a counter never touched).
 */
export const metricValue = (
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined => {
  const matching = parseMetrics(text).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
};
