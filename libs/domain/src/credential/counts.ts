/** The largest array index: a key this far out makes V8 keep an object's integer keys in a dictionary. */
const FAR = String(2 ** 32 - 2);

/**
 * An empty object for counts keyed by numbers, such as HTTP statuses. V8 gives
 * an ordinary object whose first integer key is 429 a dense backing array of
 * some 430 slots, about 5 KiB per credential; an object whose integer keys are
 * kept in a dictionary (as `JSON.parse` makes them) holds two counts in about
 * 200 bytes. Reads, writes and JSON are the same either way.
 */
export const emptyCounts = (): Record<string, number> => {
  const counts: Record<string, number> = {};
  counts[FAR] = 0;
  Reflect.deleteProperty(counts, FAR);
  return counts;
};

/** Copies counts into an object made by `emptyCounts`, adding `more` on top. */
export const addCounts = (
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>> = {},
): Record<string, number> => {
  const sum = emptyCounts();
  for (const [key, n] of Object.entries(a)) sum[key] = n;
  for (const [key, n] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
};
