import { addCounts, emptyCounts } from './counts.js';

describe('counts by status', () => {
  it('start empty, as JSON and as keys', () => {
    const counts = emptyCounts();

    expect(Object.keys(counts)).toEqual([]);
    expect(JSON.stringify(counts)).toBe('{}');
  });

  it('add window counts to totals, keys of either side kept', () => {
    const sum = addCounts({ '200': 5, '429': 1 }, { '200': 2, '500': 3 });

    expect(sum).toEqual({ '200': 7, '429': 1, '500': 3 });
    expect(JSON.parse(JSON.stringify(sum))).toEqual({ '200': 7, '429': 1, '500': 3 });
  });

  it('copy without changing the original', () => {
    const original = { '401': 1 };
    const copy = addCounts(original);
    copy['401'] = 9;

    expect(original).toEqual({ '401': 1 });
    expect(addCounts({}, {})).toEqual({});
  });
});
